"""Hours of human speech on the event loop's clock, each 50 ms block stamped with where it sits.

Owns :class:`LoopedSpeech`, an audio source of the Beckett reading looped for as long as asked, delivered at 1× on
the running loop's clock in 1 s chunks (on a :class:`~tests.support.virtual_clock.VirtualClockLoop`, hours in
seconds), and :func:`block_index`, the fake AssemblyAI's ``position`` hook: the first two samples of every 50 ms
block hold the block's index, so the fake knows where any connection's first frame sits on the source timeline
without a reference recording of hours. :func:`caption_for` runs a real Session with the AssemblyAI engine over
it, against the fake (which enforces the session limit and the real-time rate on the loop's clock).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from captioner.audio.base import AudioChunk, AudioSource
from captioner.audio.file import read_wav
from captioner.captions.events import CaptionEvent, Final
from captioner.engines.assemblyai.engine import AssemblyAIEngine
from captioner.engines.base import Credentials, EngineOptions
from captioner.session.session import Session
from tests.support.fakes.assemblyai import FakeAssemblyAI, ScriptTurn
from tests.support.speech import speech_wav

RATE = 16000
BLOCK = RATE // 20  # 50 ms
KEY = "looped-speech-key-0123456789"


def block_index(frame: bytes, rate: int) -> float | None:
    """Where a frame that starts on a block sits on the source timeline (s), from the index written in it."""
    return int.from_bytes(frame[:4], "little") * BLOCK / rate if len(frame) >= 4 else None


class LoopedSpeech(AudioSource):
    """``seconds`` of the Beckett reading, looped, at 1× on the loop's clock in 1 s chunks (see the module)."""

    sample_rate = RATE
    description = "the Beckett reading, looped"

    def __init__(self, seconds: float) -> None:
        samples = np.asarray(read_wav(speech_wav("beckett.wav"))[0], dtype=np.float32)
        self.clip = (np.clip(samples, -1, 1) * 32767).astype("<i2")
        self.seconds = seconds
        self.closed = False

    def pcm(self, second: int) -> bytes:
        """The audio of source second ``second``, its blocks stamped."""
        block = np.take(self.clip, (np.arange(RATE) + second * RATE) % len(self.clip))
        stamps = np.arange(RATE // BLOCK, dtype="<u4") + second * (RATE // BLOCK)
        words = block.view("<u2").copy()
        words[0::BLOCK] = stamps & 0xFFFF
        words[1::BLOCK] = stamps >> 16
        return words.tobytes()

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for second in range(int(self.seconds)):
            await asyncio.sleep(max(0.0, t0 + second + 1 - loop.time()))
            if self.closed:
                return
            yield AudioChunk(self.pcm(second), RATE, float(second), time.monotonic())

    async def close(self) -> None:
        self.closed = True


@dataclass
class HoursRun:
    """What :func:`caption_for` saw: every event, the fake (its connections), and the session's error if any."""

    fake: FakeAssemblyAI
    events: list[CaptionEvent] = field(default_factory=list)
    error: BaseException | None = None

    def finals(self) -> dict[str, Final]:
        """The last version of each committed line, by line id, in the order the lines were committed."""
        out: dict[str, Final] = {}
        for e in self.events:
            if isinstance(e, Final):
                out[e.line_id] = e
        return out

    def words(self) -> list[tuple[str, float, float]]:
        """Every committed word: text, start, end (source seconds)."""
        return [(w.text, w.start, w.end) for f in self.finals().values() for w in f.words]


async def caption_for(script: tuple[ScriptTurn, ...], seconds: float, *, limit: float) -> HoursRun:
    """``seconds`` of looped speech through a Session and the AssemblyAI engine (1 s frames) into a fake that
    "hears" ``script`` and ends a session after ``limit`` seconds (the vendor's 3 hours)."""
    fake = FakeAssemblyAI(
        keys=(KEY,), script=script, formatting="in-place", max_session_s=limit, position=block_index, keep_audio=False
    )
    result = HoursRun(fake)
    async with fake:
        session = Session(
            LoopedSpeech(seconds),
            lambda opts: AssemblyAIEngine(opts, Credentials(api_key=KEY)),
            EngineOptions(endpoint=fake.url, extra={"chunk_ms": "1000"}),
            on_event=result.events.append,
        )
        try:
            await session.run()
        except Exception as exc:
            result.error = exc
    return result
