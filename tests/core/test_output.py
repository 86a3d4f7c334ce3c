"""Headless writers: what a terminal shows, and JSON lines."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable

from captioner.captions.events import CaptionEvent, EngineError, Final, Interim, Notice
from captioner.captions.transcript import Transcript
from captioner.captions.writers import JsonlWriter, SrtWriter, TextWriter, Writer
from tests.support.terminal import PtyScreen


def feed(writer: Writer, events: Iterable[CaptionEvent]) -> Transcript:
    t = Transcript()
    t.subscribe(writer.change)
    for e in events:
        writer.event(e)
        t.apply(e)
    writer.close(t)
    return t


EVENTS: list[CaptionEvent] = [
    Interim(line_id="1", text="hello", engine="e", start=0.0, end=0.5),
    Interim(line_id="1", text="hello world", engine="e", start=0.0, end=0.9),
    Final(line_id="1", text="hello world", engine="e", start=0.0, end=1.0, formatted=False),
    Final(line_id="1", text="Hello, world.", engine="e", start=0.0, end=1.0),
    Interim(line_id="2", text="next", engine="e", start=1.2, end=1.5),
]


def test_text_on_a_pipe_prints_finals_only() -> None:
    out = io.StringIO()
    feed(TextWriter(out, live=False), EVENTS)
    assert out.getvalue() == "hello world\n"


def test_text_on_a_terminal_shows_interim_in_place_and_rewrites_a_revision() -> None:
    term = PtyScreen(80, 10)
    w = TextWriter(term.slave)
    t = Transcript()
    t.subscribe(w.change)
    t.apply(EVENTS[0])
    assert term.text_rows() == ["hello"]
    t.apply(EVENTS[1])
    assert term.text_rows() == ["hello world"]
    t.apply(EVENTS[2])
    t.apply(EVENTS[3])
    t.apply(EVENTS[4])
    assert term.text_rows() == ["Hello, world.", "next"]
    w.close(t)
    assert term.text_rows() == ["Hello, world."]
    term.close()


def test_jsonl_records() -> None:
    out = io.StringIO()
    feed(
        JsonlWriter(out),
        [
            *EVENTS,
            Notice(engine="e", message="careful"),
            EngineError(engine="e", message="down", retryable=True, code=1006),
        ],
    )
    recs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["type"] for r in recs] == ["interim", "interim", "final", "final", "interim", "status", "error"]
    assert recs[3] == {"type": "final", "id": "1", "text": "Hello, world.", "start": 0.0, "end": 1.0, "engine": "e"}
    assert recs[5]["state"] == "warning"
    assert recs[6] == {"type": "error", "message": "down", "retryable": True, "code": 1006, "engine": "e"}


def test_srt_stream_prints_the_revised_text_of_a_line() -> None:
    out = io.StringIO()
    feed(SrtWriter(out), [*EVENTS, Final(line_id="2", text="Next.", engine="e", start=1.2, end=1.6)])
    assert out.getvalue() == (
        "1\n00:00:00,000 --> 00:00:01,000\nHello, world.\n\n2\n00:00:01,200 --> 00:00:01,600\nNext.\n\n"
    )


def test_jsonl_names_the_speaker_and_the_interim_lines_dropped() -> None:
    out = io.StringIO()
    t = feed(
        JsonlWriter(out),
        [
            Interim(line_id="1", text="hi", engine="e", start=0.0, end=0.4, speaker="You"),
            Final(line_id="1", text="hi there", engine="e", start=0.0, end=0.8, speaker="You"),
            Interim(line_id="2", text="lost", engine="e", start=1.0, end=1.2),
        ],
    )
    t.drop_live()
    recs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert recs[0]["speaker"] == "You" and recs[1]["speaker"] == "You"
    assert "speaker" not in recs[2]
    assert recs[-1] == {"type": "drop", "id": "2"}


def test_speakers_in_the_terminal_jsonl_and_srt_output() -> None:
    events: list[CaptionEvent] = [
        Final(line_id="1", text="hello there", engine="e", start=0.0, end=1.0, speaker="You", formatted=False),
        Final(line_id="1", text="Hello there.", engine="e", start=0.0, end=1.0, speaker="You"),
        Final(line_id="2", text="and more", engine="e", start=1.0, end=2.0, speaker="You"),
        Interim(line_id="3", text="fine", engine="e", start=2.0, speaker="Others"),
    ]
    term = PtyScreen(80, 10)
    w = TextWriter(term.slave)
    feed_only = Transcript()
    feed_only.subscribe(w.change)
    for e in events:
        feed_only.apply(e)
    assert term.text_rows() == ["You: Hello there.", "and more", "Others: fine"]  # a name when it changes
    term.close()
    out = io.StringIO()
    feed(JsonlWriter(out), events)
    assert [json.loads(r).get("speaker") for r in out.getvalue().splitlines()] == ["You", "You", "You", "Others"]
    out = io.StringIO()
    feed(SrtWriter(out), [*events, Final(line_id="3", text="fine", engine="e", start=2.0, end=3.0, speaker="Others")])
    assert "\nYou: Hello there.\n" in out.getvalue() and "\nand more\n" in out.getvalue()
    assert "\nOthers: fine\n" in out.getvalue()
