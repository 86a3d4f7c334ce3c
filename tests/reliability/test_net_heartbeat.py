"""A dead link (a stall with no FIN or RST) is noticed by the cloud engines' default heartbeat, well within 30 s.

Each engine captions real speech through a :class:`~tests.support.faultproxy.FaultProxy` with its default socket
settings; the proxy stops forwarding (both ways, sockets kept open) after a second of audio. The engines must report
the lost connection within their heartbeat's bound (``SocketSettings.stall_noticed_within``, at most 10 s), and
the session must reconnect and caption on once the link is back. The three engines run at once (≈ 13 s in all).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from captioner.engines.assemblyai.engine import AssemblyAIEngine
from captioner.engines.base import Credentials, EngineOptions
from captioner.engines.uhlive.conversation import UhliveConversationEngine
from captioner.engines.uhlive.h2b import UhliveH2BEngine
from tests.support.netfault import ENGINES, CloudEngine, Run, Target, caption, speech_clip, target

BOUND = 10.0
"""The longest a stall may go unnoticed with the default settings (seconds)."""


def test_default_heartbeat_notices_a_stall_within_ten_seconds() -> None:
    engines: list[CloudEngine] = [
        AssemblyAIEngine(EngineOptions(), Credentials(api_key="k")),
        UhliveConversationEngine(EngineOptions(), Credentials(client_id="c", client_secret="s")),
        UhliveH2BEngine(EngineOptions(), Credentials(client_id="c", client_secret="s")),
    ]
    for engine in engines:
        assert engine.socket.stall_noticed_within <= BOUND, engine.id


async def stall_until_noticed(tgt: Target, run: Run) -> float:
    loop = asyncio.get_running_loop()
    await tgt.proxy.wait_upstream(tgt.bytes_per_second)
    run.fault_start = loop.time()
    tgt.proxy.stall()
    while loop.time() - run.fault_start < BOUND + 2.0 and run.noticed() is None:
        await asyncio.sleep(0.05)
    tgt.proxy.clear()
    return loop.time()


async def test_a_stall_is_noticed_by_the_default_heartbeat(tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "clip.wav", 2.5)  # "ever tried, ever failed": one line

    async def one(name: str) -> tuple[str, Run]:
        async with target(name, clip) as tgt:
            # The end of the session may not be waited for long: only the heartbeat can notice the stall.
            return name, await caption(tgt, clip, stall_until_noticed, socket=None, end_wait=30.0)

    runs = dict(await asyncio.gather(*(one(name) for name in ENGINES)))
    for name, run in runs.items():
        print(f"\n{name}: stall noticed after {run.noticed()} s; messages {run.messages()}; lines {run.lines()}")
    for name, run in runs.items():
        noticed = run.noticed()
        assert noticed is not None and noticed <= BOUND + 0.5, name
        assert any("lost" in m for m in run.messages()), name
        assert run.error is None, name
        assert run.lines(), name
