"""Transcript merging, table-driven: each case is a list of events and the lines it must produce."""

from __future__ import annotations

import json

import pytest

from captioner.captions.events import EngineError, Final, Interim, SpeechStarted, Word
from captioner.captions.transcript import Transcript, load_autosave

E = "t"

CASES = [
    pytest.param(
        [Interim(line_id="a", text="hel", engine=E), Interim(line_id="a", text="hello", engine=E)],
        [],
        [("a", "hello")],
        id="interim-replaces-interim",
    ),
    pytest.param(
        [Interim(line_id="a", text="hello", engine=E), Final(line_id="a", text="Hello.", engine=E)],
        [("a", "Hello.")],
        [],
        id="final-commits-the-line",
    ),
    pytest.param(
        [
            Interim(line_id="a", text="hi", engine=E),
            Final(line_id="a", text="hi", engine=E, formatted=False),
            Final(line_id="a", text="Hi!", engine=E),
        ],
        [("a", "Hi!")],
        [],
        id="later-final-replaces-text-not-a-new-line",
    ),
    pytest.param(
        [
            Interim(line_id="a", text="one", engine=E),
            Interim(line_id="b", text="two", engine=E),
            Final(line_id="a", text="one", engine=E),
        ],
        [("a", "one")],
        [("b", "two")],
        id="two-lines-interleaved",
    ),
    pytest.param(
        [Final(line_id="a", text="done", engine=E), Interim(line_id="a", text="late interim", engine=E)],
        [("a", "done")],
        [],
        id="late-interim-ignored",
    ),
    pytest.param(
        [Interim(line_id="a", text="uh", engine=E), Final(line_id="a", text="", engine=E)],
        [],
        [],
        id="empty-final-drops-interim",
    ),
    pytest.param(
        [SpeechStarted(engine=E), EngineError(engine=E, message="x", retryable=True)],
        [],
        [],
        id="non-caption-events-ignored",
    ),
    pytest.param(
        [
            Final(line_id="a", text="1", engine=E),
            Final(line_id="b", text="2", engine=E),
            Final(line_id="a", text="1 revised", engine=E),
        ],
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
    t.apply(Interim(line_id="a", text="he", engine=E))
    t.apply(Interim(line_id="a", text="he", engine=E))  # no change, no notification
    t.apply(Final(line_id="a", text="he said", engine=E))
    t.apply(Final(line_id="a", text="He said.", engine=E))
    t.apply(Interim(line_id="b", text="x", engine=E))
    t.drop_live()
    unsubscribe()
    t.apply(Final(line_id="c", text="unseen", engine=E))
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
        t.apply(Final(line_id=str(i), text=f"line {i}", engine=E))
    assert [line.text for line in t.finals] == ["line 7", "line 8", "line 9"]


def test_autosave_every_final_flushed_and_reloadable(tmp_path) -> None:
    path = tmp_path / "auto" / "s.jsonl"
    t = Transcript(autosave=path)
    t.apply(Interim(line_id="a", text="not saved", engine=E))
    assert not path.exists()
    t.apply(Final(line_id="a", text="first", engine=E, start=0.0, end=1.0))
    # Flushed at once: readable before close (as after a crash).
    assert json.loads(path.read_text().splitlines()[0])["text"] == "first"
    t.apply(Final(line_id="b", text="second", engine=E, start=1.0, end=2.0))
    t.apply(Final(line_id="a", text="First.", engine=E, start=0.0, end=1.0))
    path.write_text(path.read_text() + "{broken\n")
    lines = load_autosave(path)
    assert [(line.line_id, line.text) for line in lines] == [("a", "First."), ("b", "second")]
    t.close()


def test_interim_keeps_first_start_and_wall_time() -> None:
    t = Transcript()
    t.apply(Interim(line_id="a", text="x", engine=E, start=1.5, end=2.0))
    first = t.live[0]
    t.apply(Interim(line_id="a", text="x y", engine=E, start=None, end=2.5))
    assert t.live[0].start == 1.5
    assert t.live[0].wall_time == first.wall_time
    t.apply(Final(line_id="a", text="x y", engine=E, start=None, end=2.6))
    assert t.finals[0].start == 1.5


def test_autosave_keeps_word_times_and_speaker(tmp_path) -> None:
    path = tmp_path / "s.jsonl"
    t = Transcript(autosave=path)
    words = (Word(text="hello", start=0.0, end=0.4), Word(text="there", start=0.5, end=0.9))
    t.apply(Final(line_id="a", text="hello there", engine=E, start=0.0, end=0.9, words=words, speaker="You"))
    t.close()
    path.write_text(path.read_text() + '{"id": "b", "text": "x", "words": [{"text": "x", "start": "?", "end": 1}]}\n')
    [line] = load_autosave(path)  # the record with bad word times is skipped
    assert line.words == words and line.speaker == "You"


def test_a_speaker_revision_relabels_a_committed_line_and_language_is_kept(tmp_path) -> None:
    path = tmp_path / "s.jsonl"
    t = Transcript(autosave=path)
    kinds: list[str] = []
    t.subscribe(lambda change: kinds.append(change.kind))
    t.apply(Final(line_id="a", text="Bonjour.", engine=E, start=0.0, end=1.0, speaker="A", language="fr"))
    # The same text and times with another speaker (a diarising engine's revision): the line is revised.
    t.apply(Final(line_id="a", text="Bonjour.", engine=E, start=0.0, end=1.0, speaker="B"))
    assert kinds == ["commit", "revise"]
    [line] = t.finals
    assert (line.speaker, line.language) == ("B", "fr")  # a revision that does not say keeps the language
    # Nothing changed: no revision.
    t.apply(Final(line_id="a", text="Bonjour.", engine=E, start=0.0, end=1.0, speaker="B", language="fr"))
    assert kinds == ["commit", "revise"]
    t.close()
    records = [json.loads(raw) for raw in path.read_text().splitlines()]
    assert [(r["speaker"], r["language"]) for r in records] == [("A", "fr"), ("B", "fr")]
    [reloaded] = load_autosave(path)
    assert (reloaded.speaker, reloaded.language) == ("B", "fr")
