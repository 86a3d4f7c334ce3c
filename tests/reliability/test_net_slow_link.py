"""A network slower than the audio: nothing fails, so the user must be told why the captions come late.

AssemblyAI's 16-bit audio needs 32 kB/s. Over a 20 kB/s link (the fault proxy's limit, from the start) the
socket's buffers fill and every caption comes later than the one before; the heartbeat's ping waits behind that
audio, so its round trip shows the delay, and past a threshold (2 s by default, 0.5 s here) the engine says so
once, with the remedy: µ-law audio needs 16 kB/s, which the same link carries with no delay and no notice. Both
runs caption the same reading at once (≈ 8 s).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from captioner.engines.assemblyai.engine import AssemblyAIEngine
from captioner.engines.wire.connect import SocketSettings
from tests.support.netfault import CloudEngine, Run, caption, speech_clip, target

HEARTBEAT = SocketSettings(open_timeout=2.0, ping_interval=0.25, ping_timeout=4.0)
"""Frequent pings, and long enough for their pongs that a slow link is not taken for a dead one."""


def sooner(engine: CloudEngine) -> None:
    assert isinstance(engine, AssemblyAIEngine)
    engine.slow_link_after = 0.5


async def test_a_link_slower_than_the_audio_is_said_once_with_the_remedy(tmp_path: Path) -> None:
    clip = speech_clip(tmp_path / "clip.wav", 4.0)

    async def over_20_kb_s(encoding: str) -> Run:
        async with target("assemblyai", clip) as tgt:
            base = tgt.options
            tgt.options = lambda url: dataclasses.replace(base(url), extra={**base(url).extra, "encoding": encoding})
            tgt.proxy.limit(20_000)
            return await caption(tgt, clip, socket=HEARTBEAT, setup=sooner)

    pcm16, mulaw = await asyncio.gather(over_20_kb_s("pcm_s16le"), over_20_kb_s("pcm_mulaw"))
    print(f"\n16-bit over 20 kB/s: {pcm16.messages()}; lines {pcm16.lines()}")
    print(f"µ-law over 20 kB/s: {mulaw.messages()}; lines {mulaw.lines()}")
    slow = [m for m in pcm16.messages() if "network is slow" in m]
    assert len(slow) == 1, pcm16.messages()
    assert "needs 32 kB/s" in slow[0] and "pcm_mulaw" in slow[0]
    assert mulaw.messages() == []
    assert pcm16.error is None and mulaw.error is None
    assert pcm16.lines() == mulaw.lines() != []
