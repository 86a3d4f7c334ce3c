"""A WAV file as an audio source: any sample rate, any channel count, resampled once with soxr."""

from __future__ import annotations

import asyncio
import struct
import time
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import soxr

from captioner.audio.base import AudioChunk, AudioError, AudioSource, to_pcm16

FLOAT_FORMATS = ("unknown format: 3",)
"""How the wave module refuses IEEE-float samples (WAVE_FORMAT_IEEE_FLOAT)."""
MIN_RATE = 4000
"""The lowest sample rate taken (Hz): below it no speech is left to caption (telephone audio is 8000 Hz)."""
CONVERT = "convert it to 16-bit PCM, e.g. sox IN.wav -b 16 OUT.wav"


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a PCM WAV file as float32 mono in -1…1 and its sample rate.

    Raises :class:`AudioError` with a plain message for anything unreadable.
    """
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such file")
    if p.is_dir():
        raise AudioError(f"{p}: is a directory, not a WAV file")
    try:
        with wave.open(str(p), "rb") as w:
            channels = w.getnchannels()
            width = w.getsampwidth()
            rate = w.getframerate()
            frames = w.readframes(w.getnframes())
    except wave.Error as exc:
        if str(exc) in FLOAT_FORMATS:
            raise AudioError(f"{p}: floating-point WAV files are not supported; {CONVERT}") from None
        raise AudioError(f"{p}: not a readable PCM WAV file ({exc})") from None
    except (EOFError, RuntimeError, ValueError, struct.error) as exc:  # what the wave module raises on bad chunks
        raise AudioError(
            f"{p}: not a readable PCM WAV file (damaged or truncated: {exc or type(exc).__name__})"
        ) from None
    except OSError as exc:
        raise AudioError(f"{p}: cannot read ({exc.strerror or exc})") from None
    if rate <= 0 or channels <= 0:
        raise AudioError(f"{p}: invalid WAV header (rate {rate}, channels {channels})")
    if rate < MIN_RATE:
        raise AudioError(f"{p}: a sample rate of {rate} Hz cannot hold speech (it takes at least {MIN_RATE} Hz)")
    frames = frames[: len(frames) // max(1, width) * max(1, width)]  # a truncated file can end mid-sample
    if width == 1:
        data = (np.frombuffer(frames, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(frames[: len(frames) // 3 * 3], dtype=np.uint8).reshape(-1, 3)
        i32 = (b[:, 0].astype(np.int32) | (b[:, 1].astype(np.int32) << 8) | (b[:, 2].astype(np.int32) << 16)) << 8
        data = i32.astype(np.float32) / 2147483648.0
    elif width == 4:
        data = np.frombuffer(frames, dtype="<i4").astype(np.float32) / 2147483648.0
    else:
        raise AudioError(f"{p}: unsupported sample width of {width} bytes; {CONVERT}")
    usable = len(data) // channels * channels
    if usable == 0:
        raise AudioError(f"{p}: the file holds no audio (0 samples)")
    data = data[:usable].reshape(-1, channels).mean(axis=1) if channels > 1 else data[:usable]
    return np.ascontiguousarray(data, dtype=np.float32), rate


class WavFileSource(AudioSource):
    """Plays a WAV file into the pipeline.

    ``realtime=True`` paces chunks at 1× speed (as a live source would);
    ``False`` yields them as fast as the consumer takes them.
    """

    def __init__(
        self,
        path: str | Path,
        sample_rate: int,
        *,
        realtime: bool = True,
        chunk_ms: int = 50,
        speed: float = 1.0,
    ) -> None:
        samples, rate = read_wav(path)  # fail early with a clear message
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.source_rate = rate
        self.description = f"file {self.path.name}"
        self.realtime = realtime
        self.speed = speed
        self.chunk_samples = max(1, sample_rate * chunk_ms // 1000)
        if rate != sample_rate:
            samples = soxr.resample(samples, rate, sample_rate, quality="HQ")
        self._pcm = to_pcm16(np.asarray(samples, dtype=np.float32))
        self._closed = asyncio.Event()

    @property
    def duration(self) -> float:
        return len(self._pcm) / 2 / self.sample_rate

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        step = self.chunk_samples * 2
        t0 = time.monotonic()
        for i, off in enumerate(range(0, len(self._pcm), step)):
            if self._closed.is_set():
                return
            pcm = self._pcm[off : off + step]
            start = off / 2 / self.sample_rate
            if self.realtime:
                # A live source delivers a block once it has been fully captured.
                due = t0 + (start + len(pcm) / 2 / self.sample_rate) / self.speed
                delay = due - time.monotonic()
                if delay > 0:
                    try:
                        await asyncio.wait_for(self._closed.wait(), delay)
                        return
                    except TimeoutError:
                        pass
            elif i % 20 == 0:
                await asyncio.sleep(0)  # let the rest of the loop breathe
            yield AudioChunk(pcm, self.sample_rate, start, time.monotonic())

    async def close(self) -> None:
        self._closed.set()
