"""A WAV file played in a loop at 1× real time, for as long as it is read: the soak's endless live source.

:class:`LoopedWavSource` decodes and resamples the file once (with the same reader as the app's file
source), adds a short pause after each pass so that the last line of a pass ends before the next begins,
and delivers 50 ms blocks on an absolute schedule (block *n* is due when it has been fully "captured",
``t0 + end``), so an hour of playback does not drift however late the event loop runs. The source timeline
keeps growing across passes, as a live source's does. :func:`looped_opener` hands it to the app in place of
the file source (the app's ``opener`` seam); nothing in the production path changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import soxr

from captioner.audio.base import AudioChunk, AudioSource, to_pcm16
from captioner.audio.file import read_wav
from captioner.session.build import SourceOpener


class LoopedWavSource(AudioSource):
    """``path`` again and again, paced at 1×; ``t0`` is the ``time.monotonic()`` of audio time 0."""

    def __init__(self, path: str | Path, sample_rate: int, *, gap_s: float = 1.5, chunk_ms: int = 50) -> None:
        samples, rate = read_wav(path)
        if rate != sample_rate:
            samples = soxr.resample(samples, rate, sample_rate, quality="HQ")
        pause = np.zeros(int(gap_s * sample_rate), dtype=np.float32)
        self._pcm = to_pcm16(np.concatenate([np.asarray(samples, dtype=np.float32), pause]))
        self.sample_rate = sample_rate
        self.description = f"file {Path(path).name} (looped)"
        self.chunk_samples = max(1, sample_rate * chunk_ms // 1000)
        self.t0: float | None = None
        self.passes = 0
        """Complete passes over the file so far."""
        self._closed = asyncio.Event()

    @property
    def pass_seconds(self) -> float:
        """The length of one pass, the pause included."""
        return len(self._pcm) / 2 / self.sample_rate

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        step = self.chunk_samples * 2
        t0 = self.t0 = time.monotonic()
        done = 0  # samples delivered, all passes
        while True:
            for off in range(0, len(self._pcm), step):
                pcm = self._pcm[off : off + step]
                start = done / self.sample_rate
                end = start + len(pcm) / 2 / self.sample_rate
                delay = t0 + end - time.monotonic()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._closed.wait(), delay)
                if self._closed.is_set():
                    return
                yield AudioChunk(pcm, self.sample_rate, start, time.monotonic())
                done += len(pcm) // 2
            self.passes += 1

    async def close(self) -> None:
        self._closed.set()


def looped_opener(opened: list[LoopedWavSource]) -> SourceOpener:
    """An opener for the app that plays any file spec looped at 1×; each source opened is appended to ``opened``."""

    def open_looped(spec: str, sample_rate: int, device: str | None, realtime: bool) -> AudioSource:
        source = LoopedWavSource(spec, sample_rate)
        opened.append(source)
        return source

    return open_looped
