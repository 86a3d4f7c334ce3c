"""Meeting mode figures: CPU and memory against one source, the echo canceller's cost, and its added latency.

    .venv/bin/python benchmarks/bench_meeting.py              # everything below
    .venv/bin/python benchmarks/bench_meeting.py --compare    # also the echo cancellers compared (optional packages)

Prints:
* the echo canceller alone (WebRTC AEC3 through livekit) on the test's echo mix (*A Tale of Two Cities* from
  the speakers at -10 dB, 100 ms later, sox reverb, plus Beckett read over it): CPU per audio second, ERLE where
  only the echo is heard (after 5 s) and the level of your voice where both talk;
* memory of two Moonshine engines running at once, sharing the model (as meeting mode does) and each loading
  its own copy;
* the CLI live, under a private PulseAudio daemon with the stand-in microphone of ``tests/meeting``, with the
  default engine: ``--source system`` (one source) against ``--source both`` (meeting mode, echo mix in the
  microphone): CPU (% of one core over the 44 s of playback), peak RSS, and from the meeting's own log how long
  microphone chunks waited for their reference (the echo path's added capture → caption latency).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from captioner.audio.base import AudioChunk
from captioner.audio.echo import EchoCanceller

RATE = 16000
TALK = ((12.0, 22.0), (30.0, 40.0))


def _read(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1.0))


def _signals(tmp: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(reference, microphone, your voice alone) at 16 kHz, int16, same length."""
    from tests.meeting.helpers import echo_mix, your_voice
    from tests.support.speech import speech_wav

    mic = _read(echo_mix(tmp / "mic.wav", delay=0.1))
    far = tmp / "far.wav"
    subprocess.run(["sox", str(speech_wav("two_cities.wav")), "-r", "16000", "-b", "16", str(far)], check=True)
    ref, you = _read(far), _read(your_voice(tmp / "you-alone.wav"))
    n = min(len(ref), len(mic))
    return ref[:n], mic[:n], np.pad(you, (0, max(0, n - len(you))))[:n]


def _quality(name: str, out: np.ndarray, mic: np.ndarray, cpu: float, seconds: float) -> None:
    echo_only = np.ones(len(mic), dtype=bool)
    echo_only[: 5 * RATE] = False
    for a, b in TALK:
        echo_only[int(a * RATE) : int(b * RATE)] = False
    talk = ~echo_only
    talk[: 5 * RATE] = False
    erle = _db(mic[echo_only]) - _db(out[echo_only])
    kept = _db(out[talk]) - _db(mic[talk])
    print(
        f"  {name:<16} ERLE {erle:5.1f} dB; your voice over the echo {kept:+.1f} dB; "
        f"{1000 * cpu / seconds:.2f} ms CPU/s"
    )


def bench_canceller(tmp: Path) -> None:
    ref, mic, _ = _signals(tmp)
    canceller = EchoCanceller(RATE)
    out, chunk = [], 800
    for i in range(0, len(mic) - chunk + 1, chunk):
        t = i / RATE
        canceller.reference(AudioChunk(ref[i : i + chunk].tobytes(), RATE, t, 100.0 + t + 0.05))
        got = canceller.process(AudioChunk(mic[i : i + chunk].tobytes(), RATE, t, 100.0 + t + 0.05))
        out.append(np.frombuffer(got.pcm, dtype="<i2"))
    cancelled = np.concatenate(out)
    print("echo canceller on the echo mix (44 s):")
    _quality("livekit AEC3", cancelled, mic[: len(cancelled)], canceller.cpu_seconds, canceller.processed_seconds)


def compare(tmp: Path) -> None:
    """The alternatives, where installed: pywebrtc-audio (AEC3 too) and libspeexdsp (Speex MDF, Debian package)."""
    import ctypes
    import ctypes.util

    ref, mic, _ = _signals(tmp)
    frame = 160
    try:
        from pywebrtc_audio import EchoCanceller as PyWebrtc

        ec = PyWebrtc(sample_rate=RATE)
        t0 = time.process_time()
        out = np.concatenate([ec.process(mic[i : i + 800], ref[i : i + 800]) for i in range(0, len(mic) - 799, 800)])
        _quality("pywebrtc-audio", out, mic[: len(out)], time.process_time() - t0, len(out) / RATE)
    except ImportError:
        print("  pywebrtc-audio   not installed")
    lib_path = ctypes.util.find_library("speexdsp")
    if lib_path is None:
        print("  speexdsp         libspeexdsp not installed")
        return
    lib = ctypes.CDLL(lib_path)
    lib.speex_echo_state_init.restype = ctypes.c_void_p
    lib.speex_echo_state_init.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.speex_echo_cancellation.argtypes = [ctypes.c_void_p] * 4
    lib.speex_echo_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    state = lib.speex_echo_state_init(frame, int(0.3 * RATE))
    rate = ctypes.c_int(RATE)
    lib.speex_echo_ctl(state, 24, ctypes.byref(rate))  # SPEEX_ECHO_SET_SAMPLING_RATE
    out = np.empty(len(mic) // frame * frame, dtype=np.int16)
    t0 = time.process_time()
    for i in range(0, len(out), frame):
        a, b = np.ascontiguousarray(mic[i : i + frame]), np.ascontiguousarray(ref[i : i + frame])
        lib.speex_echo_cancellation(state, a.ctypes.data, b.ctypes.data, out[i:].ctypes.data)
    _quality("speexdsp (300 ms)", out, mic[: len(out)], time.process_time() - t0, len(out) / RATE)


def engines_rss(n: int, share: bool) -> None:
    """(Child process) RSS after ``n`` Moonshine engines captioned Beckett at once."""
    import asyncio

    from captioner.engines.base import EngineOptions
    from captioner.engines.moonshine import decoder, engine, vad
    from tests.moonshine.helpers import chunks_of, samples

    if not share:
        setattr(decoder, "shared_decoder", lambda *a: decoder.MoonshineDecoder(*a))  # noqa: B010
        vad._sessions = type("NoCache", (dict,), {"__setitem__": lambda self, k, v: None})()

    async def one() -> None:
        e = engine.MoonshineEngine(EngineOptions())
        async for _ in e.stream(chunks_of(samples("beckett.wav"))):
            pass

    async def run() -> None:
        await asyncio.gather(*(one() for _ in range(n)))

    asyncio.run(run())
    status = Path("/proc/self/status").read_text()
    print(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) // 1024)  # type: ignore[union-attr]


def bench_memory() -> None:
    print("Moonshine engines running at once (peak RSS of the process):")
    for n, share in ((1, True), (2, True), (2, False)):
        got = subprocess.run(
            [sys.executable, __file__, "--child-engines", str(n), *(() if share else ("--no-share",))],
            capture_output=True,
            text=True,
            check=True,
        )
        label = "shared model" if share else "a model each"
        print(f"  {n} engine(s), {label:<12} {got.stdout.split()[-1]} MB")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    import os

    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_live(tmp: Path) -> None:
    from tests.audio.pulse import started_pulse_server
    from tests.meeting.helpers import echo_mix
    from tests.support.speech import speech_wav

    mic = echo_mix(tmp / "live-mic.wav", delay=0.1)
    others = speech_wav("two_cities.wav")
    with started_pulse_server() as pulse:
        pulse.pactl("load-module", "module-remap-source", f"master={pulse.other_sink}.monitor", "source_name=bench_mic")
        pulse.pactl("set-default-source", "bench_mic")
        print("the CLI live with the default engine (44 s of playback):")
        for source in ("system", "both"):
            cmd = [sys.executable, "-m", "captioner", "-vv", "caption", "--source", source, "--format", "jsonl"]
            proc = subprocess.Popen(
                [*cmd, "--no-autosave"], env=pulse.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            assert proc.stdout is not None and proc.stderr is not None
            wanted = 2 if source == "both" else 1
            listening = 0
            for line in proc.stdout:
                listening += '"state": "listening"' in line
                if listening >= wanted:
                    break
            players = [pulse.play(others)] + ([pulse.play(mic, sink=pulse.other_sink)] if source == "both" else [])
            cpu0, t0 = _cpu_seconds(proc.pid), time.monotonic()
            for p in players:
                p.wait(120)
            cpu, wall = _cpu_seconds(proc.pid) - cpu0, time.monotonic() - t0
            status = Path(f"/proc/{proc.pid}/status").read_text()
            peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) // 1024  # type: ignore[union-attr]
            time.sleep(3)
            proc.send_signal(2)
            _, err = proc.communicate(timeout=60)
            print(f"  --source {source:<7} CPU {100 * cpu / wall:5.1f} % of a core; peak RSS {peak} MB")
            for line in err.splitlines():
                if "echo canceller:" in line or "dropped" in line:
                    print("   ", line.split("INFO: ", 1)[-1])


def _machine() -> str:
    import os
    import platform

    model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        "?",
    )
    load = os.getloadavg()[0]
    return (
        f"{platform.machine()}, {os.cpu_count()} cores ({model}), Python {platform.python_version()}, load {load:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true", help="also compare the echo cancellers")
    parser.add_argument("--child-engines", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-share", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_engines:
        engines_rss(args.child_engines, share=not args.no_share)
        return
    print(_machine())
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        bench_canceller(tmp)
        if args.compare:
            compare(tmp)
        bench_memory()
        bench_live(tmp)


if __name__ == "__main__":
    main()
