"""The soak: the desktop app captioning a looped human recording with the default engine at 1×, for an hour.

    .venv/bin/python benchmarks/soak.py                      # 60 minutes, a sample every minute
    .venv/bin/python benchmarks/soak.py --minutes 10
    .venv/bin/python benchmarks/soak.py --minutes 1 --sample-seconds 10 --warmup-seconds 10 --json out.json

The real app (controller, overlay and transcript window, offscreen, on the qasync loop) captions
*A Tale of Two Cities* (44 s, a human reader) played again and again at 1× through the app's own file path
(:mod:`tests.support.soak`). Every sample interval it records RSS, CPU, open file descriptors, Qt objects,
asyncio tasks, threads, the finals and their lag (the wall clock when a final reached the views against the
audio time its line ended), the event loop's worst stall (a 20 ms heartbeat timer's lateness) and the load
average. Targets: RSS growth < 5 % after the warm-up (5 minutes), lag flat (the fitted drift after the
warm-up < 0.5 s), no stall > 100 ms outside model loading. Prints a table and a verdict per target;
``--json`` also writes every figure (the CI variant, ``tests/reliability/test_soak_short.py``, reads it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.soak import STALL_MS, Sample, SoakResult, run_soak  # noqa: E402

RSS_GROWTH_PCT = 5.0
LAG_DRIFT_S = 0.5
BUSY_LOAD = 2.0
"""A load average at or above this, on a 2-core machine, is told apart in the stall verdict (the CPU is contended)."""


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{model or platform.processor() or 'unknown CPU'}, {os.cpu_count()} cores, {ram:.0f} GB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def lag_drift(lags: list[tuple[float, float]], after: float) -> tuple[float, float]:
    """Least-squares slope of the lag after ``after`` seconds, as (s per hour, drift over the span in s)."""
    pts = [(t, lag) for t, lag in lags if t >= after]
    if len(pts) < 3:
        return 0.0, 0.0
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    ml = sum(lag for _, lag in pts) / n
    var = sum((t - mt) ** 2 for t, _ in pts)
    slope = sum((t - mt) * (lag - ml) for t, lag in pts) / var if var else 0.0
    return slope * 3600, slope * (pts[-1][0] - pts[0][0])


def rss_growth(result: SoakResult, after: float) -> tuple[float, float, float]:
    """(baseline MB at the end of the warm-up, largest MB after it, growth in %)."""
    later = [s for s in result.samples if s.t >= after - 1]
    if not later:
        return 0.0, 0.0, 0.0
    base = later[0].rss_mb
    peak = max(s.rss_mb for s in later)
    return base, peak, 100 * (peak - base) / base


HEAD = (
    f"{'t (s)':>7} {'RSS MB':>8} {'CPU %':>6} {'fds':>4} {'Qt obj':>6} {'tasks':>5} {'thr':>4} {'finals':>6} "
    f"{'lag med':>7} {'lag max':>7} {'stall ms':>8} {'>100':>4} {'load':>5}"
)


def row(s: Sample) -> str:
    med = f"{s.lag_median:.2f}" if s.lag_median is not None else "-"
    top = f"{s.lag_max:.2f}" if s.lag_max is not None else "-"
    return (
        f"{s.t:7.0f} {s.rss_mb:8.1f} {s.cpu_pct:6.1f} {s.fds:4d} {s.qt_objects:6d} {s.tasks:5d} {s.threads:4d} "
        f"{s.finals:6d} {med:>7} {top:>7} {s.stall_max_ms:8.1f} {s.stalls_over:4d} {s.load1:5.2f}"
    )


def verdicts(result: SoakResult, warmup_s: float) -> list[tuple[str, bool, str]]:
    """(target, met, figures) for each target."""
    base, peak, growth = rss_growth(result, warmup_s)
    per_hour, drift = lag_drift(result.lags, warmup_s)
    measured = [s for s in result.samples if s.t > 0]
    worst = max((s.stall_max_ms for s in measured), default=0.0)
    over = sum(s.stalls_over for s in measured)
    calm = sum(s.stalls_over for s in measured if s.load1 < BUSY_LOAD)
    return [
        (
            f"RSS growth after the warm-up < {RSS_GROWTH_PCT:.0f} %",
            growth < RSS_GROWTH_PCT,
            f"{base:.1f} MB → peak {peak:.1f} MB ({growth:+.1f} %)",
        ),
        (
            f"caption lag flat (fitted drift < {LAG_DRIFT_S} s)",
            abs(drift) < LAG_DRIFT_S,
            f"drift {drift:+.2f} s over the run ({per_hour:+.2f} s per hour), {result.finals} finals",
        ),
        (
            f"no event-loop stall > {STALL_MS:.0f} ms outside model loading",
            over == 0,
            f"worst {worst:.0f} ms, {over} beat(s) over {STALL_MS:.0f} ms ({calm} in minutes at load < {BUSY_LOAD:g}); "
            f"model loading {result.load_s:.1f} s, worst stall then {result.load_stall_max_ms:.0f} ms",
        ),
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0, help="how long to caption once the engine listens")
    p.add_argument("--sample-seconds", type=float, default=60.0, help="the sampling interval")
    p.add_argument("--warmup-seconds", type=float, default=300.0, help="RSS and lag are judged after this")
    p.add_argument("--wav", type=Path, help="the recording to loop (default: the Tale of Two Cities reading)")
    p.add_argument("--json", type=Path, help="also write every figure to this file")
    args = p.parse_args()
    if args.wav is None:
        from tests.support.speech import speech_wav

        args.wav = speech_wav("two_cities.wav")
    home = Path(tempfile.mkdtemp(prefix="captioner-soak-"))
    for var, sub in (("CAPTIONER_DATA_DIR", "data"), ("CAPTIONER_CONFIG_DIR", "config"), ("CAPTIONER_LOG_DIR", "log")):
        os.environ.setdefault(var, str(home / sub))
    print(machine())
    print(f"looping {args.wav.name} at 1x for {args.minutes:g} min, a sample every {args.sample_seconds:g} s")
    print(HEAD, flush=True)
    result = run_soak(
        args.wav,
        duration_s=args.minutes * 60,
        sample_s=args.sample_seconds,
        on_sample=lambda s: print(row(s), flush=True),
    )
    print(f"{result.passes} passes over the recording, {result.finals} finals by {', '.join(result.engines)}")
    for note in result.notices:
        print(f"notice: {note}")
    for phase, where, n in result.stall_sites:
        print(f"stall ({phase}) x{n}: {where}")
    for phase, n in result.starved.items():
        print(f"no Python ran for > {STALL_MS:.0f} ms ({phase}) x{n}: the GIL held by native code, or no CPU")
    ok = True
    for target, met, figures in verdicts(result, args.warmup_seconds):
        ok &= met
        print(f"{'PASS' if met else 'FAIL'}  {target}: {figures}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), **result.to_json()}, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
