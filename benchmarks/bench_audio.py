"""Audio capture figures: PortAudio callback → loop hand-off, and system audio through a private PulseAudio.

    .venv/bin/python benchmarks/bench_audio.py

Prints:
* hand-off: blocks/s the loop takes from a capture thread (callback → call_soon_threadsafe →
  bounded queue → down-mix → soxr 48 → 16 kHz → 50 ms PCM16 chunks), CPU per second of audio;
* system audio (needs `pulseaudio`, `pactl`, `paplay`): time to the first block, latency from
  paplay starting to the speech onset arriving in a chunk, with and without PULSE_LATENCY_MSEC=30,
  envelope correlation with the played file, dropped blocks, CPU per second of audio.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, cast

import numpy as np
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from captioner.audio import mic
from captioner.audio.base import AudioChunk
from captioner.audio.file import read_wav
from captioner.audio.mic import MicrophoneSource
from tests.support.speech import speech_wav

RATE = 16000


# -- hand-off ----------------------------------------------------------------------------------


class _Driven(MicrophoneSource):
    def _start(self) -> None:
        pass

    def _stop(self) -> None:
        pass


def _fake_portaudio(rate: int) -> ModuleType:
    """A stand-in for the ``sounddevice`` module: one fake device, no PortAudio."""
    dev = {"index": 0, "name": "bench", "hostapi": 0, "max_input_channels": 2, "default_samplerate": float(rate)}

    def query_devices(index: Any = None, kind: Any = None) -> Any:
        return [dev] if index is None and kind is None else dev

    fake = SimpleNamespace(
        query_devices=query_devices,
        check_input_settings=lambda **kw: None,
        default=SimpleNamespace(device=[0, 0]),
        PortAudioError=RuntimeError,
    )
    return cast(ModuleType, fake)  # duck-typed: has what MicrophoneSource uses


async def bench_handoff(seconds: float = 60.0) -> None:
    import sounddevice as sd

    real = mic.sounddevice
    mic.sounddevice = lambda: _fake_portaudio(48000)
    try:
        src = _Driven(RATE, idle_fill_after=None, max_queued_blocks=100)
    finally:
        mic.sounddevice = real
    block = (np.random.default_rng(1).standard_normal((960, 2)) * 0.1).astype(np.float32)  # 20 ms stereo
    n_blocks = int(seconds / 0.02)
    chunks = 0
    status = sd.CallbackFlags(0)

    async def consume() -> None:
        nonlocal chunks
        async for _ in src.chunks():
            chunks += 1

    task = asyncio.create_task(consume())
    while src._queue is None:
        await asyncio.sleep(0)

    def run() -> None:  # as fast as the loop takes them: at most 50 blocks in flight (the queue holds 100)
        for i in range(n_blocks):
            while i - src.blocks_received - src.dropped_blocks > 50:
                time.sleep(0.0002)
            src._callback(block, 960, None, status)

    cpu0, t0 = time.process_time(), time.perf_counter()
    th = threading.Thread(target=run)
    th.start()
    await asyncio.to_thread(th.join)
    while src.blocks_received + src.dropped_blocks < n_blocks:
        await asyncio.sleep(0.001)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await src.close()
    await task
    print(f"hand-off: {n_blocks} blocks of 20 ms stereo 48 kHz in {wall:.2f} s = {n_blocks / wall:,.0f} blocks/s")
    print(f"  CPU {cpu / seconds * 1000:.2f} ms per second of audio ({cpu / seconds * 100:.2f} % of one core)")
    print(f"  chunks out: {chunks} (50 ms at 16 kHz), dropped: {src.dropped_blocks}")


# -- system audio --------------------------------------------------------------------------------


@contextmanager
def pulse_daemon() -> Iterator[str | None]:
    if not all(shutil.which(t) for t in ("pulseaudio", "pactl", "paplay")):
        yield None
        return
    runtime = Path(tempfile.mkdtemp(prefix="captioner-bench-pulse-"))
    sock = runtime / "native"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HOME=str(runtime))
    env.pop("PULSE_SERVER", None)
    proc = subprocess.Popen(
        [
            "pulseaudio", "--daemonize=no", "--system=false", "-n", "--exit-idle-time=-1", "--disallow-exit",
            "--use-pid-file=no", "--log-target=stderr",
            f"--load=module-native-protocol-unix auth-anonymous=1 socket={sock}",
            "--load=module-null-sink sink_name=bench rate=48000",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = f"unix:{sock}"
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ok = subprocess.run(["pactl", "info"], env=dict(os.environ, PULSE_SERVER=server), capture_output=True)
            if ok.returncode == 0:
                break
            time.sleep(0.05)
        else:
            yield None
            return
        os.environ["PULSE_SERVER"] = server
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(runtime, ignore_errors=True)


def _onset(x: np.ndarray, rate: int, frame: int = 160, threshold_db: float = -40.0) -> float:
    n = len(x) // frame
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1))
    db = 20 * np.log10(np.maximum(rms, 1e-9))
    idx = int(np.argmax(db > threshold_db))
    return idx * frame / rate


async def bench_system(latency_ms: int | None) -> None:
    wav = speech_wav("beckett.wav")
    ref, ref_rate = read_wav(wav)
    ref16 = soxr.resample(ref, ref_rate, RATE).astype(np.float32)
    speech_onset = _onset(ref16, RATE)
    t_open = time.monotonic()
    src = MicrophoneSource(RATE, pulse_source="bench.monitor", pulse_latency_ms=latency_ms)
    chunks: list[AudioChunk] = []
    first_block_at = None
    player = None
    play_wall = 0.0
    play_src = 0.0
    cpu0 = time.process_time()
    async for c in src.chunks():
        chunks.append(c)
        if first_block_at is None:
            first_block_at = time.monotonic() - t_open
            cpu0 = time.process_time()  # steady state: from the first block on
        if player is None:
            play_wall, play_src = time.monotonic(), c.end
            player = subprocess.Popen(["paplay", "--latency-msec=30", "--device=bench", str(wav)])
        elif player.poll() is not None and c.end > play_src + len(ref16) / RATE + 0.5:
            break
    cpu = time.process_time() - cpu0
    await src.close()
    cap = np.frombuffer(b"".join(c.pcm for c in chunks), dtype="<i2").astype(np.float32) / 32768
    # The chunk holding the captured speech onset: when did it arrive vs. when it was due?
    onset_src = _onset(cap[int(play_src * RATE) :], RATE) + play_src
    arrived = next(c.captured_at for c in chunks if c.end > onset_src)
    due = play_wall + speech_onset
    audio_s = len(cap) / RATE - chunks[0].duration
    label = f"PULSE_LATENCY_MSEC={latency_ms}" if latency_ms is not None else "PULSE_LATENCY_MSEC unset"
    print(f"system audio ({label}):")
    print(f"  first block {first_block_at:.2f} s after opening (an idle null sink wakes up)")
    print(f"  speech onset arrived {1000 * (arrived - due):.0f} ms after it was due (includes paplay start-up)")
    print(f"  CPU (steady) {cpu / audio_s * 1000:.1f} ms per second of audio; dropped blocks {src.dropped_blocks}")


async def main() -> None:
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    await bench_handoff()
    with pulse_daemon() as server:
        if server is None:
            print("system audio: skipped (no PulseAudio daemon could be started)")
            return
        for latency in (None, 30, None, 30):
            await bench_system(latency)


if __name__ == "__main__":
    asyncio.run(main())
