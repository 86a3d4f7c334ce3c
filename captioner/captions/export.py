"""Exporters: committed caption lines to TXT, SRT, WebVTT and JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from captioner.captions.transcript import Line

MIN_CUE = 0.5  # seconds a cue with no end time is shown


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


def cue_times(lines: Sequence[Line]) -> list[tuple[float, float]]:
    """Start and end of each line's cue: missing times are filled from neighbours, ends never before starts."""
    out: list[tuple[float, float]] = []
    prev_end = 0.0
    for i, line in enumerate(lines):
        start = line.start if line.start is not None else prev_end
        if line.end is not None and line.end > start:
            end = line.end
        else:
            nxt = next((n.start for n in lines[i + 1 :] if n.start is not None), None)
            end = nxt if nxt is not None and nxt > start else start + MIN_CUE
        out.append((start, end))
        prev_end = end
    return out


def to_txt(lines: Iterable[Line], *, timestamps: bool = False) -> str:
    """One caption per line; with ``timestamps``, prefixed by ``[HH:MM:SS]``."""
    out = []
    for line in lines:
        if timestamps and line.start is not None:
            out.append(f"[{_hms(line.start, '.')[:8]}] {line.text}")
        else:
            out.append(line.text)
    return "\n".join(out) + ("\n" if out else "")


def srt_cue(index: int, start: float, end: float, text: str) -> str:
    return f"{index}\n{srt_time(start)} --> {srt_time(end)}\n{text}\n\n"


def vtt_cue(start: float, end: float, text: str) -> str:
    return f"{vtt_time(start)} --> {vtt_time(end)}\n{text}\n\n"


def to_srt(lines: Iterable[Line]) -> str:
    seq = [line for line in lines if line.text.strip()]
    return "".join(
        srt_cue(i, s, e, line.text) for i, (line, (s, e)) in enumerate(zip(seq, cue_times(seq), strict=False), 1)
    )


def to_vtt(lines: Iterable[Line]) -> str:
    seq = [line for line in lines if line.text.strip()]
    return "WEBVTT\n\n" + "".join(vtt_cue(s, e, line.text) for line, (s, e) in zip(seq, cue_times(seq), strict=False))


def to_json(lines: Iterable[Line]) -> str:
    records = [
        {"id": line.line_id, "text": line.text, "start": line.start, "end": line.end, "engine": line.engine}
        for line in lines
    ]
    return json.dumps(records, ensure_ascii=False, indent=2) + "\n"


EXPORTERS = {"txt": to_txt, "srt": to_srt, "vtt": to_vtt, "json": to_json}
