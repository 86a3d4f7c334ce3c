"""AudioTimeline: seconds sent on a connection → source seconds, across skipped audio."""

from __future__ import annotations

import pytest

from captioner.engines.timeline import AudioTimeline

# (pieces sent as (source start, duration), [(seconds sent, end?, expected source time)])
CASES: list[tuple[str, list[tuple[float, float]], list[tuple[float, bool, float]]]] = [
    (
        "contiguous from 0",
        [(0.0, 0.05), (0.05, 0.05), (0.1, 0.05)],
        [(0.0, False, 0.0), (0.07, False, 0.07), (0.15, True, 0.15)],
    ),
    (
        "replay after a reconnect starts late",
        [(12.35, 0.05), (12.4, 0.05)],
        [(0.0, False, 12.35), (0.02, False, 12.37), (0.1, True, 12.45)],
    ),
    (
        "one skipped pause",
        [(0.0, 1.0), (3.0, 1.0)],
        [(0.5, False, 0.5), (1.0, True, 1.0), (1.0, False, 3.0), (1.25, False, 3.25), (2.0, True, 4.0)],
    ),
    (
        "two pauses, chunks of 50 ms",
        [(i * 0.05, 0.05) for i in range(10)] + [(2.0 + i * 0.05, 0.05) for i in range(10)] + [(5.0, 0.5)],
        [(0.4, False, 0.4), (0.5, True, 0.5), (0.5, False, 2.0), (0.99, False, 2.49), (1.0, False, 5.0)],
    ),
    (
        "rounding of sample counts does not split a run",
        [(0.0, 1 / 3), (1 / 3 + 1e-6, 1 / 3), (2 / 3, 1 / 3)],
        [(0.9, False, 0.9), (1.0, True, 1.0)],
    ),
    (
        "clamped to the audio sent (padding, negative times)",
        [(7.0, 0.5), (9.0, 0.5)],
        [(-0.2, False, 7.0), (1.0, True, 9.5), (1.2, True, 9.5)],
    ),
]


@pytest.mark.parametrize(("name", "pieces", "probes"), CASES, ids=[c[0] for c in CASES])
def test_to_source(name: str, pieces: list[tuple[float, float]], probes: list[tuple[float, bool, float]]) -> None:
    tl = AudioTimeline()
    tl.extend(pieces)
    for sent, end, expected in probes:
        assert tl.to_source(sent, end=end) == pytest.approx(expected, abs=1e-6), (sent, end)


@pytest.mark.parametrize(
    ("pieces", "runs", "skipped", "sent"),
    [
        ([(0.0, 0.05), (0.05, 0.05)], [(0.0, 0.1)], 0.0, 0.1),
        ([(0.0, 1.0), (3.0, 1.0), (4.0, 0.5)], [(0.0, 1.0), (3.0, 4.5)], 2.0, 2.5),
        ([(1.0, 0.5), (2.0, 0.5), (4.0, 0.5)], [(1.0, 1.5), (2.0, 2.5), (4.0, 4.5)], 2.0, 1.5),
        ([(0.0, 0.0), (0.0, 0.2)], [(0.0, 0.2)], 0.0, 0.2),
    ],
)
def test_runs_are_merged_and_gaps_counted(
    pieces: list[tuple[float, float]], runs: list[tuple[float, float]], skipped: float, sent: float
) -> None:
    tl = AudioTimeline()
    tl.extend(pieces)
    assert tl.runs == [pytest.approx(r) for r in runs]
    assert tl.skipped_seconds == pytest.approx(skipped)
    assert tl.sent_seconds == pytest.approx(sent)


def test_empty_timeline_maps_nothing() -> None:
    tl = AudioTimeline()
    assert not tl
    assert tl.to_source(1.0) is None and tl.to_sent(1.0) is None
    assert tl.source_start is None and tl.source_end is None


@pytest.mark.parametrize(
    ("source", "sent"),
    [(0.5, 0.5), (1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (3.5, 1.5), (9.0, 2.0)],
)
def test_to_sent_is_the_inverse(source: float, sent: float) -> None:
    tl = AudioTimeline()
    tl.extend([(0.0, 1.0), (3.0, 1.0)])
    assert tl.to_sent(source) == pytest.approx(sent)
