"""Headless writers: what a terminal shows, and JSON lines."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable

from captioner.captions.events import CaptionEvent, EngineError, Final, Interim, Notice
from captioner.captions.transcript import Transcript
from captioner.captions.writers import JsonlWriter, SrtWriter, TextWriter, Writer


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
    out = io.StringIO()
    feed(TextWriter(out, live=True), EVENTS)
    v = out.getvalue()
    assert v == (
        "\x1b[2mhello\x1b[0m"
        "\r\x1b[K\x1b[2mhello world\x1b[0m"
        "\r\x1b[Khello world\n"
        "\x1b[1A\r\x1b[KHello, world.\n"
        "\x1b[2mnext\x1b[0m"
        "\r\x1b[K"
    )


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
