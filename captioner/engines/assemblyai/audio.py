"""AssemblyAI Universal-Streaming v3: the audio encodings and frame rules (sans-IO).

Owns what AssemblyAI requires of audio on the wire: G.711 µ-law
(:func:`mulaw_encode`, bit-exact with CPython's old ``audioop``) and
:class:`AudioFramer`, the shared :class:`~captioner.engines.wire.framer.Framer`
set to AssemblyAI's limits: every frame 50–1000 ms (``chunk_ms``), the last one
padded to 50 ms, at most 128 KB (see ``docs/protocols/assemblyai-v3.md``).
"""

from __future__ import annotations

import numpy as np

from captioner.engines.assemblyai.config import SAMPLE_RATE
from captioner.engines.wire.framer import Frame, Framer

__all__ = ["MAX_FRAME_BYTES", "MIN_FRAME_MS", "AudioFramer", "Frame", "mulaw_decode", "mulaw_encode"]

MAX_FRAME_BYTES = 128 * 1024
MIN_FRAME_MS = 50


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


class AudioFramer(Framer):
    """The wire framer with AssemblyAI's rules: ``chunk_ms`` frames, the last padded to 50 ms, µ-law if asked."""

    def __init__(self, sample_rate: int = SAMPLE_RATE, chunk_ms: int = 50, encoding: str = "pcm_s16le") -> None:
        super().__init__(
            sample_rate,
            chunk_ms,
            min_last_ms=MIN_FRAME_MS,
            encode=mulaw_encode if encoding == "pcm_mulaw" else None,
            service="AssemblyAI",
        )
