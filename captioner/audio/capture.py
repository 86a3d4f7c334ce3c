"""The machinery every live capture source shares: thread → loop hand-off, bounded queue, resampling, chunking.

A capture backend (a PortAudio callback in :mod:`captioner.audio.mic`, a WASAPI
loopback reader thread in :mod:`captioner.audio.windows`…) subclasses
:class:`CaptureSource`, opens and closes its device in ``_start``/``_stop``, and
calls :meth:`CaptureSource.push_block` from its own thread with a float32 block
of shape ``(frames, channels)`` at ``device_rate``. ``push_block`` only hands the
block to the asyncio loop with ``loop.call_soon_threadsafe``; everything else
(down-mix to mono, one streaming soxr resampler, 50 ms PCM16 chunks) happens in
:meth:`CaptureSource.chunks`, on the loop.

The queue between them is bounded; a block that finds it full is dropped and
counted in :attr:`CaptureSource.dropped_blocks`, as are blocks the backend
reports lost (PortAudio's input-overflow flag).

Time is not audio: an idle PulseAudio monitor or WASAPI loopback delivers no
blocks at all while nothing plays. Chunk ``start`` times count the samples
actually delivered; when no block has arrived for ``idle_fill_after`` seconds the
source inserts digital silence for the wall-clock gap, so that an engine's
endpointer still sees the silence that ends a caption and the source timeline
stays close to the clock. Nothing is inserted before the first block: a device
may take a second or two to start delivering (a PulseAudio monitor of an idle
null sink does), and that start-up delay holds no audio.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import numpy as np
import soxr

from captioner.audio.base import AudioChunk, AudioError, AudioSource, to_pcm16

log = logging.getLogger(__name__)

_WAKE = None  # queue sentinel put by close()


class CaptureSource(AudioSource):
    """A live source fed block by block from a capture thread. Subclasses open and close the device."""

    def __init__(
        self,
        sample_rate: int,
        *,
        device_rate: int,
        chunk_ms: int = 50,
        max_queued_blocks: int = 64,
        idle_fill_after: float | None = 0.3,
    ) -> None:
        if sample_rate <= 0 or device_rate <= 0:
            raise ValueError("sample rates must be positive")
        self.sample_rate = sample_rate
        self.device_rate = device_rate
        self.chunk_samples = max(1, sample_rate * chunk_ms // 1000)
        self.max_queued_blocks = max(1, max_queued_blocks)
        self.idle_fill_after = idle_fill_after
        self.silence_filled = 0.0
        """Seconds of silence inserted while the device delivered nothing."""
        self.blocks_received = 0
        self._queue: asyncio.Queue[tuple[np.ndarray, float] | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue_drops = 0  # touched on the loop thread only
        self._backend_drops = 0  # touched on the capture thread only
        self._closed = False
        self._started = False
        self._stopped = False
        self._failure: str | None = None

    # -- the backend's side ---------------------------------------------------------------
    @abc.abstractmethod
    def _start(self) -> None:
        """Open and start the device; blocks then arrive through :meth:`push_block`. Raise ``AudioError``."""

    @abc.abstractmethod
    def _stop(self) -> None:
        """Stop and release the device. Called once, on the loop thread; must not raise."""

    def push_block(self, block: np.ndarray, captured_at: float) -> None:
        """Called on the capture thread: hand ``block`` (already a copy) to the loop. Never blocks."""
        loop = self._loop
        if loop is None or self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: we are shutting down
            loop.call_soon_threadsafe(self._deliver, block, captured_at)

    def fail(self, message: str) -> None:
        """Called on the capture thread when capture has stopped for good: ``chunks()`` raises ``AudioError``."""
        loop = self._loop
        if loop is None or self._closed:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._set_failure, message)

    def _set_failure(self, message: str) -> None:
        if self._failure is None:
            self._failure = message
        q = self._queue
        if q is not None:
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(_WAKE)

    def count_backend_drop(self, n: int = 1) -> None:
        """Called on the capture thread when the backend reports lost input (overflow)."""
        self._backend_drops += n

    # -- the loop's side ------------------------------------------------------------------
    @property
    def dropped_blocks(self) -> int:
        return self._queue_drops + self._backend_drops

    def _deliver(self, block: np.ndarray, captured_at: float) -> None:
        q = self._queue
        if q is None or self._closed:
            return
        if q.full():
            self._queue_drops += 1
            return
        q.put_nowait((block, captured_at))

    def _attach(self) -> asyncio.Queue[tuple[np.ndarray, float] | None]:
        """Bind to the running loop (before the backend starts pushing)."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(maxsize=self.max_queued_blocks)
        return self._queue

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        if self._started:
            raise RuntimeError("chunks() may be iterated only once")
        self._started = True
        if self._closed:
            return
        queue = self._attach()
        self._start()
        out = _Chunker(self.sample_rate, self.chunk_samples)
        resampler = _Resampler(self.device_rate, self.sample_rate)
        last_block_at = time.monotonic()
        filled = 0.0  # silence inserted since the last block
        try:
            while not self._closed:
                try:
                    if self.idle_fill_after is None:
                        item = await queue.get()
                    else:
                        wait = self.idle_fill_after if filled == 0.0 else out.chunk_seconds
                        item = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    now = time.monotonic()
                    gap = now - last_block_at - filled
                    if (
                        self.idle_fill_after is None
                        or self.blocks_received == 0  # not started yet (a device can take a second or two)
                        or now - last_block_at < self.idle_fill_after
                    ):
                        continue
                    if filled == 0.0:
                        # Going idle: flush the resampler's tail before the silence.
                        out.add(resampler.flush(), now)
                    n = int(gap * self.sample_rate) // self.chunk_samples * self.chunk_samples
                    if n > 0:
                        out.add(np.zeros(n, dtype=np.float32), now)
                        filled += n / self.sample_rate
                        self.silence_filled += n / self.sample_rate
                    for chunk in out.take():
                        yield chunk
                    continue
                if item is _WAKE:
                    if self._failure is not None and not self._closed:
                        raise AudioError(self._failure)
                    continue
                block, captured_at = item
                self.blocks_received += 1
                last_block_at, filled = captured_at, 0.0
                out.add(resampler.feed(block), captured_at)
                for chunk in out.take():
                    yield chunk
            # Closed: what is still queued was captured before the stop, then the resampler's tail.
            while not queue.empty():
                item = queue.get_nowait()
                if item is not _WAKE:
                    out.add(resampler.feed(item[0]), item[1])
            out.add(resampler.flush(), time.monotonic())
            for chunk in out.take(final=True):
                yield chunk
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._closed = True
        if self._started and not self._stopped:
            self._stopped = True
            try:
                self._stop()
            except Exception:  # pragma: no cover - a backend must not raise here, but never crash on close
                log.exception("error while closing the audio device")

    async def close(self) -> None:
        if self._closed:
            return
        # Stop the device now (no more blocks), then wake chunks() so that it flushes and ends.
        self._shutdown()
        q = self._queue
        if q is not None and not q.full():
            q.put_nowait(_WAKE)


def _to_mono(block: np.ndarray) -> np.ndarray:
    a = np.asarray(block, dtype=np.float32)
    if a.ndim == 2:
        a = a[:, 0] if a.shape[1] == 1 else a.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(a, dtype=np.float32)


class _Resampler:
    """Down-mix to mono, then one streaming soxr resampler from the device rate (none when the rates match)."""

    def __init__(self, device_rate: int, sample_rate: int) -> None:
        self.device_rate = device_rate
        self.sample_rate = sample_rate
        self._stream: soxr.ResampleStream | None = None

    def feed(self, block: np.ndarray) -> np.ndarray:
        mono = _to_mono(block)
        if self.device_rate == self.sample_rate:
            return mono
        if self._stream is None:
            self._stream = soxr.ResampleStream(self.device_rate, self.sample_rate, 1, dtype="float32")
        return self._stream.resample_chunk(mono)

    def flush(self) -> np.ndarray:
        """The resampler's tail (empty when nothing is pending); the next :meth:`feed` starts a fresh stream."""
        stream, self._stream = self._stream, None
        if stream is None:
            return np.zeros(0, dtype=np.float32)
        return stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)


class _Chunker:
    """Cuts float32 mono audio at the target rate into fixed-size PCM16 chunks on a sample-counted timeline."""

    def __init__(self, sample_rate: int, chunk_samples: int) -> None:
        self.sample_rate = sample_rate
        self.chunk_samples = chunk_samples
        self.chunk_seconds = chunk_samples / sample_rate
        self._parts: list[np.ndarray] = []
        self._pending = 0
        self._emitted = 0  # samples emitted so far: the source timeline
        self._captured_at = 0.0

    def add(self, samples: np.ndarray, captured_at: float) -> None:
        if len(samples):
            self._parts.append(samples)
            self._pending += len(samples)
            self._captured_at = captured_at

    def take(self, *, final: bool = False) -> list[AudioChunk]:
        if self._pending < self.chunk_samples and not (final and self._pending):
            return []
        data = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0]
        n_full = len(data) // self.chunk_samples * self.chunk_samples
        cut = len(data) if final else n_full
        chunks = []
        for off in range(0, cut, self.chunk_samples):
            piece = data[off : min(off + self.chunk_samples, cut)]
            start = self._emitted / self.sample_rate
            self._emitted += len(piece)
            chunks.append(AudioChunk(to_pcm16(piece), self.sample_rate, start, self._captured_at))
        rest = data[cut:]
        self._parts = [rest] if len(rest) else []
        self._pending = len(rest)
        return chunks
