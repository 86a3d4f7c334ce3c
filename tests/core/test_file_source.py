"""WAV files of any rate/channel count/sample width, resampled once with soxr."""

from __future__ import annotations

import time
import wave
from pathlib import Path

import numpy as np
import pytest

from captioner.audio.base import AudioError
from captioner.audio.file import WavFileSource, read_wav


def write(path: Path, rate: int, channels: int, width: int = 2, seconds: float = 0.5, freq: float = 440.0) -> Path:
    n = int(rate * seconds)
    x = np.sin(2 * np.pi * freq * np.arange(n) / rate) * 0.5
    if width == 1:
        data = ((x + 1) * 127.5).astype(np.uint8)
    elif width == 2:
        data = (x * 32767).astype("<i2")
    elif width == 3:
        i = (x * (2**23 - 1)).astype("<i4")
        data = np.frombuffer(i.tobytes(), dtype=np.uint8).reshape(-1, 4)[:, :3].copy()
    else:
        data = (x * (2**31 - 1)).astype("<i4")
    if channels > 1:
        data = (
            np.repeat(data.reshape(n, -1), channels, axis=0).reshape(n, -1)
            if width == 3
            else np.repeat(data[:, None], channels, axis=1)
        )
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    return path


async def collect(src: WavFileSource) -> bytes:
    return b"".join([c.pcm async for c in src.chunks()])


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
@pytest.mark.parametrize("channels", [1, 2])
async def test_any_rate_and_channels_to_16k_mono(tmp_path: Path, rate: int, channels: int) -> None:
    path = write(tmp_path / "t.wav", rate, channels)
    src = WavFileSource(path, 16000, realtime=False)
    pcm = await collect(src)
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768
    assert abs(len(samples) - 8000) <= 2  # 0.5 s at 16 kHz
    # The tone survives resampling: its frequency is still 440 Hz and its level ~ -9 dBFS.
    spectrum = np.abs(np.fft.rfft(samples[1000:7000]))
    peak_hz = np.argmax(spectrum) * 16000 / 6000
    assert abs(peak_hz - 440) < 5
    assert 0.3 < np.sqrt(np.mean(samples[1000:7000] ** 2)) < 0.4


@pytest.mark.parametrize("width", [1, 3, 4])
def test_sample_widths(tmp_path: Path, width: int) -> None:
    samples, rate = read_wav(write(tmp_path / "w.wav", 16000, 1, width=width))
    assert rate == 16000
    assert abs(float(np.max(samples)) - 0.5) < 0.02


async def test_chunks_are_50ms_with_source_timeline(tmp_path: Path) -> None:
    src = WavFileSource(write(tmp_path / "t.wav", 16000, 1, seconds=0.3), 16000, realtime=False)
    chunks = [c async for c in src.chunks()]
    assert [round(c.start, 3) for c in chunks] == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25]
    assert all(c.samples == 800 and c.sample_rate == 16000 for c in chunks)


async def test_realtime_pacing_and_close(tmp_path: Path) -> None:
    src = WavFileSource(write(tmp_path / "t.wav", 16000, 1, seconds=0.4), 16000, realtime=True)
    t0 = time.monotonic()
    chunks = [c async for c in src.chunks()]
    elapsed = time.monotonic() - t0
    assert len(chunks) == 8
    assert elapsed >= 0.38  # a live source cannot deliver audio before it was "captured"
    src2 = WavFileSource(write(tmp_path / "u.wav", 16000, 1, seconds=5), 16000, realtime=True)
    got = []
    async for c in src2.chunks():
        got.append(c)
        if len(got) == 2:
            await src2.close()
    assert len(got) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a readable PCM WAV"),
        (b"RIFF....WAVEjunk", "not a readable PCM WAV"),
        (b"ID3\x03mp3", "not a readable"),
    ],
)
def test_unreadable_files_raise_audio_error(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "x.wav"
    p.write_bytes(content)
    with pytest.raises(AudioError, match=message):
        read_wav(p)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="no such file"):
        read_wav(tmp_path / "nope.wav")
