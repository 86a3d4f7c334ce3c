"""Helpers for the local engine tests: real-speech clips and running the engine on them."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from captioner.audio.base import AudioChunk
from captioner.audio.file import WavFileSource, read_wav
from captioner.captions.events import EngineEvent, Final, Interim
from captioner.engines.base import EngineOptions
from captioner.engines.local.engine import LocalEngine


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    """Write float samples (-1…1, mono) as PCM16, duplicated to ``channels``."""
    pcm = (np.clip(samples, -1, 1) * 32767).round().astype("<i2")
    if channels > 1:
        pcm = np.repeat(pcm[:, None], channels, axis=1).reshape(-1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def clip(src: Path, dst: Path, start: float, end: float, rate: int | None = None, channels: int = 1) -> Path:
    """Cut ``src`` to [start, end) seconds, optionally resampled and made multi-channel."""
    x, r = read_wav(src)
    x = x[int(start * r) : int(end * r)]
    if rate is not None and rate != r:
        x = soxr.resample(x, r, rate, quality="HQ")
        r = rate
    return write_wav(dst, np.asarray(x, dtype=np.float32), r, channels)


async def _chunks(path: Path) -> AsyncIterator[AudioChunk]:
    src = WavFileSource(path, 16000, realtime=False)
    async for c in src.chunks():
        yield c


async def run_engine_async(engine: LocalEngine, path: Path) -> list[EngineEvent]:
    return [ev async for ev in engine.stream(_chunks(path))]


def run_engine(path: Path, **options: Any) -> list[EngineEvent]:
    """Run a fresh engine over a WAV file (as fast as it decodes) and return every event."""
    engine = LocalEngine(EngineOptions(**options))
    return asyncio.run(asyncio.wait_for(run_engine_async(engine, path), 120))


def finals(events: list[EngineEvent]) -> list[Final]:
    return [e for e in events if isinstance(e, Final)]


def final_text(events: list[EngineEvent]) -> str:
    return " ".join(f.text for f in finals(events) if f.text)


def interims(events: list[EngineEvent]) -> list[Interim]:
    return [e for e in events if isinstance(e, Interim)]
