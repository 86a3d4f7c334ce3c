"""Helpers for the Moonshine engine tests: 16 kHz clips of the speech fixtures and running the engine on them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soxr

from captioner.audio.base import AudioChunk, to_pcm16
from captioner.audio.file import WavFileSource, read_wav
from captioner.captions.events import EngineEvent, Final, Interim
from captioner.engines.base import EngineOptions
from tests.support.speech import speech_wav

if TYPE_CHECKING:
    from captioner.engines.moonshine.engine import MoonshineEngine

RATE = 16000


def samples(name: str, start: float = 0.0, end: float | None = None) -> np.ndarray:
    """A speech fixture as float32 at 16 kHz, cut to [start, end) seconds."""
    x, r = read_wav(speech_wav(name))
    if r != RATE:
        x = soxr.resample(x, r, RATE, quality="HQ")
    x = np.asarray(x, dtype=np.float32)
    return x[int(start * RATE) : None if end is None else int(end * RATE)]


async def chunks_of(
    audio: np.ndarray, *, chunk_ms: int = 50, live_from: float | None = None, offset: float = 0.0
) -> AsyncIterator[AudioChunk]:
    """``audio`` as chunks, delivered as fast as they are taken; ``live_from`` stamps them as captured live
    from that ``time.monotonic()`` (otherwise as read now, like a file read as fast as it decodes)."""
    n = RATE * chunk_ms // 1000
    for i in range(0, len(audio), n):
        piece = audio[i : i + n]
        start = offset + i / RATE
        captured = time.monotonic() if live_from is None else live_from + start + len(piece) / RATE
        yield AudioChunk(pcm=to_pcm16(piece), sample_rate=RATE, start=start, captured_at=captured)
        await asyncio.sleep(0)


async def collect(engine: MoonshineEngine, audio: AsyncIterator[AudioChunk]) -> list[EngineEvent]:
    return [ev async for ev in engine.stream(audio)]


def run(audio: np.ndarray | Path, **options: object) -> list[EngineEvent]:
    """Run a fresh engine over ``audio`` (samples or a WAV file) as fast as it decodes; every event."""
    from captioner.engines.moonshine.engine import MoonshineEngine

    engine = MoonshineEngine(EngineOptions(**options))  # type: ignore[arg-type]
    source = WavFileSource(audio, RATE, realtime=False).chunks() if isinstance(audio, Path) else chunks_of(audio)
    return asyncio.run(asyncio.wait_for(collect(engine, source), 120))


def finals(events: Iterable[EngineEvent]) -> list[Final]:
    return [e for e in events if isinstance(e, Final)]


def interims(events: Iterable[EngineEvent]) -> list[Interim]:
    return [e for e in events if isinstance(e, Interim)]


def text_of(events: Iterable[EngineEvent]) -> str:
    return " ".join(f.text for f in finals(events) if f.text)
