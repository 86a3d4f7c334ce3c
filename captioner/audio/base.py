"""The audio contract: sources yield :class:`AudioChunk` s through one async interface."""

from __future__ import annotations

import abc
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import numpy as np


class AudioError(Exception):
    """An audio source cannot be opened or read. The message is shown to the user as is."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceChange:
    """The device behind a live source went away (``available`` false) or capture resumed on one (true).

    ``message`` says so in plain words ("microphone X was disconnected"); the session shows it to the user.
    """

    available: bool
    message: str


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A block of PCM16 little-endian mono audio.

    ``start`` is the position of the first sample on the source timeline
    (seconds since the source started); ``captured_at`` is the
    ``time.monotonic()`` at which the block was captured (for a file paced
    as fast as possible, when it was read).
    """

    pcm: bytes
    sample_rate: int
    start: float
    captured_at: float

    @property
    def samples(self) -> int:
        return len(self.pcm) // 2

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate

    @property
    def end(self) -> float:
        return self.start + self.duration

    def rms_dbfs(self) -> float:
        """Level of the block in dBFS (-inf … 0); -120 for digital silence."""
        if not self.pcm:
            return -120.0
        a = np.frombuffer(self.pcm, dtype="<i2").astype(np.float32)
        rms = float(np.sqrt(np.mean(a * a))) / 32768.0
        return 20.0 * math.log10(rms) if rms > 1e-6 else -120.0


class AudioSource(abc.ABC):
    """A stream of audio at ``sample_rate`` Hz (already resampled for the engine).

    ``chunks()`` may be iterated once. It ends when the source ends (end of
    file) or after :meth:`close`. ``dropped_blocks`` counts blocks lost
    because the consumer was too slow (never silently: the session reports it).
    """

    sample_rate: int
    description: str = ""

    @property
    def dropped_blocks(self) -> int:
        return 0

    def watch_devices(self, listener: Callable[[DeviceChange], None]) -> None:
        """Have ``listener`` called, on the loop, when the device goes away or capture resumes (a source that
        wraps another passes it on; a source without a device never calls it)."""
        del listener  # no device here: nothing to watch

    @abc.abstractmethod
    def chunks(self) -> AsyncIterator[AudioChunk]:
        """Yield chunks until the source ends or is closed."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop capturing; ``chunks()`` ends soon after. Safe to call twice."""


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float (-1…1) or int16 samples to PCM16 little-endian bytes, clipping."""
    if samples.dtype == np.int16:
        return samples.astype("<i2", copy=False).tobytes()
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).round().astype("<i2").tobytes()
