"""Benchmark of the local (PocketSphinx) engine on real human speech. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_local.py               # everything, with a 1-hour long run
    .venv/bin/python benchmarks/bench_local.py --minutes 5   # a shorter long run
    .venv/bin/python benchmarks/bench_local.py --minutes 0   # skip the long run

Figures:

* real-time factor (decode time / audio time) on one core (``os.sched_setaffinity``), normal and fast mode;
* latency of the final caption after the end of speech, minus the silence threshold, and first-partial
  latency after the onset of speech, with the fixture played at 1x through the real engine (44 s);
* peak RSS;
* a long run (the fixture looped for ``--minutes`` of audio) on a simulated clock: audio chunk *i* arrives
  at its capture time, the decoder takes the time it really took, and lag = when the decoder finished the
  chunk - when the chunk was captured. Printed per interval, with RSS, to show whether lag or memory grow.

The speech fixture comes from the moonshine-voice wheel (tests/support/speech.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from captioner.audio.base import AudioChunk  # noqa: E402
from captioner.audio.file import WavFileSource  # noqa: E402
from captioner.captions.events import Final, Interim, SpeechStarted  # noqa: E402
from captioner.engines.base import EngineOptions  # noqa: E402
from captioner.engines.local.engine import LocalEngine  # noqa: E402
from captioner.engines.local.recognizer import Recognizer  # noqa: E402
from captioner.engines.local.settings import LocalSettings  # noqa: E402
from tests.support.speech import TRANSCRIPTS, speech_wav, wer  # noqa: E402

CHUNK = 1600  # samples: 100 ms blocks, a typical microphone block size


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_pcm(name: str) -> bytes:
    return WavFileSource(speech_wav(name), 16000, realtime=False)._pcm


def chunks_of(pcm: bytes, offset: float = 0.0) -> list[AudioChunk]:
    """Chunks stamped as all read at once (a file): the engine's real-time guard stands down."""
    now = time.monotonic()
    return [
        AudioChunk(pcm[off : off + CHUNK * 2], 16000, offset + off / 2 / 16000, now)
        for off in range(0, len(pcm), CHUNK * 2)
    ]


def bench_rtf(pcm: bytes, fast: bool) -> tuple[float, str]:
    rec = Recognizer(LocalSettings(fast=fast))
    chunks = chunks_of(pcm)
    texts: list[str] = []
    t0 = time.perf_counter()
    for c in chunks:
        texts += [e.text for e in rec.feed(c) if isinstance(e, Final)]
    texts += [e.text for e in rec.finish() if isinstance(e, Final)]
    elapsed = time.perf_counter() - t0
    return elapsed / (len(pcm) / 32000), " ".join(t for t in texts if t)


async def bench_latency(name: str, silence_ms: int) -> dict[str, list[float]]:
    """Play ``name`` at 1x through the engine; measure when finals and first interims arrive."""
    src = WavFileSource(speech_wav(name), 16000, realtime=True, chunk_ms=100)
    engine = LocalEngine(EngineOptions(silence_ms=silence_ms))
    t0: list[float] = []

    async def audio() -> AsyncIterator[AudioChunk]:
        async for c in src.chunks():
            if not t0:
                t0.append(c.captured_at - c.end)  # wall clock of audio time 0
            yield c

    final_lat: list[float] = []
    partial_lat: list[float] = []
    onset: dict[str, float] = {}
    first_partial: set[str] = set()
    async for ev in engine.stream(audio()):
        now = time.monotonic()
        if isinstance(ev, SpeechStarted) and ev.line_id is not None and ev.at is not None:
            onset[ev.line_id] = ev.at
        elif isinstance(ev, Interim) and ev.line_id not in first_partial and ev.line_id in onset:
            first_partial.add(ev.line_id)
            partial_lat.append(now - (t0[0] + onset[ev.line_id]))
        elif isinstance(ev, Final) and ev.text and ev.end is not None:
            audio_end = src.duration
            if ev.end + silence_ms / 1000 <= audio_end - 0.05:  # ended by silence, not by the end of the file
                final_lat.append(now - (t0[0] + ev.end) - silence_ms / 1000)
    return {"final": final_lat, "partial": partial_lat}


def long_run(pcm: bytes, minutes: float, report_every: float) -> None:
    rec = Recognizer(LocalSettings())
    total = minutes * 60
    dur = len(pcm) / 32000
    loops = int(total // dur) + 1
    clock = 0.0  # simulated wall clock: when the decoder is free again (seconds of audio timeline)
    lags: list[float] = []
    next_report = report_every
    n_finals = 0
    t_real = time.perf_counter()
    print(f"\nlong run: {minutes:g} min of audio (fixture looped {loops}x), simulated clock, 100 ms chunks")
    print(f"{'audio min':>9} {'lag mean ms':>11} {'lag p99 ms':>10} {'lag max ms':>10} {'RTF':>6} {'RSS MB':>7} finals")
    window_busy = 0.0
    window_audio = 0.0
    for i in range(loops):
        for c in chunks_of(pcm, offset=i * dur):
            if c.end > total:
                break
            t = time.perf_counter()
            n_finals += sum(1 for e in rec.feed(c) if isinstance(e, Final) and e.text)
            spent = time.perf_counter() - t
            clock = max(clock, c.end) + spent
            lags.append(clock - c.end)
            window_busy += spent
            window_audio += c.duration
            if c.end >= next_report:
                p99 = sorted(lags)[int(len(lags) * 0.99)]
                print(
                    f"{c.end / 60:9.1f} {statistics.mean(lags) * 1000:11.1f} {p99 * 1000:10.1f} "
                    f"{max(lags) * 1000:10.1f} {window_busy / window_audio:6.3f} {rss_mb():7.1f} {n_finals}"
                )
                sys.stdout.flush()
                lags.clear()
                window_busy = window_audio = 0.0
                next_report += report_every
    if lags:  # the last, partial interval
        p99 = sorted(lags)[int(len(lags) * 0.99)]
        print(
            f"{total / 60:9.1f} {statistics.mean(lags) * 1000:11.1f} {p99 * 1000:10.1f} "
            f"{max(lags) * 1000:10.1f} {window_busy / max(window_audio, 1e-9):6.3f} {rss_mb():7.1f} {n_finals}"
        )
    rec.finish()
    print(f"long run took {time.perf_counter() - t_real:.0f} s of real time; degraded: {rec.fast}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the long run in minutes (0: skip)")
    ap.add_argument("--report-every", type=float, default=300.0, help="long-run report interval, audio seconds")
    ap.add_argument("--cpu", type=int, default=None, help="pin to this CPU (default: the last one)")
    ap.add_argument("--silence-ms", type=int, default=600)
    ap.add_argument("--skip-latency", action="store_true", help="skip the 1x playback latency measurement")
    args = ap.parse_args()

    cpu = args.cpu if args.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs (pinned to CPU {cpu}),"
        f" Python {platform.python_version()}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"RSS before loading the model: {rss_mb():.1f} MB")

    ok, why = LocalEngine.check_available()
    if not ok:
        sys.exit(f"local engine unavailable: {why}")
    pcm = load_pcm("two_cities.wav")
    beckett = load_pcm("beckett.wav")
    for fast in (False, True):
        runs = [bench_rtf(pcm, fast) for _ in range(3)]
        rtfs = [r for r, _ in runs]
        text = runs[-1][1]
        rb, tb = bench_rtf(beckett, fast)
        mode = "fast  " if fast else "normal"
        print(
            f"RTF one core, {mode}: two_cities (44.4 s) min {min(rtfs):.3f} median {statistics.median(rtfs):.3f}"
            f" | WER {wer(TRANSCRIPTS['two_cities.wav'], text):.3f}"
            f" | beckett RTF {rb:.3f} WER {wer(TRANSCRIPTS['beckett.wav'], tb):.3f}"
        )
    print(f"RSS after loading and decoding: {rss_mb():.1f} MB (peak {peak_rss_mb():.1f} MB)")

    if not args.skip_latency:
        lat = asyncio.run(bench_latency("two_cities.wav", args.silence_ms))
        f, p = lat["final"], lat["partial"]
        if f:
            print(
                f"final after end of speech, minus the {args.silence_ms} ms threshold (1x playback, {len(f)} lines):"
                f" median {statistics.median(f) * 1000:.0f} ms, max {max(f) * 1000:.0f} ms"
                f" ({', '.join(f'{x * 1000:.0f}' for x in f)})"
            )
        if p:
            print(
                f"first partial after speech onset ({len(p)} lines): median {statistics.median(p) * 1000:.0f} ms,"
                f" max {max(p) * 1000:.0f} ms ({', '.join(f'{x * 1000:.0f}' for x in p)})"
            )
    print(f"peak RSS so far: {peak_rss_mb():.1f} MB")
    if args.minutes > 0:
        long_run(pcm, args.minutes, args.report_every)
        print(f"peak RSS: {peak_rss_mb():.1f} MB")


if __name__ == "__main__":
    main()
