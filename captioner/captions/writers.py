"""Headless views: caption events and transcript changes written as text, JSON lines, SRT or WebVTT."""

from __future__ import annotations

import json
from typing import TextIO

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
from captioner.captions.export import cue_times, srt_cue, to_srt, to_txt, to_vtt, vtt_cue
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

    def close(self, transcript: Transcript) -> None:
        pass


class JsonlWriter(Writer):
    def event(self, event: CaptionEvent) -> None:
        rec = event_record(event)
        if rec is not None:
            self.out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self.out.flush()


class TextWriter(Writer):
    """Finals one per line; on a terminal the interim line is shown in place (dim) and overwritten,
    and a revised (formatted) version of the line just committed replaces it in place."""

    def __init__(self, out: TextIO, *, live: bool | None = None) -> None:
        super().__init__(out)
        self.live = out.isatty() if live is None else live
        self._showing = False
        self._last_final: str | None = None

    def _clear(self) -> None:
        if self._showing:
            self.out.write("\r\x1b[K")
            self._showing = False

    def change(self, change: Change) -> None:
        line = change.line
        if change.kind == "interim":
            if self.live:
                self._clear()
                self.out.write(f"\x1b[2m{line.text}\x1b[0m")
                self._showing = True
                self.out.flush()
        elif change.kind == "commit":
            self._clear()
            self.out.write(line.text + "\n")
            self._last_final = line.line_id
            self.out.flush()
        elif change.kind == "revise" and self.live and line.line_id == self._last_final:
            # A formatted version of the line just printed (AssemblyAI, Uhlive): rewrite it in place.
            self._clear()
            self.out.write("\x1b[1A\r\x1b[K" + line.text + "\n")
            self.out.flush()
        elif change.kind == "drop":
            self._clear()
            self.out.flush()

    def close(self, transcript: Transcript) -> None:
        self._clear()
        self.out.flush()


class _CueWriter(Writer):
    """SRT/WebVTT, written as a stream: a cue is printed once the next line commits (so a
    formatted revision of a line is printed instead of its first version), the last at close."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self._pending: Line | None = None
        self._count = 0
        self._header()

    def _header(self) -> None:
        pass

    def _cue(self, index: int, start: float, end: float, text: str) -> str:
        raise NotImplementedError

    def _flush_pending(self, following: Line | None) -> None:
        line = self._pending
        if line is None:
            return
        seq = [line] if following is None else [line, following]
        start, end = cue_times(seq)[0]
        self._count += 1
        self.out.write(self._cue(self._count, start, end, line.text))
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
    def _cue(self, index: int, start: float, end: float, text: str) -> str:
        return srt_cue(index, start, end, text)


class VttWriter(_CueWriter):
    def _header(self) -> None:
        self.out.write("WEBVTT\n\n")
        self.out.flush()

    def _cue(self, index: int, start: float, end: float, text: str) -> str:
        return vtt_cue(start, end, text)


def make_writer(fmt: str, out: TextIO, *, live: bool | None = None) -> Writer:
    if fmt == "jsonl":
        return JsonlWriter(out)
    if fmt == "srt":
        return SrtWriter(out)
    if fmt == "vtt":
        return VttWriter(out)
    return TextWriter(out, live=live)


def render_transcript(fmt: str, transcript: Transcript) -> str | None:
    """The whole transcript in ``fmt`` (with revisions applied), for files; ``None`` for jsonl."""
    if fmt == "srt":
        return to_srt(transcript.finals)
    if fmt == "vtt":
        return to_vtt(transcript.finals)
    if fmt == "text":
        return to_txt(transcript.finals)
    return None


def is_printable_event(event: CaptionEvent) -> bool:
    return not isinstance(event, AudioLevel)
