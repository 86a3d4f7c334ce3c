"""Network faults, measured: each cloud engine captions human speech through a fault-injecting proxy.

For AssemblyAI, Uhlive Stream Conversation and Uhlive Stream H2B (each against its faithful fake on 127.0.0.1),
a clean run and one run per fault caption the same reading; every fault starts in the middle of the first line
and ends while the reader goes on. Each run must end with exactly the clean run's committed lines (same texts,
same source times: no final lost, none duplicated), show the user the reason when the connection broke (an
``EngineError`` with a plain message), and recover: the time from the end of the fault to the next final or to
the engine listening again is printed and bounded. The runs of an engine go at once (≈ 10 s per engine); the
engines' heartbeat and handshake timeout are scaled down (``netfault.FAST_SOCKET``) where the fault needs them.

Faults: connection refused (nothing listens for 1 s, open connections reset), reset mid-stream (after N bytes),
a stall with no FIN (1.5 s, both ways), a 20 kB/s link (2 s), 500 ms of delay each way (2 s), DNS failure (the
engine's host does not resolve for 1 s: ``*.invalid``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from captioner.engines.wire.connect import SocketSettings
from tests.support.netfault import (
    CLIP_SECONDS,
    ENGINES,
    FAST_SOCKET,
    Run,
    Target,
    caption,
    speech_clip,
    target,
)

FAULT_AT = 1.2
"""Seconds of audio sent when a fault starts (the middle of the first line)."""
DEFAULT_SOCKET = SocketSettings(open_timeout=0.6)
"""The default heartbeat (5 s), for the faults a working link survives: pings must not cut a slow or late link."""
NO_HEARTBEAT = SocketSettings(open_timeout=0.6, ping_interval=30.0)
"""A heartbeat too slow to notice anything during a run: what the end-of-session timeouts alone do."""
BAD_HOST = "captioner-netfault.invalid"


@dataclass(frozen=True, kw_only=True)
class Fault:
    run: Callable[[Target, Run, dict[str, bool]], Awaitable[float]]
    """Switches the fault on and off on the target's proxy; returns the loop time it ended."""
    message: str | None
    """What the user must be told (part of an ``EngineError``), ``None`` when the link stays up."""
    socket: SocketSettings = FAST_SOCKET
    end_wait: float | None = None
    """How long the engine waits for the end of its session to be confirmed (``None``: its default)."""
    recovery_bound: float = 3.0


async def _start(tgt: Target, run: Run) -> None:
    await tgt.proxy.wait_upstream(int(FAULT_AT * tgt.bytes_per_second))
    run.fault_start = asyncio.get_running_loop().time()


async def refused(tgt: Target, run: Run, _dns: dict[str, bool]) -> float:
    await _start(tgt, run)
    await tgt.proxy.refuse()
    tgt.proxy.reset()
    await asyncio.sleep(1.0)
    await tgt.proxy.listen()
    return asyncio.get_running_loop().time()


async def reset(tgt: Target, run: Run, _dns: dict[str, bool]) -> float:
    run.fault_start = None
    tgt.proxy.reset(after_bytes=int(FAULT_AT * tgt.bytes_per_second))
    await tgt.proxy.wait_upstream(int(FAULT_AT * tgt.bytes_per_second))
    run.fault_start = asyncio.get_running_loop().time()
    return run.fault_start


def for_a_while(seconds: float, switch_on: Callable[[Target], None]) -> Callable[..., Awaitable[float]]:
    """A fault of the link itself: on at :data:`FAULT_AT`, off ``seconds`` later."""

    async def fault(tgt: Target, run: Run, _dns: dict[str, bool]) -> float:
        await _start(tgt, run)
        switch_on(tgt)
        await asyncio.sleep(seconds)
        tgt.proxy.clear()
        return asyncio.get_running_loop().time()

    return fault


stall = for_a_while(1.5, lambda t: t.proxy.stall())
slow_link = for_a_while(2.0, lambda t: t.proxy.limit(20_000))
delayed = for_a_while(2.0, lambda t: t.proxy.delay(0.5))


async def dns_failure(tgt: Target, run: Run, dns: dict[str, bool]) -> float:
    await _start(tgt, run)
    dns["down"] = True
    tgt.proxy.reset()
    await asyncio.sleep(1.0)
    dns["down"] = False
    return asyncio.get_running_loop().time()


async def stall_at_the_end(tgt: Target, run: Run, _dns: dict[str, bool]) -> float:
    """A dead link just before the last line is final, until the user is told (at most 12 s)."""
    loop = asyncio.get_running_loop()
    await tgt.proxy.wait_upstream(int((CLIP_SECONDS - 1.1) * tgt.bytes_per_second))
    start = run.fault_start = loop.time()
    tgt.proxy.stall()
    while run.noticed() is None and loop.time() - start < 12.0:
        await asyncio.sleep(0.05)
    tgt.proxy.clear()
    return loop.time()


FAULTS = {
    "refused": Fault(run=refused, message="Connection refused"),
    "reset": Fault(run=reset, message="lost"),
    "stall": Fault(run=stall, message="lost"),
    "20 kB/s": Fault(run=slow_link, message=None, socket=DEFAULT_SOCKET, recovery_bound=4.0),
    "delay 500 ms": Fault(run=delayed, message=None, socket=DEFAULT_SOCKET, recovery_bound=4.0),
    "dns": Fault(run=dns_failure, message="its name could not be looked up"),
    # The engine stops waiting for the end of the session before its heartbeat notices the dead link.
    "stall at end": Fault(run=stall_at_the_end, message="did not confirm the end", socket=NO_HEARTBEAT, end_wait=0.3),
}


async def _faulty(tgt: Target, clip: Path, fault: Fault) -> Run:
    dns = {"down": False}

    def endpoint(_attempt: int) -> str:
        return f"ws://{BAD_HOST}:{tgt.proxy.port}" if dns["down"] else tgt.proxy.url()

    return await caption(
        tgt,
        clip,
        lambda t, r: fault.run(t, r, dns),
        endpoint=endpoint,
        socket=fault.socket,
        end_wait=fault.end_wait,
        timeout=30.0,
    )


@pytest.mark.parametrize("engine", ENGINES)
async def test_network_faults_lose_and_duplicate_no_final(engine: str, tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "clip.wav")

    async def clean() -> Run:
        async with target(engine, clip) as tgt:
            return await caption(tgt, clip)

    async def one(name: str, fault: Fault) -> tuple[str, Run]:
        async with target(engine, clip) as tgt:
            return name, await _faulty(tgt, clip, fault)

    clean_run = asyncio.ensure_future(clean())
    results = await asyncio.gather(*(one(name, fault) for name, fault in FAULTS.items()))
    reference = await clean_run
    assert reference.error is None and len(reference.lines()) >= 2, reference.lines()
    expected = reference.lines()
    print(f"\n{engine}: clean run {expected}")
    failures = []
    for name, run in results:
        lost, extra = run.lost_and_extra(reference)
        errors = [m for m in run.messages() if m]
        recovery = run.recovery()
        shown = " / ".join(dict.fromkeys(errors)) or "(none)"
        rec = "none" if recovery is None else f"{recovery:.2f} s"
        print(f"{engine:10} {name:13} recovery {rec:8} lost {len(lost)} duplicated {len(extra)}  told: {shown}")
        fault = FAULTS[name]
        if run.error is not None:
            failures.append(f"{name}: the session failed: {run.error}")
        if lost or extra:
            failures.append(f"{name}: lost {lost}, extra {extra}")
        if fault.message is not None and not any(fault.message in m for m in errors):
            failures.append(f"{name}: the user was not told ({errors})")
        if fault.message is None and errors:
            failures.append(f"{name}: a link that kept working was reported broken ({errors})")
        if recovery is None or recovery > fault.recovery_bound:
            failures.append(f"{name}: recovery {recovery} s (bound {fault.recovery_bound} s)")
    assert not failures, "\n".join(failures)
