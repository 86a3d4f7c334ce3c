"""AssemblyAI through several 3-hour session limits, on a simulated clock: each rollover's handover, words kept.

    .venv/bin/python benchmarks/bench_rollover.py [--hours 9] [--every 23] [--turn-seconds 17] [--limit 10800] [--json]

A real Session captions ``--hours`` of the Beckett reading, looped at 1× on a simulated clock
(``tests/support/virtual_clock.py``: hours in seconds, real sockets), through the AssemblyAI engine into the fake
server, which ends a session after ``--limit`` seconds (the vendor's 3 hours) and checks the real-time rate on the
same clock. The fake hears a turn every ``--every`` seconds lasting ``--turn-seconds`` (17 s of 23: most moments
fall in a turn, so most handovers must wait for a pause; 23 s does not divide the rollover times). Prints, for each
handover, where it happened on the source timeline and how long after the next session opened (the wait for a
pause), and in all: words expected, committed, lost and duplicated, the wall time, CPU and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.fakes.assemblyai import make_turn  # noqa: E402
from tests.support.looped_speech import caption_for  # noqa: E402
from tests.support.virtual_clock import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=9.0)
    parser.add_argument("--every", type=float, default=23.0)
    parser.add_argument("--turn-seconds", type=float, default=17.0)
    parser.add_argument("--limit", type=float, default=3 * 3600.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seconds = round(args.hours * 3600)
    words_per_turn = max(1, int(args.turn_seconds / 0.3))
    script = tuple(
        make_turn(args.every * k + 1.0, " ".join(f"t{k}w{i}" for i in range(words_per_turn)), word_s=0.3)
        for k in range(int((seconds - args.turn_seconds - 2) // args.every))
    )
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    result, simulated = run(caption_for(script, seconds, limit=args.limit))
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    conns = result.fake.connections
    t0 = conns[0].opened_at
    handovers = [
        {"source_s": round(c.source_offset, 2), "waited_s": round(c.source_offset - (c.opened_at - t0), 2)}
        for c in conns[1:]
        if c.source_offset_found
    ]
    expected = [(w.text, w.start) for t in script for w in t.words]
    committed = [(text, start) for text, start, _end in result.words()]
    have, want = Counter(committed), Counter(expected)
    figures = {
        "simulated_hours": round(simulated / 3600, 2),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "sessions": len(conns),
        "handovers": handovers,
        "words_expected": len(expected),
        "words_committed": len(committed),
        "words_lost": sum((want - have).values()),
        "words_duplicated": sum((have - want).values()),
        "in_order": committed == sorted(committed, key=lambda w: w[1]),
        "error": None if result.error is None else str(result.error),
    }
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        print(f"{key:18} {value}")


if __name__ == "__main__":
    main()
