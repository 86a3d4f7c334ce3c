"""Benchmark of the neural engine (Moonshine) side by side with PocketSphinx (``local``). Prints; asserts nothing.

    .venv/bin/python benchmarks/bench_neural.py               # the short run (~3 min on a 2-core VM)
    .venv/bin/python benchmarks/bench_neural.py --minutes 60  # and a long run of 60 min of audio per engine
    .venv/bin/python benchmarks/bench_neural.py --skip-1x     # without the two 44 s playbacks at 1x

Each engine is measured in child processes of its own, so that its peak RSS is its own. Figures:

* model load time: from ``stream()`` to the engine's LISTENING status (model files already prepared);
* WER per fixture (lower case, punctuation stripped; the file read as fast as it decodes);
* RTF (processing time / audio time) with the process pinned to one CPU, finals only (Moonshine with
  ``interim=false``, one decoder thread; PocketSphinx as it runs);
* at 1x playback of two_cities (continuous reading, 44 s, 50 ms blocks, interims on, not pinned): CPU
  share (process CPU time / wall time, in cores), end of speech to final minus the silence threshold
  (lines ended by a pause), and first interim after speech starts;
* peak RSS of one stream (two_cities at 1x, interims on; or read as fast as it decodes with ``--skip-1x``)
  in a child process that does nothing else;
* ``--minutes N``: in a child process of its own, the fixture looped for N minutes of audio through the
  engine's recogniser on a simulated clock (chunk *i* arrives at its capture time; decoding takes the time
  it really took; interims, when on, are decoded in the same thread, so this is the one-core worst case);
  lag = when the chunk was done - when it was captured, per ``--report-every`` seconds of audio, with RSS.

The speech fixtures come from the moonshine-voice wheel (tests/speech.py).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from captioner.audio.base import AudioChunk  # noqa: E402
from captioner.audio.file import WavFileSource  # noqa: E402
from captioner.captions.events import EngineState, Final, Interim, SpeechStarted, Status  # noqa: E402
from captioner.engines.base import Engine, EngineOptions  # noqa: E402
from tests.support.speech import TRANSCRIPTS, speech_wav, wer  # noqa: E402

FIXTURES = ("two_cities.wav", "beckett.wav")
CHUNK = 800  # samples: 50 ms blocks, the capture default


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make_engine(name: str, **options: Any) -> Engine:
    if name == "moonshine":
        from captioner.engines.moonshine.engine import MoonshineEngine

        return MoonshineEngine(EngineOptions(**options))
    from captioner.engines.local.engine import LocalEngine

    extra = {k: v for k, v in options.pop("extra", {}).items() if k != "interim"}
    return LocalEngine(EngineOptions(extra=extra, **options))


def silence_of(name: str) -> float:
    return float(make_engine(name).settings.silence_ms) / 1000  # type: ignore[attr-defined]


async def file_run(name: str, fixture: str, interim: bool) -> tuple[str, float, float]:
    """(text, processing seconds, load seconds) for ``fixture`` read as fast as it decodes."""
    engine = make_engine(name, extra={"interim": "true" if interim else "false"})
    texts: list[str] = []
    t0 = time.perf_counter()
    loaded = 0.0
    async for ev in engine.stream(WavFileSource(speech_wav(fixture), 16000, realtime=False).chunks()):
        if isinstance(ev, Status) and ev.state is EngineState.LISTENING:
            loaded = time.perf_counter() - t0
        elif isinstance(ev, Final) and ev.text:
            texts.append(ev.text)
    return " ".join(texts), time.perf_counter() - t0 - loaded, loaded


async def playback(name: str, fixture: str) -> dict[str, Any]:
    """Play ``fixture`` at 1x with interims on: CPU share, final latency, first-interim latency."""
    src = WavFileSource(speech_wav(fixture), 16000, realtime=True, chunk_ms=50)
    engine = make_engine(name)
    silence = engine.settings.silence_ms / 1000  # type: ignore[attr-defined]
    t0: list[float] = []
    cpu0: list[float] = []

    async def audio() -> AsyncIterator[AudioChunk]:
        async for c in src.chunks():
            if not t0:
                t0.append(c.captured_at - c.end)  # wall clock of audio time 0
                cpu0.append(cpu_s())
            yield c

    onset: dict[str, float] = {}
    first: dict[str, float] = {}
    finals: list[tuple[float, Final]] = []
    last_end = -1e9
    starts: list[float] = []
    async for ev in engine.stream(audio()):
        now = time.monotonic()
        if isinstance(ev, SpeechStarted) and ev.line_id is not None and ev.at is not None:
            starts.append(ev.at)
            # A line split off a long one without a pause continues speech already shown: not an onset.
            if ev.at - last_end >= silence:
                onset[ev.line_id] = ev.at
        elif isinstance(ev, Interim) and ev.line_id in onset and ev.line_id not in first:
            first[ev.line_id] = (now - (t0[0] + onset[ev.line_id])) * 1000
        elif isinstance(ev, Final) and ev.text and ev.end is not None:
            finals.append((now, ev))
            last_end = ev.end
    share = (cpu_s() - cpu0[0]) / (time.monotonic() - t0[0])
    latency = []
    for now, f in finals:
        assert f.end is not None
        after = [s for s in starts if s > f.end]
        # A line ended by a pause (not split, not the end of the file): the next speech starts after the threshold.
        if (after[0] if after else src.duration) - f.end >= silence:
            latency.append(now - (t0[0] + f.end) - silence)
    return {"cpu_share": share, "final_ms": [x * 1000 for x in latency], "interim_ms": list(first.values())}


def one_cpu_rtf(name: str, fixture: str) -> float:
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(saved)})
    try:
        audio = WavFileSource(speech_wav(fixture), 16000, realtime=False).duration
        _, spent, _ = asyncio.run(file_run(name, fixture, interim=False))
        return spent / audio
    finally:
        os.sched_setaffinity(0, saved)


def recogniser(name: str) -> tuple[Any, bool]:
    """The engine's sans-IO recogniser (for the long run) and whether it decodes interims separately."""
    if name == "moonshine":
        from captioner.engines.moonshine.engine import load_recognizer
        from captioner.engines.moonshine.settings import MoonshineSettings

        return load_recognizer(MoonshineSettings(), "moonshine", itertools.count()), True
    from captioner.engines.local_recognizer import Recognizer
    from captioner.engines.local_settings import LocalSettings

    return Recognizer(LocalSettings()), False


def long_run(name: str, minutes: float, report_every: float) -> list[dict[str, float]]:
    rec, separate_interims = recogniser(name)
    pcm = WavFileSource(speech_wav("two_cities.wav"), 16000, realtime=False)._pcm
    dur = len(pcm) / 32000
    total = minutes * 60
    clock = 0.0  # simulated wall clock: when the recogniser is free again (seconds on the audio timeline)
    rows: list[dict[str, float]] = []
    lags: list[float] = []
    busy = audio_s = 0.0
    next_report = report_every
    for loop in itertools.count():
        for off in range(0, len(pcm), CHUNK * 2):
            start = loop * dur + off / 32000
            c = AudioChunk(pcm=pcm[off : off + CHUNK * 2], sample_rate=16000, start=start, captured_at=0.0)
            if c.end > total:
                break
            t = time.perf_counter()
            rec.feed(c)
            if separate_interims:
                job = rec.interim_job()
                if job is not None:
                    rec.run_interim(job)
            spent = time.perf_counter() - t
            clock = max(clock, c.end) + spent
            lags.append(clock - c.end)
            busy += spent
            audio_s += c.duration
            if c.end >= next_report or c.end + c.duration > total:
                lags.sort()
                rows.append(
                    {
                        "minute": c.end / 60,
                        "lag_mean_ms": statistics.mean(lags) * 1000,
                        "lag_p99_ms": lags[int(len(lags) * 0.99)] * 1000,
                        "lag_max_ms": lags[-1] * 1000,
                        "rtf": busy / audio_s,
                        "rss_mb": rss_mb(),
                    }
                )
                lags.clear()
                busy = audio_s = 0.0
                next_report += report_every
        else:
            continue
        break
    rec.finish()
    return rows


def child(name: str, part: str, args: argparse.Namespace) -> None:
    """Measure one part for one engine and print it as JSON (the last line of output)."""
    out: dict[str, Any] = {"engine": name, "silence_ms": silence_of(name) * 1000}
    if part == "long":
        out["long"] = long_run(name, args.minutes, args.report_every)
    elif part == "rss":
        # What a CLI run holds at most: one stream, interims on, at 1x (or read as fast as it decodes).
        if args.skip_1x:
            asyncio.run(file_run(name, "two_cities.wav", interim=True))
        else:
            out.update(asyncio.run(playback(name, "two_cities.wav")))
    else:
        loads = []
        for fixture in FIXTURES:
            text, _, loaded = asyncio.run(file_run(name, fixture, interim=False))
            loads.append(loaded)
            out[f"wer:{fixture}"] = wer(TRANSCRIPTS[fixture], text)
        out["load_s"] = min(loads)
        out["rtf"] = min(one_cpu_rtf(name, "two_cities.wav") for _ in range(2))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"median {statistics.median(values):.0f}, max {max(values):.0f} (n={len(values)})"


def report(results: list[dict[str, Any]]) -> None:
    names = [r["engine"] for r in results]
    rows: list[tuple[str, list[str]]] = [
        ("model load (s)", [f"{r['load_s']:.2f}" for r in results]),
        *[(f"WER {fx}", [f"{r[f'wer:{fx}']:.3f}" for r in results]) for fx in FIXTURES],
        ("RTF, one CPU, finals only", [f"{r['rtf']:.3f}" for r in results]),
    ]
    if "cpu_share" in results[0]:
        rows += [
            ("CPU at 1x with interims (cores)", [f"{r['cpu_share']:.2f}" for r in results]),
            ("silence threshold (ms)", [f"{r['silence_ms']:.0f}" for r in results]),
            ("final after threshold (ms)", [_ms(r["final_ms"]) for r in results]),
            ("first interim after onset (ms)", [_ms(r["interim_ms"]) for r in results]),
        ]
    rows.append(("peak RSS of one stream (MB)", [f"{r['peak_rss_mb']:.0f}" for r in results]))
    width = max(len(label) for label, _ in rows)
    cols = [max(len(n), *(len(v[i]) for _, v in rows)) for i, n in enumerate(names)]
    print(f"{'':{width}}  " + "  ".join(f"{n:{c}}" for n, c in zip(names, cols, strict=True)))
    for label, values in rows:
        print(f"{label:{width}}  " + "  ".join(f"{v:{c}}" for v, c in zip(values, cols, strict=True)))
    for r in results:
        if r.get("long"):
            print(f"\nlong run, {r['engine']}: lag per interval (simulated clock, one core, interims on)")
            print(f"{'audio min':>9} {'mean ms':>8} {'p99 ms':>8} {'max ms':>8} {'RTF':>6} {'RSS MB':>7}")
            for row in r["long"]:
                print(
                    f"{row['minute']:9.1f} {row['lag_mean_ms']:8.1f} {row['lag_p99_ms']:8.1f} "
                    f"{row['lag_max_ms']:8.1f} {row['rtf']:6.3f} {row['rss_mb']:7.1f}"
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=0.0, help="long run of this many minutes of audio (0: none)")
    ap.add_argument("--report-every", type=float, default=300.0, help="long-run interval, seconds of audio")
    ap.add_argument("--skip-1x", action="store_true", help="skip the 1x playbacks")
    ap.add_argument("--engines", default="moonshine,local", help="comma-separated engine ids")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        name, _, part = args.child.partition(":")
        child(name, part, args)
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = []
    for name in args.engines.split(","):
        merged: dict[str, Any] = {}
        t = time.perf_counter()
        for part in ("files", "rss", "long") if args.minutes > 0 else ("files", "rss"):
            cmd = [sys.executable, __file__, "--child", f"{name}:{part}", "--minutes", str(args.minutes)]
            cmd += ["--report-every", str(args.report_every)] + (["--skip-1x"] if args.skip_1x else [])
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                sys.exit(f"{name} failed:\n{done.stderr[-3000:]}")
            got = json.loads(done.stdout.strip().splitlines()[-1])
            if part != "rss":
                got.pop("peak_rss_mb")
            merged.update(got)
        results.append(merged)
        print(f"{name}: measured in {time.perf_counter() - t:.0f} s", flush=True)
    report(results)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
