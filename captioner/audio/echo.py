"""Acoustic echo cancellation of the microphone against the system audio, for meeting mode.

Without headphones the microphone also hears what the speakers play, so the others' words would be captioned
twice. :class:`EchoCanceller` removes that echo with WebRTC's AEC3 (the audio processing module of the
``livekit`` package: ``rtc.AudioProcessingModule``), fed in 10 ms frames: for each microphone frame, first the
system-audio frame captured at the same moment (``process_reverse_stream``), then the microphone frame
(``process_stream``, cancelled in place). AEC3 estimates the remaining delay (speaker, room, buffers) itself.

Alignment is on capture time, not on the two sources' own timelines (which start at different moments: an idle
sink monitor delivers nothing until something plays). For each source the offset of its timeline from the
monotonic clock is the smallest ``captured_at - end`` seen over the last ten seconds (a block is never
delivered before it was captured, only later, so the smallest value is the truest). That gives the pairing of
reference and microphone samples, which is then kept as it is (AEC3's filter is tied to the exact pairing)
until the estimate moves more than :attr:`EchoCanceller.resync` away (two devices' clocks drift apart). A
microphone chunk waits until its paired reference has arrived, at most :attr:`EchoCanceller.max_wait` (a hole
in the reference could never be filled later), and not at all while the system audio is silent (nothing plays,
so there is no echo to wait for).

:class:`ReferenceTap` wraps the system-audio source (its chunks pass through unchanged and are handed to the
canceller), :class:`EchoCancelledSource` the microphone (its chunks come out cancelled).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

import numpy as np

from captioner.audio.base import AudioChunk, AudioSource, DeviceChange

log = logging.getLogger(__name__)

SILENT_DBFS = -70.0
"""System audio below this level plays nothing worth cancelling: the microphone does not wait for it."""


class EchoUnavailable(Exception):
    """The echo canceller cannot run here (plain-words message)."""


class _Aec3:
    """WebRTC AEC3 through ``livekit.rtc``: one 10 ms frame pair at a time, int16 mono."""

    def __init__(self, sample_rate: int) -> None:
        try:
            from livekit import rtc
        except ImportError as exc:
            raise EchoUnavailable(
                f"echo cancellation needs the Python package 'livekit', which is not installed ({exc.name})"
            ) from exc
        if sample_rate not in (8000, 16000, 32000, 48000):
            raise EchoUnavailable(f"echo cancellation runs at 8, 16, 32 or 48 kHz, not {sample_rate} Hz")
        self._rtc = rtc
        self.rate = sample_rate
        self.frame = sample_rate // 100
        try:
            self._apm = rtc.AudioProcessingModule(echo_cancellation=True)
        except Exception as exc:  # its native library missing or refusing to load (a broken install)
            raise EchoUnavailable(f"the echo canceller does not start ({exc})") from exc

    def process(self, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
        rtc = self._rtc
        reverse = rtc.AudioFrame(ref.tobytes(), self.rate, 1, self.frame)
        self._apm.process_reverse_stream(reverse)
        near = rtc.AudioFrame(mic.tobytes(), self.rate, 1, self.frame)
        self._apm.process_stream(near)
        return np.frombuffer(near.data, dtype=np.int16).copy()


class _Anchor:
    """The monotonic time of a source's timeline origin: min(captured_at - end) over a sliding window."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self._seen: deque[tuple[float, float]] = deque()  # (captured_at, anchor)
        self.value: float | None = None

    def update(self, chunk: AudioChunk) -> float:
        anchor = chunk.captured_at - chunk.end
        self._seen.append((chunk.captured_at, anchor))
        while self._seen and self._seen[0][0] < chunk.captured_at - self.window:
            self._seen.popleft()
        self.value = min(a for _, a in self._seen)
        return self.value


class EchoCanceller:
    """Cancels the echo of the reference (system audio) in the microphone; see the module docstring.

    :class:`EchoUnavailable` when it cannot run here. Used on the event loop's thread only.
    """

    def __init__(
        self,
        sample_rate: int,
        *,
        max_wait: float = 0.15,
        resync: float = 0.08,
        keep_seconds: float = 3.0,
    ) -> None:
        self.sample_rate = sample_rate
        self.max_wait = max_wait
        self.resync = resync
        """Seconds the two sources' capture clocks may drift apart before the pairing is moved."""
        self._aec = _Aec3(sample_rate)
        self._frame = sample_rate // 100
        self._keep = int(keep_seconds * sample_rate)
        self._ref: deque[tuple[int, np.ndarray]] = deque()  # (first sample index on the ref timeline, samples)
        self._ref_end = 0  # sample index after the newest reference sample
        self._ref_anchor = _Anchor()
        self._mic_anchor = _Anchor()
        self._audible_until = 0.0  # monotonic time until which the reference counts as playing
        self._offset: int | None = None  # see _pairing_offset
        self._ended = False
        self._arrived = asyncio.Event()
        self.processed_seconds = 0.0
        self.cpu_seconds = 0.0
        """CPU time spent cancelling (for the benchmark)."""
        self.waited_seconds = 0.0
        """Time microphone chunks spent waiting for the reference."""
        self.waits: deque[float] = deque(maxlen=20000)
        """The wait of each recent microphone chunk (seconds), for the latency figures."""
        self.late_chunks = 0
        """Microphone chunks cancelled before all of their reference had arrived (it waited :attr:`max_wait`)."""

    # -- the reference ----------------------------------------------------------------------------
    def reference(self, chunk: AudioChunk) -> None:
        """Take a chunk of the system audio (the far end)."""
        samples = np.frombuffer(chunk.pcm, dtype="<i2")
        first = round(chunk.start * self.sample_rate)
        if self._ref and first != self._ref_end:
            self._ref.clear()  # a jump in the reference timeline: forget what came before
        self._ref.append((first, samples))
        self._ref_end = first + len(samples)
        while self._ref and self._ref[0][0] + len(self._ref[0][1]) < self._ref_end - self._keep:
            self._ref.popleft()
        self._ref_anchor.update(chunk)
        if chunk.rms_dbfs() > SILENT_DBFS:
            self._audible_until = time.monotonic() + 1.0
        self._arrived.set()

    def end_reference(self) -> None:
        """The system audio ended (or failed): the microphone stops waiting for it."""
        self._ended = True
        self._arrived.set()

    def _ref_samples(self, first: int, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.int16)
        for start, samples in self._ref:
            lo, hi = max(first, start), min(first + n, start + len(samples))
            if lo < hi:
                out[lo - first : hi - first] = samples[lo - start : hi - start]
        return out

    # -- the microphone ---------------------------------------------------------------------------
    async def wait_for_reference(self, chunk: AudioChunk) -> None:
        """Wait (at most :attr:`max_wait`) until the reference paired with ``chunk`` has arrived."""
        self._mic_anchor.update(chunk)
        began = time.monotonic()
        deadline = began + self.max_wait
        while not self._ended and time.monotonic() < self._audible_until:
            offset = self._pairing_offset(chunk)
            if offset is not None and self._ref_end >= round(chunk.end * self.sample_rate) + offset:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                break
        waited = time.monotonic() - began
        self.waited_seconds += waited
        self.waits.append(waited)

    def summary(self) -> str:
        """The canceller's figures in one line (logged when a meeting ends)."""
        waits = sorted(self.waits)
        p95 = waits[int(0.95 * (len(waits) - 1))] if waits else 0.0
        mean = sum(waits) / len(waits) if waits else 0.0
        per_second = 1000 * self.cpu_seconds / self.processed_seconds if self.processed_seconds else 0.0
        return (
            f"echo canceller: {self.processed_seconds:.1f} s of microphone audio, {per_second:.2f} ms CPU per audio "
            f"second; waited for the reference {1000 * mean:.1f} ms on average, p95 {1000 * p95:.1f} ms, "
            f"max {1000 * (waits[-1] if waits else 0.0):.1f} ms; {self.late_chunks} chunk(s) without all of it"
        )

    def _pairing_offset(self, chunk: AudioChunk) -> int | None:
        """Reference sample index minus microphone sample index of the same capture moment.

        Kept constant while the estimate stays within :attr:`resync` of it: AEC3's filter is tied to the exact
        sample pairing, and every small shift would make it adapt again.
        """
        mic = self._mic_anchor.value if self._mic_anchor.value is not None else self._mic_anchor.update(chunk)
        ref = self._ref_anchor.value
        if ref is None:
            return None
        estimate = round((mic - ref) * self.sample_rate)
        if self._offset is None or abs(estimate - self._offset) > self.resync * self.sample_rate:
            log.info(
                "echo canceller: reference paired %+.1f ms from the microphone", 1000 * estimate / self.sample_rate
            )
            self._offset = estimate
        return self._offset

    def process(self, chunk: AudioChunk) -> AudioChunk:
        """``chunk`` of the microphone with the echo of the reference removed (same times)."""
        t0 = time.thread_time()
        mic = np.frombuffer(chunk.pcm, dtype="<i2")
        n = len(mic)
        frames = -(-n // self._frame)
        padded = np.zeros(frames * self._frame, dtype=np.int16)
        padded[:n] = mic
        offset = self._pairing_offset(chunk)
        if offset is None:
            ref = np.zeros_like(padded)
        else:
            first = round(chunk.start * self.sample_rate) + offset
            ref = self._ref_samples(first, len(padded))
            if first + n > self._ref_end and time.monotonic() < self._audible_until:
                self.late_chunks += 1
        out = np.empty_like(padded)
        for k in range(frames):
            part = slice(k * self._frame, (k + 1) * self._frame)
            out[part] = self._aec.process(padded[part], ref[part])
        self.processed_seconds += chunk.duration
        self.cpu_seconds += time.thread_time() - t0
        return AudioChunk(out[:n].astype("<i2").tobytes(), chunk.sample_rate, chunk.start, chunk.captured_at)


class ReferenceTap(AudioSource):
    """The system-audio source, unchanged, with every chunk also handed to ``on_chunk`` (the canceller…)."""

    def __init__(self, source: AudioSource, *on_chunk: Callable[[AudioChunk], None], on_end: Callable[[], None]):
        self.source = source
        self.sample_rate = source.sample_rate
        self.description = source.description
        self._listeners = on_chunk
        self._on_end = on_end

    @property
    def dropped_blocks(self) -> int:
        return self.source.dropped_blocks

    def watch_devices(self, listener: Callable[[DeviceChange], None]) -> None:
        self.source.watch_devices(listener)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        try:
            async for chunk in self.source.chunks():
                for listener in self._listeners:
                    listener(chunk)
                yield chunk
        finally:
            self._on_end()

    async def close(self) -> None:
        await self.source.close()


class EchoCancelledSource(AudioSource):
    """The microphone with the echo of the system audio removed by ``canceller``."""

    def __init__(self, source: AudioSource, canceller: EchoCanceller) -> None:
        if source.sample_rate != canceller.sample_rate:
            raise ValueError("the microphone and the echo canceller must run at the same rate")
        self.source = source
        self.canceller = canceller
        self.sample_rate = source.sample_rate
        self.description = f"{source.description} (echo cancelled)"

    @property
    def dropped_blocks(self) -> int:
        return self.source.dropped_blocks

    def watch_devices(self, listener: Callable[[DeviceChange], None]) -> None:
        self.source.watch_devices(listener)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        async for chunk in self.source.chunks():
            await self.canceller.wait_for_reference(chunk)
            yield self.canceller.process(chunk)

    async def close(self) -> None:
        await self.source.close()
