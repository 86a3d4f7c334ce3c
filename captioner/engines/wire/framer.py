"""Cutting audio into the frames a cloud service takes: PCM16 blocks in, fixed-size frames out.

Owns :class:`Framer` and :class:`Frame`. Every frame but the last holds exactly
``frame_ms`` of audio; :meth:`Framer.flush` returns the rest, padded with
silence up to ``min_last_ms`` (AssemblyAI refuses frames under 50 ms; Uhlive
takes a short last frame as it is). Each frame carries the ``(source start,
seconds)`` of the audio in it (:attr:`Frame.segments`, for
:class:`~captioner.engines.timeline.AudioTimeline`): more than one when the frame
spans a pause the session skipped to catch up; padding is in no segment.

Why audio is cut twice (the sources already deliver 50 ms chunks): the
source's cut is the session's unit (levels, the backlog, the cursor a reconnect
replays from, the pauses catch-up skips) and knows nothing about the engine,
while the frame size is the vendor's and the user's (AssemblyAI ``chunk_ms``
50–1000 ms, Uhlive 100 ms); chunks on both sides of a skipped pause are not
contiguous, and the last chunk of a file is short. When the chunks already have
the frame size (AssemblyAI's default), :meth:`Framer.push` passes each through
without copying it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from captioner.audio.base import AudioChunk
from captioner.engines.base import EngineFailure


@dataclass(frozen=True, slots=True)
class Frame:
    """One audio message: its payload and where its audio sits on the source timeline."""

    payload: bytes
    """What goes on the wire (PCM16, or encoded if the framer encodes)."""
    start: float
    """Source time (s) of the first sample."""
    duration: float
    """Seconds of audio in the frame, padding included."""
    captured_at: tuple[float, ...] = ()
    """``captured_at`` of the source blocks completed by this frame (for latency figures)."""
    segments: tuple[tuple[float, float], ...] = ()
    """``(source start, seconds)`` of each contiguous piece of source audio in the frame."""


class Framer:
    """Re-cuts PCM16 mono blocks at ``sample_rate`` into frames of exactly ``frame_ms``.

    ``encode`` turns a frame's PCM into its payload (e.g. G.711 µ-law); ``service``
    names the vendor in the error raised for audio at the wrong rate.
    """

    def __init__(
        self,
        sample_rate: int,
        frame_ms: int,
        *,
        min_last_ms: int = 0,
        encode: Callable[[bytes], bytes] | None = None,
        service: str = "the service",
    ) -> None:
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.frame_bytes = sample_rate * frame_ms // 1000 * 2
        self.min_last_bytes = sample_rate * min_last_ms // 1000 * 2
        self.encode = encode
        self.service = service
        self._buf = bytearray()
        self._pieces: list[tuple[float, int]] = []  # (source start, bytes) of the audio in _buf
        self._captured: list[float] = []
        self._end = 0.0  # source time at the end of the last frame

    def _seconds(self, nbytes: int) -> float:
        return nbytes / 2 / self.sample_rate

    def push(self, pcm: bytes, start: float, captured_at: float | None = None) -> list[Frame]:
        """Add a block (PCM16 starting at source time ``start``); the frames now complete."""
        if not self._buf and len(pcm) == self.frame_bytes:  # the common case: blocks already the frame size
            captured = (*self._captured, captured_at) if captured_at is not None else tuple(self._captured)
            self._captured.clear()
            duration = self._seconds(len(pcm))
            self._end = start + duration
            return [Frame(self._encoded(pcm), start, duration, captured, ((start, duration),))]
        if pcm:
            self._buf += pcm
            self._pieces.append((start, len(pcm)))
        if captured_at is not None:
            self._captured.append(captured_at)
        frames = []
        while len(self._buf) >= self.frame_bytes:
            frames.append(self._take(self.frame_bytes))
        return frames

    def flush(self) -> list[Frame]:
        """The rest of the audio as one last frame (padded with silence to ``min_last_ms``), if any."""
        n = len(self._buf) // 2 * 2
        if not n:
            self._buf.clear()
            self._pieces.clear()
            return []
        del self._buf[n:]
        frame = self._take(n, pad_to=self.min_last_bytes)
        self._pieces.clear()
        return [frame]

    async def frames(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[Frame]:
        """The frames of ``audio``, the flushed rest included. Audio at another rate is an :class:`EngineFailure`."""
        async for chunk in audio:
            if chunk.sample_rate != self.sample_rate:
                raise EngineFailure(
                    f"{self.service} needs {self.sample_rate} Hz audio, got {chunk.sample_rate} Hz", retryable=False
                )
            for frame in self.push(chunk.pcm, chunk.start, chunk.captured_at):
                yield frame
        for frame in self.flush():
            yield frame

    def _encoded(self, pcm: bytes) -> bytes:
        return self.encode(pcm) if self.encode is not None else pcm

    def _take(self, n: int, *, pad_to: int = 0) -> Frame:
        pcm = bytes(self._buf[:n])
        del self._buf[:n]
        # The source pieces in these n bytes (the last one split if the frame ends inside it).
        segments: list[tuple[float, float]] = []
        need = n
        while need > 0 and self._pieces:
            start, size = self._pieces[0]
            take = min(size, need)
            segments.append((start, self._seconds(take)))
            need -= take
            if take < size:
                self._pieces[0] = (start + self._seconds(take), size - take)
            else:
                self._pieces.pop(0)
        if len(pcm) < pad_to:
            pcm += bytes(pad_to - len(pcm))  # padding: in no segment
        start = segments[0][0] if segments else self._end
        duration = self._seconds(len(pcm))
        self._end = self._pieces[0][0] if self._pieces else start + duration
        captured = tuple(self._captured)
        self._captured.clear()
        return Frame(self._encoded(pcm), start, duration, captured, tuple(segments))
