"""Three hours of AssemblyAI captioning on a simulated clock, through the session's rollover.

An AssemblyAI session lasts at most 3 hours (``docs/assemblyai.md``), so the engine opens the next session two
minutes before the expiry its ``Begin`` announces and hands the audio over. Here a real Session captions 3 h 1 min
of the Beckett reading, looped and paced at 1× on a :class:`~tests.support.virtual_clock.VirtualClockLoop`
(hours in seconds; real sockets to the fake AssemblyAI on 127.0.0.1, which enforces the 3-hour limit and the
real-time rate on the same clock). The fake "hears" a scripted turn every 20 s, and one long turn across the
moment of the handover. Every scripted word must be committed exactly once, at its time, and every sample of
the source must reach exactly one session, with no error shown.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np

from captioner.audio.base import AudioChunk, AudioSource
from captioner.audio.file import read_wav
from captioner.captions.events import CaptionEvent, EngineError, Final, Status
from captioner.engines.assemblyai.connection import ROLLOVER_MARGIN
from captioner.engines.assemblyai.engine import AssemblyAIEngine
from captioner.engines.base import Credentials, EngineOptions
from captioner.session.session import Session
from tests.support.fakes.assemblyai import FakeAssemblyAI, ScriptTurn, make_turn
from tests.support.speech import speech_wav
from tests.support.virtual_clock import run

RATE = 16000
BLOCK = RATE // 20  # 50 ms: every block of the source carries its index in its first two samples
LIMIT = 3 * 3600.0
SECONDS = LIMIT + 60.0
HANDOVER = LIMIT - ROLLOVER_MARGIN  # source time (about) at which the audio moves to the next session
KEY = "rollover-key-0123456789"


def script() -> tuple[ScriptTurn, ...]:
    turns = [make_turn(20.0 * k + 1.0, f"line {k} of the reading", word_s=0.3) for k in range(int(SECONDS // 20))]
    turns = [t for t in turns if not HANDOVER - 15.0 < t.words[0].start < HANDOVER + 15.0]
    # Someone speaks for 20 s across the handover: 60 words.
    long = make_turn(HANDOVER - 10.0, " ".join(f"w{i}" for i in range(60)), word_s=0.333)
    return tuple(sorted((*turns, long), key=lambda t: t.words[0].start))


def block_index(frame: bytes, rate: int) -> float | None:
    """The fake's position hook: where a connection's first frame sits (from the index the source wrote)."""
    return int.from_bytes(frame[:4], "little") * BLOCK / rate if len(frame) >= 4 else None


class LoopedSpeech(AudioSource):
    """``seconds`` of the Beckett reading, looped, delivered at 1× on the loop's clock in 1 s chunks."""

    sample_rate = RATE
    description = "the Beckett reading, looped"

    def __init__(self, seconds: float) -> None:
        samples = np.asarray(read_wav(speech_wav("beckett.wav"))[0], dtype=np.float32)
        self.clip = (np.clip(samples, -1, 1) * 32767).astype("<i2")
        self.seconds = seconds
        self.closed = False

    def pcm(self, second: int) -> bytes:
        idx = (np.arange(RATE) + second * RATE) % len(self.clip)
        block = np.take(self.clip, idx)
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
class Result:
    events: list[CaptionEvent] = field(default_factory=list)
    fake: FakeAssemblyAI | None = None
    error: BaseException | None = None


async def three_hours(turns: tuple[ScriptTurn, ...]) -> Result:
    result = Result()
    fake = FakeAssemblyAI(
        keys=(KEY,), script=turns, formatting="in-place", max_session_s=LIMIT, position=block_index, keep_audio=False
    )
    async with fake:
        session = Session(
            LoopedSpeech(SECONDS),
            lambda opts: AssemblyAIEngine(opts, Credentials(api_key=KEY)),
            EngineOptions(endpoint=fake.url, extra={"chunk_ms": "1000"}),
            on_event=result.events.append,
        )
        try:
            await session.run()
        except Exception as exc:
            result.error = exc
    result.fake = fake
    return result


def test_three_hours_through_the_rollover_lose_and_duplicate_no_word() -> None:
    turns = script()
    started = time.perf_counter()
    result, simulated = run(three_hours(turns))
    wall = time.perf_counter() - started
    fake = result.fake
    assert fake is not None
    finals: dict[str, Final] = {}
    for e in result.events:
        if isinstance(e, Final):
            finals[e.line_id] = e  # the last version of each line
    committed = [(w.text, w.start, w.end) for f in finals.values() for w in f.words]
    expected = [(w.text, w.start, w.end) for t in turns for w in t.words]
    print(
        f"\nsimulated {simulated / 3600:.2f} h in {wall:.1f} s; {len(fake.connections)} sessions, "
        f"{len(finals)} lines, {len(committed)} words (expected {len(expected)}); "
        f"handover at {fake.connections[-1].source_offset:.2f} s of the source"
    )
    assert result.error is None
    assert not [e for e in result.events if isinstance(e, EngineError)]
    assert any(isinstance(e, Status) and "switched" in e.message for e in result.events)
    # Two sessions, the second opened before the first expired; each ended normally.
    assert len(fake.connections) == 2
    first, second = fake.connections
    assert all(c.close_code == 1000 and c.terminate_received for c in fake.connections)
    assert LIMIT - ROLLOVER_MARGIN - 2.0 <= second.source_offset <= LIMIT - 1.0
    # Every sample reached exactly one session, with no gap: the second starts where the first stopped.
    assert second.source_offset == first.audio_seconds
    assert first.audio_seconds + second.audio_seconds == SECONDS
    # Every word once, at its place, in order: none lost or duplicated across the handover.
    assert [w[0] for w in committed] == [w[0] for w in expected]
    for (text, start, end), (_, want_start, want_end) in zip(committed, expected, strict=True):
        assert abs(start - want_start) < 0.01 and abs(end - want_end) < 0.01, text
