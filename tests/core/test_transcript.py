"""Transcript merging, table-driven: each case is a list of events and the lines it must produce."""

from __future__ import annotations

import json

import pytest

from captioner.captions.events import EngineError, Final, Interim, SpeechStarted
from captioner.captions.transcript import Transcript, load_autosave

E = "t"

CASES = [
    pytest.param(
        [Interim("a", "hel", E), Interim("a", "hello", E)], [], [("a", "hello")], id="interim-replaces-interim"
    ),
    pytest.param(
        [Interim("a", "hello", E), Final("a", "Hello.", E)], [("a", "Hello.")], [], id="final-commits-the-line"
    ),
    pytest.param(
        [Interim("a", "hi", E), Final("a", "hi", E, formatted=False), Final("a", "Hi!", E)],
        [("a", "Hi!")],
        [],
        id="later-final-replaces-text-not-a-new-line",
    ),
    pytest.param(
        [Interim("a", "one", E), Interim("b", "two", E), Final("a", "one", E)],
        [("a", "one")],
        [("b", "two")],
        id="two-lines-interleaved",
    ),
    pytest.param(
        [Final("a", "done", E), Interim("a", "late interim", E)], [("a", "done")], [], id="late-interim-ignored"
    ),
    pytest.param([Interim("a", "uh", E), Final("a", "", E)], [], [], id="empty-final-drops-interim"),
    pytest.param([SpeechStarted(E), EngineError(E, "x", True)], [], [], id="non-caption-events-ignored"),
    pytest.param(
        [Final("a", "1", E), Final("b", "2", E), Final("a", "1 revised", E)],
        [("a", "1 revised"), ("b", "2")],
        [],
        id="revision-keeps-order",
    ),
]


@pytest.mark.parametrize(("events", "finals", "live"), CASES)
def test_merge(events: list, finals: list, live: list) -> None:
    t = Transcript()
    for ev in events:
        t.apply(ev)
    assert [(line.line_id, line.text) for line in t.finals] == finals
    assert [(line.line_id, line.text) for line in t.live] == live


def test_change_kinds_are_reported_to_listeners() -> None:
    t = Transcript()
    seen: list[tuple[str, str]] = []
    unsubscribe = t.subscribe(lambda c: seen.append((c.kind, c.line.text)))
    t.apply(Interim("a", "he", E))
    t.apply(Interim("a", "he", E))  # no change, no notification
    t.apply(Final("a", "he said", E))
    t.apply(Final("a", "He said.", E))
    t.apply(Interim("b", "x", E))
    t.drop_live()
    unsubscribe()
    t.apply(Final("c", "unseen", E))
    assert seen == [
        ("interim", "he"),
        ("commit", "he said"),
        ("revise", "He said."),
        ("interim", "x"),
        ("drop", "x"),
    ]


def test_history_is_bounded() -> None:
    t = Transcript(max_lines=3)
    for i in range(10):
        t.apply(Final(str(i), f"line {i}", E))
    assert [line.text for line in t.finals] == ["line 7", "line 8", "line 9"]


def test_autosave_every_final_flushed_and_reloadable(tmp_path) -> None:
    path = tmp_path / "auto" / "s.jsonl"
    t = Transcript(autosave=path)
    t.apply(Interim("a", "not saved", E))
    assert not path.exists()
    t.apply(Final("a", "first", E, 0.0, 1.0))
    # Flushed at once: readable before close (as after a crash).
    assert json.loads(path.read_text().splitlines()[0])["text"] == "first"
    t.apply(Final("b", "second", E, 1.0, 2.0))
    t.apply(Final("a", "First.", E, 0.0, 1.0))
    path.write_text(path.read_text() + "{broken\n")
    lines = load_autosave(path)
    assert [(line.line_id, line.text) for line in lines] == [("a", "First."), ("b", "second")]
    t.close()


def test_interim_keeps_first_start_and_wall_time() -> None:
    t = Transcript()
    t.apply(Interim("a", "x", E, 1.5, 2.0))
    first = t.live[0]
    t.apply(Interim("a", "x y", E, None, 2.5))
    assert t.live[0].start == 1.5
    assert t.live[0].wall_time == first.wall_time
    t.apply(Final("a", "x y", E, None, 2.6))
    assert t.finals[0].start == 1.5
