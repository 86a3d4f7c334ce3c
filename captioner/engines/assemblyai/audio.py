"""AssemblyAI Universal-Streaming v3: audio framing (sans-IO).

Owns how audio goes on the wire: :class:`AudioFramer` cuts PCM16 blocks into
``chunk_ms`` :class:`Frame` payloads (G.711 µ-law encoded if asked, see
:func:`mulaw_encode`) and remembers where each frame sits on the source
timeline, so that the service's times can be mapped back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from captioner.engines.assemblyai.config import SAMPLE_RATE

MAX_FRAME_BYTES = 128 * 1024


def mulaw_encode(pcm: bytes) -> bytes:
    """PCM16 little-endian → G.711 µ-law, one byte per sample (bit-exact with CPython's ``audioop``)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int32) >> 2  # 14-bit, as G.711 specifies
    negative = x < 0
    mag = np.minimum(np.where(negative, -x, x), 8159) + 0x21
    seg = np.floor(np.log2(mag)).astype(np.int32) - 5
    uval = np.where(seg > 7, 0x7F, (np.minimum(seg, 7) << 4) | ((mag >> (np.minimum(seg, 7) + 1)) & 0x0F))
    mask = np.where(negative, 0x7F, 0xFF)
    return ((uval ^ mask) & 0xFF).astype(np.uint8).tobytes()


def mulaw_decode(data: bytes) -> bytes:
    """G.711 µ-law → PCM16 little-endian (used by tests and the fake server)."""
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    mag = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -mag, mag).astype("<i2").tobytes()


@dataclass(frozen=True, slots=True)
class Frame:
    """One audio message: its payload and where it sits on the source timeline."""

    payload: bytes
    start: float
    """Source time (s) of the first sample."""
    duration: float
    captured_at: tuple[float, ...] = ()
    """``captured_at`` of the source blocks completed by this frame (for latency figures)."""
    segments: tuple[tuple[float, float], ...] = ()
    """``(source start, seconds)`` of the audio in the frame: more than one when the frame spans
    a gap (audio the session skipped); padding is not in any segment."""


@dataclass
class AudioFramer:
    """Cuts PCM16 blocks into frames of exactly ``chunk_ms`` (the last one padded to ≥ 50 ms)."""

    sample_rate: int = SAMPLE_RATE
    chunk_ms: int = 50
    encoding: str = "pcm_s16le"
    _buf: bytearray = field(default_factory=bytearray)
    _buf_start: float | None = None
    _captured: list[float] = field(default_factory=list)
    _segments: list[tuple[float, float]] = field(default_factory=list)

    @property
    def frame_bytes(self) -> int:
        """PCM16 bytes per frame."""
        return self.sample_rate * self.chunk_ms // 1000 * 2

    def push(self, pcm: bytes, start: float, captured_at: float | None = None) -> Iterator[Frame]:
        """Add a block (PCM16 at ``sample_rate``, starting at source time ``start``); yield full frames."""
        n = self.frame_bytes
        if not self._buf and len(pcm) == n:  # the common case: blocks already the frame size
            payload = mulaw_encode(pcm) if self.encoding == "pcm_mulaw" else pcm
            captured = (*self._captured, captured_at) if captured_at is not None else tuple(self._captured)
            self._captured.clear()
            self._buf_start = start + n / 2 / self.sample_rate
            duration = n / 2 / self.sample_rate
            yield Frame(payload, start, duration, captured, ((start, duration),))
            return
        if self._buf_start is None or not self._buf:
            self._buf_start = start
        if pcm:
            self._segments.append((start, len(pcm) / 2 / self.sample_rate))
        self._buf += pcm
        if captured_at is not None:
            self._captured.append(captured_at)
        while len(self._buf) >= n:
            yield self._take(n)

    def flush(self) -> Iterator[Frame]:
        """The rest of the audio, padded with silence to the 50 ms minimum."""
        if not self._buf:
            return
        minimum = self.sample_rate * 50 // 1000 * 2
        if len(self._buf) < minimum:
            self._buf += b"\x00" * (minimum - len(self._buf))  # padding: in no segment
        yield self._take(len(self._buf))

    def _take(self, n: int) -> Frame:
        pcm = bytes(self._buf[:n])
        del self._buf[:n]
        duration = len(pcm) / 2 / self.sample_rate
        # The source pieces in these n bytes (split the last one if the frame ends inside it).
        segments: list[tuple[float, float]] = []
        need = duration
        while self._segments and need > 1e-9:
            seg_start, seg_len = self._segments[0]
            take = min(seg_len, need)
            segments.append((seg_start, take))
            need -= take
            if seg_len - take > 1e-9:
                self._segments[0] = (seg_start + take, seg_len - take)
            else:
                self._segments.pop(0)
        start = segments[0][0] if segments else (self._buf_start if self._buf_start is not None else 0.0)
        self._buf_start = self._segments[0][0] if self._segments else start + duration
        captured = tuple(self._captured)
        self._captured.clear()
        payload = mulaw_encode(pcm) if self.encoding == "pcm_mulaw" else pcm
        return Frame(payload, start, duration, captured, tuple(segments))
