"""An in-memory audio source the test drives chunk by chunk (a boundary for session tests)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import numpy as np

from captioner.audio.base import AudioChunk, AudioSource


def tone_chunk(start: float, rate: int = 16000, ms: int = 50, amplitude: float = 0.1) -> AudioChunk:
    n = rate * ms // 1000
    t = np.arange(n) / rate + start
    pcm = (np.sin(2 * np.pi * 440 * t) * amplitude * 32767).astype("<i2").tobytes()
    return AudioChunk(pcm, rate, start, time.monotonic())


class PushSource(AudioSource):
    """Yields what the test pushes; ``end()`` ends the stream."""

    def __init__(self, sample_rate: int = 16000) -> None:
        self.sample_rate = sample_rate
        self.description = "test"
        self._q: asyncio.Queue[AudioChunk | None] = asyncio.Queue()
        self.closed = False
        self.dropped = 0
        self._next = 0.0

    @property
    def dropped_blocks(self) -> int:
        return self.dropped

    def push(self, n: int = 1) -> list[AudioChunk]:
        out = []
        for _ in range(n):
            c = tone_chunk(self._next, self.sample_rate)
            self._next = c.end
            self._q.put_nowait(c)
            out.append(c)
        return out

    def push_silence(self, n: int = 1, amplitude: float = 0.0001) -> list[AudioChunk]:
        """``n`` chunks of very quiet noise (about -80 dBFS): a pause."""
        out = []
        for _ in range(n):
            c = tone_chunk(self._next, self.sample_rate, amplitude=amplitude)
            self._next = c.end
            self._q.put_nowait(c)
            out.append(c)
        return out

    def end(self) -> None:
        self._q.put_nowait(None)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        while True:
            c = await self._q.get()
            if c is None or self.closed:
                return
            yield c

    async def close(self) -> None:
        self.closed = True
        self._q.put_nowait(None)
