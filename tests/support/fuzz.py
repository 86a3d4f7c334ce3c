"""Hypothesis profiles for the fuzz tests and a counter of the examples each target ran.

Two profiles: ``ci`` (the default: a bounded number of examples per target, so that every fuzz target together
stays well under a minute) and ``long`` (``CAPTIONER_FUZZ=long``: many more examples, for a local run). Each
target counts the examples it was given through :func:`counted` and prints the count and the time it took, so the
figures in ``docs/reliability.md`` come from what a run printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from hypothesis import HealthCheck, settings

PROFILES = {"ci": 150, "long": 5000}
"""Examples per target in each profile."""

for _name, _examples in PROFILES.items():
    settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,  # two shared cores: a slow example is the machine, not the code
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        database=None,  # no .hypothesis directory left in the work tree
        print_blob=True,  # a failure prints how to reproduce it
    )

PROFILE = os.environ.get("CAPTIONER_FUZZ", "ci")
if PROFILE not in PROFILES:
    raise SystemExit(f"CAPTIONER_FUZZ must be one of {', '.join(PROFILES)}, not {PROFILE!r}")
settings.load_profile(PROFILE)
EXAMPLES = PROFILES[PROFILE]


@dataclass
class Count:
    examples: int = 0


@contextmanager
def counted(target: str, minimum: int | None = None) -> Iterator[Callable[[], None]]:
    """Count the examples of one fuzz target (call the yielded function once per example) and print the figure.

    Asserts that the target ran at least ``minimum`` examples (default: half the profile's), so that a strategy
    that filters everything out cannot pass unseen.
    """
    count = Count()
    t0 = time.perf_counter()

    def tick() -> None:
        count.examples += 1

    yield tick
    took = time.perf_counter() - t0
    print(f"\nfuzz {target}: {count.examples} examples in {took:.1f} s (profile {PROFILE})")
    floor = EXAMPLES // 2 if minimum is None else minimum
    assert count.examples >= floor, f"{target}: only {count.examples} examples ran (expected at least {floor})"
