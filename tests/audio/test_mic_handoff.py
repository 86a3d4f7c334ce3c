"""The microphone source's PortAudio callback → asyncio loop hand-off, bounded queue and overflow counting.

The boundary is PortAudio itself: device enumeration is replaced by a fake
device list, the stream is not opened, and the source's real ``_callback`` is
driven from a plain thread the way PortAudio's audio thread drives it.
Everything after the callback (hand-off, queue, down-mix, soxr, chunking) is real.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import sounddevice as real_sd

from captioner.audio import mic
from captioner.audio.base import AudioChunk, AudioError
from captioner.audio.mic import MicrophoneSource


class _PortAudioError(Exception):
    pass


def fake_portaudio(rate: int, channels: int = 2) -> SimpleNamespace:
    devices = [
        {"index": 0, "name": "HDA Intel PCH: ALC892 Analog (hw:0,0)", "hostapi": 0, "max_input_channels": channels,
         "max_output_channels": 2, "default_samplerate": float(rate)},
    ]  # fmt: skip

    def query_devices(index: int | None = None, kind: str | None = None) -> Any:
        if index is None and kind is None:
            return devices
        return devices[0]

    def check_input_settings(device: int, channels: int, samplerate: int, dtype: str) -> None:
        if samplerate != rate:
            raise _PortAudioError("Invalid sample rate")

    return SimpleNamespace(
        query_devices=query_devices,
        check_input_settings=check_input_settings,
        default=SimpleNamespace(device=[0, 0]),
        PortAudioError=_PortAudioError,
    )


class DrivenMic(MicrophoneSource):
    """A MicrophoneSource whose stream is driven by the test instead of PortAudio."""

    stops = 0

    def _start(self) -> None:  # no PortAudio stream: the test thread plays PortAudio's part
        pass

    def _stop(self) -> None:
        self.stops += 1


MakeMic = Callable[..., DrivenMic]
"""``make_mic(device_rate, channels=2, **source_options)``: a DrivenMic on a fake device of that rate."""


@pytest.fixture
def make_mic(monkeypatch: pytest.MonkeyPatch) -> MakeMic:
    def make(rate: int, channels: int = 2, **kw: Any) -> DrivenMic:
        monkeypatch.setattr(mic, "sounddevice", lambda: fake_portaudio(rate, channels))
        return DrivenMic(16000, **kw)

    return make


def drive(src: MicrophoneSource, blocks: list[np.ndarray], flags: int = 0) -> threading.Thread:
    """Call the source's PortAudio callback from another thread, once per block."""
    status = real_sd.CallbackFlags(flags)

    def run() -> None:
        for b in blocks:
            src._callback(b, len(b), None, status)

    t = threading.Thread(target=run, name="fake-portaudio")
    t.start()
    return t


async def wait_until(cond: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.001)


def sine(freq: float, rate: int, seconds: float, channels: int = 2) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    x = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    out = np.zeros((len(x), channels), dtype=np.float32)
    out[:, 0] = x
    if channels > 1:
        out[:, 1] = x
    return out


async def test_callback_blocks_reach_the_loop_resampled_and_chunked(make_mic: MakeMic) -> None:
    src = make_mic(44100, idle_fill_after=None)
    assert (src.device_rate, src.channels) == (44100, 1)
    audio = sine(440.0, 44100, 1.0)  # stereo block data as PortAudio would give for 2 channels
    blocks = [audio[i : i + 441] for i in range(0, len(audio), 441)]
    loop_thread = threading.get_ident()
    delivered_on: set[int] = set()
    deliver = src._deliver

    def spy(block: np.ndarray, captured_at: float) -> None:
        delivered_on.add(threading.get_ident())
        deliver(block, captured_at)

    src._deliver = spy  # type: ignore[method-assign]
    got: list[AudioChunk] = []

    async def consume() -> None:
        async for c in src.chunks():
            got.append(c)

    task = asyncio.create_task(consume())
    await wait_until(lambda: src._queue is not None)
    t = drive(src, blocks)
    await asyncio.to_thread(t.join)
    await wait_until(lambda: src.blocks_received == len(blocks))
    await src.close()
    await asyncio.wait_for(task, 5)

    assert delivered_on == {loop_thread}, "blocks must be handed to the loop thread"
    assert src.dropped_blocks == 0
    assert src.stops == 1
    assert all(c.sample_rate == 16000 for c in got)
    assert all(c.samples == 800 for c in got[:-1])  # 50 ms chunks
    for a, b in itertools.pairwise(got):  # contiguous source timeline
        assert b.start == pytest.approx(a.end)
    pcm = np.frombuffer(b"".join(c.pcm for c in got), dtype="<i2").astype(np.float32) / 32768
    assert len(pcm) == pytest.approx(16000, abs=2)  # one second in, one second out (resampler flushed)
    spectrum = np.abs(np.fft.rfft(pcm[2000:14000]))
    peak_hz = np.argmax(spectrum) * 16000 / 12000
    assert peak_hz == pytest.approx(440, abs=3)
    assert float(np.max(np.abs(pcm[2000:14000]))) == pytest.approx(0.5, abs=0.02)


async def test_full_queue_drops_and_counts_blocks(make_mic: MakeMic) -> None:
    src = make_mic(16000, max_queued_blocks=5, idle_fill_after=None)  # no resampling: 160-frame blocks = 10 ms
    block = np.full((160, 2), 0.25, dtype=np.float32)
    it = src.chunks().__aiter__()
    first = asyncio.ensure_future(it.__anext__())
    await wait_until(lambda: src._queue is not None)
    await asyncio.to_thread(drive(src, [block] * 5).join)
    chunk = await asyncio.wait_for(first, 5)  # five 10 ms blocks make the first 50 ms chunk
    assert chunk.samples == 800 and src.dropped_blocks == 0
    # The consumer is now paused (a slow engine): the queue holds 5 blocks, the rest are dropped and counted.
    await asyncio.to_thread(drive(src, [block] * 12).join)
    assert src._queue is not None
    queue = src._queue
    await wait_until(lambda: queue.qsize() + src.dropped_blocks == 12)
    assert queue.qsize() == 5
    assert src.dropped_blocks == 7
    nxt = await asyncio.wait_for(it.__anext__(), 5)  # the queued blocks are still delivered, in order
    assert nxt.samples == 800 and nxt.start == pytest.approx(0.05)
    await src.close()


async def test_portaudio_input_overflow_flag_is_counted(make_mic: MakeMic) -> None:
    src = make_mic(16000, idle_fill_after=None)
    block = np.zeros((160, 1), dtype=np.float32)
    it = src.chunks().__aiter__()
    first = asyncio.ensure_future(it.__anext__())
    await wait_until(lambda: src._queue is not None)
    overflow = real_sd._lib.paInputOverflow
    assert real_sd.CallbackFlags(overflow).input_overflow
    await asyncio.to_thread(drive(src, [block] * 3, flags=overflow).join)
    await asyncio.to_thread(drive(src, [block] * 2).join)
    await asyncio.wait_for(first, 5)
    assert src.dropped_blocks == 3
    assert src.blocks_received == 5  # the flagged blocks themselves still arrive
    await src.close()


async def test_close_wakes_the_consumer_and_flushes_the_last_partial_chunk(make_mic: MakeMic) -> None:
    src = make_mic(16000, idle_fill_after=None)
    got: list[AudioChunk] = []

    async def consume() -> None:
        async for c in src.chunks():
            got.append(c)

    task = asyncio.create_task(consume())
    await wait_until(lambda: src._queue is not None)
    await asyncio.to_thread(drive(src, [np.full((160, 1), 0.1, dtype=np.float32)] * 7).join)
    await wait_until(lambda: src.blocks_received == 7)
    await src.close()
    await src.close()  # twice is fine
    await asyncio.wait_for(task, 5)
    assert [c.samples for c in got] == [800, 320]
    assert src.stops == 1
    # After close, late callbacks from PortAudio's thread are ignored.
    await asyncio.to_thread(drive(src, [np.zeros((160, 1), dtype=np.float32)]).join)
    assert src.blocks_received == 7


async def test_an_idle_device_is_filled_with_silence_so_time_goes_on(make_mic: MakeMic) -> None:
    src = make_mic(16000, idle_fill_after=0.1)
    got: list[AudioChunk] = []

    async def consume() -> None:
        async for c in src.chunks():
            got.append(c)

    task = asyncio.create_task(consume())
    await wait_until(lambda: src._queue is not None)
    await asyncio.to_thread(drive(src, [np.full((160, 1), 0.3, dtype=np.float32)] * 10).join)
    # The device now delivers nothing (an idle PulseAudio monitor): silence chunks keep coming.
    await wait_until(lambda: len(got) >= 8, timeout=5)
    await src.close()
    await asyncio.wait_for(task, 5)
    assert src.silence_filled > 0
    for a, b in itertools.pairwise(got):
        assert b.start == pytest.approx(a.end)
    assert got[0].rms_dbfs() > -20
    assert got[-1].rms_dbfs() == -120.0


def test_device_selection_by_default_index_name_and_part() -> None:
    devices = [
        {"index": 0, "name": "HDA Intel PCH: ALC892 Analog (hw:0,0)", "max_input_channels": 2},
        {"index": 1, "name": "HDA Intel PCH: HDMI 0 (hw:0,3)", "max_input_channels": 0},
        {"index": 2, "name": "USB Audio Device: - (hw:1,0)", "max_input_channels": 1},
        {"index": 3, "name": "pulse", "max_input_channels": 32},
        {"index": 4, "name": "default", "max_input_channels": 32},
    ]
    pick = mic.resolve_input_device
    assert pick(devices, None, 4) == 4
    assert pick(devices, "", 4) == 4
    assert pick(devices, None, -1) == 0  # no default: the first input
    assert pick(devices, 2, 4) == 2
    assert pick(devices, "3", 4) == 3
    assert pick(devices, "PULSE", 4) == 3
    assert pick(devices, "usb", 4) == 2
    assert pick(devices, "hda intel", 4) == 0  # the HDMI output is not an input
    with pytest.raises(AudioError, match=r"'\(hw:' matches several input devices \(0: HDA.*, 2: USB"):
        pick(devices, "(hw:", 4)
    with pytest.raises(AudioError, match="no input device with id 1"):
        pick(devices, "1", 4)  # an output only
    with pytest.raises(AudioError, match=r"no input device matches 'webcam' \(see `captioner devices`\)"):
        pick(devices, "webcam", 4)
    with pytest.raises(AudioError, match="no microphone found"):
        pick([], None, -1)


def test_missing_portaudio_is_a_plain_audio_error() -> None:
    code = (
        "import ctypes.util; ctypes.util.find_library = lambda name: None\n"
        "from captioner.audio.base import AudioError\n"
        "from captioner.audio.mic import MicrophoneSource\n"
        "try:\n    MicrophoneSource(16000)\nexcept AudioError as e:\n    print('AudioError:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("AudioError: audio capture needs the PortAudio library")
    assert "libportaudio2" in out.stdout
