"""The session's audio backlog: recent chunks with their levels, read through independent cursors.

Every engine session reads the backlog through its own :class:`Cursor`, from any
chunk still held: after a failure the next engine session starts at the end of
the last committed caption, and during a seamless restart the old engine's
cursor stops at the very chunk where the new one starts.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Protocol

from captioner.audio.base import AudioChunk

log = logging.getLogger(__name__)


class NoiseFloor:
    """The minimum chunk level over a sliding window of source time (monotonic deque)."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._q: deque[tuple[float, float]] = deque()  # (chunk end, level), levels increasing

    def add(self, end: float, level: float) -> None:
        while self._q and self._q[-1][1] >= level:
            self._q.pop()
        self._q.append((end, level))
        while self._q[0][0] < end - self.window:
            self._q.popleft()

    @property
    def value(self) -> float:
        return self._q[0][1] if self._q else -120.0


class Backlog:
    """Recent audio chunks (with their levels), numbered, read through independent cursors."""

    def __init__(self, max_seconds: float, noise_window: float = 30.0) -> None:
        self.max_seconds = max_seconds
        self._chunks: deque[AudioChunk] = deque()
        self._levels: deque[float] = deque()
        self.noise_floor = NoiseFloor(noise_window)
        self._first_seq = 0
        self.ended = False
        self._changed = asyncio.Event()

    @property
    def next_seq(self) -> int:
        return self._first_seq + len(self._chunks)

    @property
    def first_seq(self) -> int:
        return self._first_seq

    @property
    def newest(self) -> AudioChunk | None:
        return self._chunks[-1] if self._chunks else None

    def append(self, chunk: AudioChunk, keep_from: int, level: float | None = None) -> None:
        level = chunk.rms_dbfs() if level is None else level
        self._chunks.append(chunk)
        self._levels.append(level)
        self.noise_floor.add(chunk.end, level)
        # Trim what no cursor needs, and in any case what is older than max_seconds.
        while self._chunks and (
            self._first_seq < keep_from or self._chunks[-1].end - self._chunks[0].start > self.max_seconds
        ):
            self._chunks.popleft()
            self._levels.popleft()
            self._first_seq += 1
        self._wake()

    def end(self) -> None:
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def get(self, seq: int) -> AudioChunk | None:
        i = seq - self._first_seq
        if 0 <= i < len(self._chunks):
            return self._chunks[i]
        return None

    def level(self, seq: int) -> float:
        i = seq - self._first_seq
        return self._levels[i] if 0 <= i < len(self._levels) else 0.0

    def seq_after(self, t: float) -> int:
        """The first chunk that ends after source time ``t`` (or the next one to come)."""
        for i, c in enumerate(self._chunks):
            if c.end > t + 1e-6:
                return self._first_seq + i
        return self.next_seq

    def changed(self) -> asyncio.Event:
        """An event set at the next append or end (take it *before* awaiting, to miss nothing)."""
        return self._changed


class SkipPolicy(Protocol):
    """Decides whether a cursor may skip a chunk (implemented by :class:`~captioner.session.catch_up.CatchUp`)."""

    def should_skip(self, backlog: Backlog, seq: int, chunk: AudioChunk) -> bool: ...

    def sent(self, lag: float) -> None: ...


class Cursor:
    """Feeds one engine session from the backlog, from ``seq`` until the end (or ``stop_at``)."""

    def __init__(self, backlog: Backlog, seq: int, catch_up: SkipPolicy | None = None) -> None:
        self.backlog = backlog
        self.seq = seq
        self.stop_at: int | None = None
        self._stop_changed = asyncio.Event()
        self.fed_until = 0.0  # source time of the end of the last chunk handed out (or skipped)
        self.catch_up = catch_up

    def stop(self, at: int) -> None:
        self.stop_at = at
        self._stop_changed.set()

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        while True:
            if self.stop_at is not None and self.seq >= self.stop_at:
                return
            if self.seq < self.backlog.first_seq:
                log.warning("audio backlog overflowed; skipping %d blocks", self.backlog.first_seq - self.seq)
                self.seq = self.backlog.first_seq
            chunk = self.backlog.get(self.seq)
            if chunk is None:
                if self.backlog.ended:
                    return
                waiter = asyncio.ensure_future(self.backlog.changed().wait())
                stopper = asyncio.ensure_future(self._stop_changed.wait())
                try:
                    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waiter.cancel()
                    stopper.cancel()
                continue
            self.seq += 1
            self.fed_until = chunk.end
            if self.catch_up is not None:
                if self.catch_up.should_skip(self.backlog, self.seq - 1, chunk):
                    continue
                newest = self.backlog.newest
                self.catch_up.sent(max(0.0, newest.end - chunk.end) if newest is not None else 0.0)
            yield chunk
