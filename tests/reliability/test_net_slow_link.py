"""A network slower than the audio: nothing fails, so the user must be told why the captions come late.

Over a link slower than the audio (the fault proxy's limit, from the start) the socket's buffers fill and every
caption comes later than the one before; the heartbeat's ping waits behind that audio, so its round trip shows the
delay, and past a threshold (2 s by default, 0.5 s here) the engine says so once. AssemblyAI's 16-bit audio needs
32 kB/s: over 20 kB/s it is told, with the remedy (µ-law needs 16 kB/s, which the same link carries with no delay
and no notice). Uhlive's 8 kHz audio needs 16 kB/s: over 12 kB/s both Uhlive engines tell it, over 20 kB/s not.
The five runs caption the same reading at once (≈ 8 s).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from captioner.engines.wire.connect import SocketSettings
from tests.support.netfault import CloudEngine, Run, caption, speech_clip, target

HEARTBEAT = SocketSettings(open_timeout=2.0, ping_interval=0.25, ping_timeout=4.0)
"""Frequent pings, and long enough for their pongs that a slow link is not taken for a dead one."""


def sooner(engine: CloudEngine) -> None:
    engine.slow_link.after = 0.5


async def over(engine: str, clip: Path, bytes_per_second: int, encoding: str | None = None) -> Run:
    async with target(engine, clip) as tgt:
        if encoding is not None:
            base = tgt.options
            tgt.options = lambda url: dataclasses.replace(base(url), extra={**base(url).extra, "encoding": encoding})
        tgt.proxy.limit(bytes_per_second)
        return await caption(tgt, clip, socket=HEARTBEAT, setup=sooner)


async def test_a_link_slower_than_the_audio_is_said_once_with_the_remedy(tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "clip.wav", 4.0)
    pcm16, mulaw, uhlive_slow, uhlive_ok, h2b_slow = await asyncio.gather(
        over("assemblyai", clip, 20_000, "pcm_s16le"),
        over("assemblyai", clip, 20_000, "pcm_mulaw"),
        over("uhlive", clip, 12_000),
        over("uhlive", clip, 20_000),
        over("uhlive-h2b", clip, 12_000),
    )
    runs = (("16-bit", pcm16), ("µ-law", mulaw), ("Uhlive 12 kB/s", uhlive_slow), ("Uhlive", uhlive_ok))
    for name, run in (*runs, ("H2B 12 kB/s", h2b_slow)):
        print(f"\n{name}: {run.messages()}; lines {run.lines()}")
        assert run.error is None, name
    slow = [m for m in pcm16.messages() if "network is slow" in m]
    assert len(slow) == 1, pcm16.messages()
    assert "needs 32 kB/s" in slow[0] and "pcm_mulaw" in slow[0]
    assert mulaw.messages() == []
    assert pcm16.lines() == mulaw.lines() != []
    slow = [m for m in uhlive_slow.messages() if "network is slow" in m]
    assert len(slow) == 1 and "needs 16 kB/s" in slow[0], uhlive_slow.messages()
    assert uhlive_ok.messages() == []
    assert uhlive_slow.lost_and_extra(uhlive_ok) == ([], [])
    # H2B checks on each of its messages (they are sparse: one per line); its times follow the wall clock, so a
    # late link shifts them (documented as approximate): only the notice is checked.
    assert [m for m in h2b_slow.messages() if "network is slow" in m], h2b_slow.messages()
