"""Exporters: committed caption lines to TXT, SRT, WebVTT and JSON.

SRT and WebVTT are subtitles: every line is cut into cues within :class:`~captioner.captions.cues.CueLimits`,
ordered and non-overlapping (:mod:`captioner.captions.cues`). TXT (one caption line per line) and JSON (one
record per line, with its word times when the engine gave them) keep every line whole, in time order. Who
speaks: JSON has a ``speaker`` field and WebVTT a ``<v Name>`` voice tag whenever it is known; when the lines
have more than one speaker, TXT lines and the cue after each change of speaker also start with ``Name:``. A line
time that is not a usable number (:func:`~captioner.captions.cues.known_time`) is exported as unknown.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Iterable, Sequence

from captioner.captions.cues import Cue, CueLimits, cues, known_time, speakers_differ
from captioner.captions.transcript import Line, line_record

FORMATS = ("txt", "srt", "vtt", "json")


def _hms(seconds: float, sep: str) -> str:
    ms_total = max(0, round(seconds * 1000))
    h, rem = divmod(ms_total, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt_time(seconds: float) -> str:
    """``HH:MM:SS,mmm``."""
    return _hms(seconds, ",")


def vtt_time(seconds: float) -> str:
    """``HH:MM:SS.mmm``."""
    return _hms(seconds, ".")


def _in_time_order(lines: Iterable[Line]) -> list[Line]:
    """Non-empty lines ordered by start (lines without one stay after the line before them), unusable times
    made unknown."""
    last = 0.0
    keyed = []
    for i, line in enumerate(lines):
        if not line.text.strip():
            continue
        line = _known_times(line)
        last = line.start if line.start is not None else last
        keyed.append((last, i, line))
    return [line for _, _, line in sorted(keyed, key=lambda k: (k[0], k[1]))]


def _known_times(line: Line) -> Line:
    start, end = known_time(line.start), known_time(line.end)
    timed = all(known_time(w.start) is not None and known_time(w.end) is not None for w in line.words)
    if start == line.start and end == line.end and timed:
        return line
    return dataclasses.replace(line, start=start, end=end, words=line.words if timed else ())


def to_txt(lines: Iterable[Line], *, timestamps: bool = False, label_speakers: bool | None = None) -> str:
    """One caption per line, in time order; with ``timestamps``, prefixed by ``[HH:MM:SS]``; ``label_speakers``
    puts ``Name:`` before each line (default: when the lines have more than one speaker)."""
    seq = _in_time_order(lines)
    named = speakers_differ(seq) if label_speakers is None else label_speakers
    out = []
    for line in seq:
        text = " ".join(line.text.split())  # one caption, one line
        text = f"{line.speaker}: {text}" if named and line.speaker else text
        if timestamps and line.start is not None:
            text = f"[{_hms(line.start, '.')[:8]}] {text}"
        out.append(text)
    return "\n".join(out) + ("\n" if out else "")


def srt_cue(index: int, cue: Cue) -> str:
    return f"{index}\n{srt_time(cue.start)} --> {srt_time(cue.end)}\n{cue.text}\n\n"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt_cue(cue: Cue) -> str:
    text = _vtt_escape(cue.text)
    if cue.speaker:
        text = f"<v {_vtt_escape(cue.speaker)}>{text}"
    return f"{vtt_time(cue.start)} --> {vtt_time(cue.end)}\n{text}\n\n"


VTT_HEADER = "WEBVTT\n\n"


def to_srt(lines: Iterable[Line], limits: CueLimits | None = None, *, label_speakers: bool | None = None) -> str:
    labelled = cues(list(lines), limits, label_speakers=label_speakers)
    return "".join(srt_cue(i, cue) for i, cue in enumerate(labelled, 1))


def to_vtt(lines: Iterable[Line], limits: CueLimits | None = None) -> str:
    return VTT_HEADER + "".join(vtt_cue(cue) for cue in cues(list(lines), limits))


def to_json(lines: Iterable[Line]) -> str:
    records = [line_record(line) for line in _in_time_order(lines)]
    return json.dumps(records, ensure_ascii=False, indent=2) + "\n"


def export(
    fmt: str, lines: Sequence[Line], limits: CueLimits | None = None, *, label_speakers: bool | None = None
) -> str:
    """``lines`` in ``fmt`` (one of :data:`FORMATS`); ``limits`` apply to SRT and WebVTT. ``label_speakers``
    (TXT, SRT) names the speakers in the text (default: when ``lines`` have more than one; a selection of one
    speaker's lines from a conversation is exported with ``True``)."""
    if fmt == "srt":
        return to_srt(lines, limits, label_speakers=label_speakers)
    if fmt == "vtt":
        return to_vtt(lines, limits)
    if fmt == "json":
        return to_json(lines)
    if fmt == "txt":
        return to_txt(lines, label_speakers=label_speakers)
    raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(FORMATS)}")


EXPORTERS: dict[str, Callable[[Sequence[Line]], str]] = {fmt: functools.partial(export, fmt) for fmt in FORMATS}
"""Each format with the default cue limits."""
