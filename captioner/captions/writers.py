"""Headless views: caption events and transcript changes written as text, JSON lines, SRT or WebVTT."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import TextIO

from captioner.captions.cues import Cue, CueLimits, line_cues, line_times, no_overlap
from captioner.captions.events import (
    AudioLevel,
    CaptionEvent,
    EngineError,
    Final,
    Interim,
    Notice,
    SpeechStarted,
    Status,
    Usage,
)
from captioner.captions.export import VTT_HEADER, export, srt_cue, vtt_cue
from captioner.captions.live_line import ERASE_BELOW, LiveLine, TerminalSize, clean, rows_for, terminal_size
from captioner.captions.transcript import Change, Line, Transcript

FORMATS = ("text", "jsonl", "srt", "vtt")


def event_record(event: CaptionEvent) -> dict[str, object] | None:
    """The JSON-lines record of an event (DESIGN.md §3), or ``None`` for events not printed."""
    if isinstance(event, Interim | Final):
        rec: dict[str, object] = {
            "type": "interim" if isinstance(event, Interim) else "final",
            "id": event.line_id,
            "text": event.text,
            "start": None if event.start is None else round(event.start, 3),
            "end": None if event.end is None else round(event.end, 3),
            "engine": event.engine,
        }
        if isinstance(event, Interim) and event.tail:
            rec["tail"] = event.tail
        return _with_speaker(rec, event)
    if isinstance(event, Status):
        rec = {"type": "status", "state": event.state.value, "message": event.message, "engine": event.engine}
        return _with_speaker(rec, event)
    if isinstance(event, EngineError):
        rec = {
            "type": "error",
            "message": event.message,
            "retryable": event.retryable,
            "code": event.code,
            "engine": event.engine,
        }
        return _with_speaker(rec, event)
    if isinstance(event, Notice):
        rec = {"type": "status", "state": "warning", "message": event.message, "engine": event.engine}
        return _with_speaker(rec, event)
    if isinstance(event, SpeechStarted):
        return {
            "type": "status",
            "state": "speech_started",
            "at": event.at,
            "id": event.line_id,
            "engine": event.engine,
        }
    if isinstance(event, Usage):
        return {
            "type": "status",
            "state": "usage",
            "audio_seconds": event.audio_seconds,
            "session_seconds": event.session_seconds,
            "session_id": event.session_id,
            "engine": event.engine,
        }
    return None


def change_record(change: Change) -> dict[str, object] | None:
    """The JSON-lines record of a transcript change that no event reports: an interim line abandoned
    (``drop``, e.g. after a reconnect); ``None`` for the others (their events are printed)."""
    if change.kind == "drop":
        return {"type": "drop", "id": change.line.line_id}
    return None


def _with_speaker(rec: dict[str, object], event: Interim | Final | Status | EngineError | Notice) -> dict[str, object]:
    """``rec`` with the event's ``speaker`` (meeting mode: which source it is about), when it has one."""
    if event.speaker is not None:
        rec["speaker"] = event.speaker
    return rec


class Writer:
    """Base writer: gets every event and every transcript change."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def event(self, event: CaptionEvent) -> None:
        pass

    def change(self, change: Change) -> None:
        pass

    @contextlib.contextmanager
    def aside(self) -> Iterator[None]:
        """Around anything else printed to the same terminal (see :meth:`TextWriter.aside`)."""
        yield

    def close(self, transcript: Transcript) -> None:
        pass


class JsonlWriter(Writer):
    def event(self, event: CaptionEvent) -> None:
        self._write(event_record(event))

    def change(self, change: Change) -> None:
        self._write(change_record(change))

    def _write(self, rec: dict[str, object] | None) -> None:
        if rec is not None:
            self.out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.out.flush()


class TextWriter(Writer):
    """Finals one per line. On a terminal the line being spoken is shown dimmed in place (a
    :class:`~captioner.captions.live_line.LiveLine`: wrap-aware, resize-proof), and a revised (formatted)
    version of the line just committed replaces it in place."""

    def __init__(self, out: TextIO, *, live: bool | None = None, size: TerminalSize | None = None) -> None:
        super().__init__(out)
        self.live = out.isatty() if live is None else live
        self._size = size or terminal_size(out)
        self._line = LiveLine(out, self._size)
        self._interim: Line | None = None
        self._last: tuple[str, int, int, str | None] | None = None
        """(line id, rows, columns, speaker before it) of the final just printed, while nothing else was printed
        after it."""
        self._speaker: str | None = None  # of the last final printed

    def _text(self, line: Line) -> str:
        """What is printed of ``line``: ``Name: `` first when the speaker changed."""
        text = clean(line.text)
        return f"{line.speaker}: {text}" if line.speaker and line.speaker != self._speaker else text

    def change(self, change: Change) -> None:
        line = change.line
        if change.kind == "interim":
            if self.live:
                self._interim = line
                self._line.draw(self._text(line))
        elif change.kind == "commit":
            self._line.clear()
            if self._interim is not None and self._interim.line_id == line.line_id:
                self._interim = None
            self._print(line)
        elif change.kind == "revise" and self.live and self._last is not None and self._last[0] == line.line_id:
            self._revise(line)
        elif change.kind == "drop" and self._interim is not None and self._interim.line_id == line.line_id:
            self._interim = None
            self._line.clear()

    def _print(self, line: Line, up: int = 0) -> None:
        """Print a final (over the ``up`` rows above, rewriting them)."""
        before = self._speaker
        text = self._text(line)
        self._speaker = line.speaker or before
        self.out.write((f"\x1b[{up}A\r{ERASE_BELOW}" if up else "") + text + "\n")
        columns = self._size()[0]
        self._last = (line.line_id, rows_for(text, columns), columns, before)
        self._redraw()

    def _revise(self, line: Line) -> None:
        """A formatted version of the line just printed (AssemblyAI, Uhlive): rewrite it in place."""
        assert self._last is not None
        _line_id, rows, columns, before = self._last
        now_columns, now_rows = self._size()
        self._line.clear()
        if columns != now_columns or rows >= now_rows:
            # Resized since (the line may have been re-wrapped), or taller than the screen: print it anew.
            self._print(line)
            return
        self._speaker = before
        self._print(line, up=rows)

    def _redraw(self) -> None:
        if self.live and self._interim is not None:
            self._line.draw(self._text(self._interim))
        self.out.flush()

    @contextlib.contextmanager
    def aside(self) -> Iterator[None]:
        """Print something else (a warning on stderr, say) without leaving a broken live line behind."""
        self._line.clear()
        self.out.flush()
        self._last = None
        try:
            yield
        finally:
            self._redraw()

    def close(self, transcript: Transcript) -> None:
        self._interim = None
        self._line.clear()
        self.out.flush()


class _CueWriter(Writer):
    """SRT/WebVTT, written as a stream: a line's cues are printed once the next line commits (so a
    formatted revision of a line is printed instead of its first version), the last at close. Cues follow
    ``limits`` and never overlap the cue printed before them."""

    def __init__(self, out: TextIO, *, limits: CueLimits | None = None) -> None:
        super().__init__(out)
        self.limits = limits or CueLimits()
        self._pending: Line | None = None
        self._count = 0
        self._shown_until = 0.0
        self._speaker: str | None = None
        self._header()

    def _header(self) -> None:
        pass

    def _cue(self, index: int, cue: Cue) -> str:
        raise NotImplementedError

    def _flush_pending(self, following: Line | None) -> None:
        line = self._pending
        if line is None:
            return
        seq = [line] if following is None else [line, following]
        start, end = line_times(seq)[0]
        label = line.speaker if line.speaker and line.speaker != self._speaker else None
        self._speaker = line.speaker or self._speaker
        for cue in no_overlap(line_cues(line, start, end, self.limits, label), after=self._shown_until):
            self._count += 1
            self.out.write(self._cue(self._count, cue))
            self._shown_until = cue.end
        self.out.flush()
        self._pending = None

    def change(self, change: Change) -> None:
        if change.kind == "commit":
            self._flush_pending(change.line)
            self._pending = change.line
        elif change.kind == "revise" and self._pending is not None and change.line.line_id == self._pending.line_id:
            self._pending = change.line

    def close(self, transcript: Transcript) -> None:
        self._flush_pending(None)


class SrtWriter(_CueWriter):
    def _cue(self, index: int, cue: Cue) -> str:
        return srt_cue(index, cue)


class VttWriter(_CueWriter):
    def _header(self) -> None:
        self.out.write(VTT_HEADER)
        self.out.flush()

    def _cue(self, index: int, cue: Cue) -> str:
        return vtt_cue(cue)


def make_writer(fmt: str, out: TextIO, *, live: bool | None = None, limits: CueLimits | None = None) -> Writer:
    if fmt == "jsonl":
        return JsonlWriter(out)
    if fmt == "srt":
        return SrtWriter(out, limits=limits)
    if fmt == "vtt":
        return VttWriter(out, limits=limits)
    return TextWriter(out, live=live)


def render_transcript(fmt: str, lines: Sequence[Line], limits: CueLimits | None = None) -> str | None:
    """Committed ``lines`` in ``fmt`` (revisions applied, in time order), for files; ``None`` for jsonl."""
    if fmt == "jsonl":
        return None
    return export("txt" if fmt == "text" else fmt, lines, limits)


def is_printable_event(event: CaptionEvent) -> bool:
    return not isinstance(event, AudioLevel)
