"""The feed's message schema (version :data:`SCHEMA_VERSION`): one JSON object per WebSocket text message.

A connection starts with a ``hello`` (the schema version, the app's version, the caption style the app uses
and how many replayed messages follow), then replays the recent committed lines as ``final`` records, the
lines still being spoken as ``interim`` records and the last ``status``; after that come the live records.
Every record after the ``hello`` is exactly a line of ``captioner caption --format jsonl``: this module
builds none of them itself but takes them from :mod:`captioner.captions.writers`. A ``style`` message
follows when the app's caption appearance changes. ``docs/caption-feed.md`` documents every field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from captioner import __version__
from captioner.captions.events import CaptionEvent, Final, Interim
from captioner.captions.transcript import Change, Line
from captioner.captions.writers import change_record, event_record
from captioner.settings import Appearance

SCHEMA_VERSION = 1
"""Raised when a record changes incompatibly (a field removed or its meaning changed); new fields or new
record types do not raise it, so clients ignore what they do not know."""

Message = dict[str, object]


def style_record(appearance: Appearance) -> Message:
    """The caption style of the app, under the names the caption page takes as URL query parameters."""
    return {
        "font": appearance.font_family,
        "size": appearance.font_size,
        "color": appearance.text_color,
        "interim": appearance.interim_color,
        "bg": appearance.background_color,
        "opacity": appearance.background_opacity,
        "outline": appearance.outline,
        "lines": appearance.lines,
        "width": appearance.max_line_chars,
        "clear": appearance.clear_after_s,
    }


def hello(*, replay: int, style: Appearance) -> Message:
    return {
        "type": "hello",
        "v": SCHEMA_VERSION,
        "app": "captioner",
        "version": __version__,
        "replay": replay,
        "style": style_record(style),
    }


def style_message(style: Appearance) -> Message:
    return {"type": "style", "style": style_record(style)}


def event_message(event: CaptionEvent) -> Message | None:
    """The record of a caption event (``None`` for events the feed does not carry, like audio levels)."""
    return event_record(event)


def change_message(change: Change) -> Message | None:
    """The record of a transcript change no event reports (an interim line dropped), else ``None``."""
    return change_record(change)


def line_message(line: Line) -> Message:
    """A transcript line replayed to a client that joins late, as the record its last event had."""
    common: dict[str, Any] = {
        "line_id": line.line_id,
        "text": line.text,
        "engine": line.engine,
        "start": line.start,
        "end": line.end,
        "speaker": line.speaker,
    }
    record = event_record(Final(**common) if line.final else Interim(**common, tail=line.tail))
    assert record is not None  # interim and final events always have a record
    return record


def replay_messages(finals: Iterable[Line], live: Iterable[Line], status: Message | None) -> list[Message]:
    """What a client that joins late receives after the ``hello``."""
    out = [line_message(line) for line in finals]
    out += [line_message(line) for line in live]
    if status is not None:
        out.append(status)
    return out


def encode(message: Message) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))
