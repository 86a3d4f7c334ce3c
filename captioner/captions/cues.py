"""Subtitle cues from caption lines, the way broadcast subtitles are made.

A caption line can be a minute of speech; a subtitle cue must be readable at a glance. :func:`cues` cuts every
line into cues of at most :attr:`CueLimits.max_lines` lines of at most :attr:`CueLimits.max_chars`
characters, shown at most :attr:`CueLimits.max_seconds` (defaults: 2 × 42 characters, 7 s), always at word
boundaries, a cue also ending after a sentence once it holds a line's worth. Each word's time comes from the
engine where it gives word times (:attr:`~captioner.captions.transcript.Line.words`), else it is spread over
the line in proportion to the characters. The lines of a cue are balanced (the shortest longest line). A cue
stays up until the next cue of the same caption line starts. Cues come out ordered by time and never overlap
(lines from sessions or engines that overlapped are trimmed, a cue is never shorter than
:data:`MIN_SHOW`), whatever order the lines were committed in. A speaker's name (``Name:``) is put before the
first cue after a change of speaker when ``label_speakers``; it counts against the line length. Whatever the
lines hold, the cues are valid subtitles: control characters are left out of the text and ``-->`` (the time
separator) becomes ``->``; a time that is not a finite number within :data:`MAX_TIME` counts as unknown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from captioner.captions.transcript import Line

MIN_CUE = 0.5
"""Seconds a line with no end time is shown."""
MIN_SHOW = 0.2
"""A cue trimmed so as not to overlap the next is never shown for less than this (seconds)."""
MAX_TIME = 359_999.999
"""The latest time a subtitle can show (99:59:59.999); a line time beyond it (or not a number) is unknown."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_ARROW = re.compile(r"-{2,}>")


def known_time(t: float | None) -> float | None:
    """``t`` if it is a usable time (a finite number no further than :data:`MAX_TIME` from 0), else ``None``."""
    return t if t is not None and math.isfinite(t) and abs(t) <= MAX_TIME else None


def subtitle_text(text: str) -> str:
    """``text`` fit for a subtitle: control characters left out, ``-->`` (the time separator) made ``->``."""
    return _ARROW.sub("->", _CONTROL.sub("", text))


@dataclass(frozen=True, slots=True, kw_only=True)
class CueLimits:
    """How big a subtitle cue may be."""

    max_chars: int = 42
    """Characters per line of a cue."""
    max_lines: int = 2
    max_seconds: float = 7.0

    def check(self) -> CueLimits:
        """``self``, or :class:`ValueError` saying which limit is out of range."""
        if not 10 <= self.max_chars <= 200:
            raise ValueError(f"characters per cue line must be between 10 and 200, not {self.max_chars}")
        if not 1 <= self.max_lines <= 5:
            raise ValueError(f"lines per cue must be between 1 and 5, not {self.max_lines}")
        if not 1.0 <= self.max_seconds <= 60.0:
            raise ValueError(f"seconds per cue must be between 1 and 60, not {self.max_seconds:g}")
        return self


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue:
    """One subtitle: its time on screen and its lines of text."""

    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None = None
    """Who speaks (for WebVTT's ``<v>``), whether or not a label is in ``lines``."""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: float
    end: float


def line_times(lines: Sequence[Line]) -> list[tuple[float, float]]:
    """Start and end of each line: missing times are filled from neighbours, ends never before starts."""
    out: list[tuple[float, float]] = []
    prev_end = 0.0
    for i, line in enumerate(lines):
        known_start, known_end = known_time(line.start), known_time(line.end)
        start = known_start if known_start is not None else prev_end
        if known_end is not None and known_end > start:
            end = known_end
        else:
            nxt = next((t for n in lines[i + 1 :] if (t := known_time(n.start)) is not None), None)
            end = nxt if nxt is not None and nxt > start else start + MIN_CUE
        out.append((start, end))
        prev_end = end
    return out


def _tokens(line: Line, start: float, end: float) -> list[_Token]:
    """The words of ``line.text`` with times: the engine's word times if they match the words, else spread."""
    texts = subtitle_text(line.text).split()
    words = line.words
    timed = all(known_time(w.start) is not None and known_time(w.end) is not None for w in words)
    if words and timed and len(words) == len(texts):
        return [_Token(t, max(start, w.start), max(start, w.end)) for t, w in zip(texts, words, strict=True)]
    total = sum(len(t) for t in texts) + len(texts) - 1
    out, pos = [], 0
    span = max(0.0, end - start)
    for t in texts:
        a, b = pos, pos + len(t)
        out.append(_Token(t, start + span * a / total, start + span * b / total))
        pos = b + 1
    return out


def _fits(tokens: Sequence[str], width: int, lines: int) -> list[list[str]] | None:
    """``tokens`` filled greedily into lines of ``width``, if that takes at most ``lines`` lines."""
    rows: list[list[str]] = [[]]
    used = 0
    for t in tokens:
        need = len(t) if not rows[-1] else used + 1 + len(t)
        if rows[-1] and need > width:
            rows.append([t])
            used = len(t)
            if len(rows) > lines:
                return None
        else:
            rows[-1].append(t)
            used = need
    return rows


def _balanced(tokens: Sequence[str], limits: CueLimits) -> tuple[str, ...]:
    """The tokens of one cue as few lines as they need (at most ``max_lines``), the longest as short as can be."""
    widest = max(limits.max_chars, max(len(t) for t in tokens))  # a longer word keeps a line of its own
    rows = _fits(tokens, widest, len(tokens)) or [list(tokens)]
    needed = len(rows)
    for width in range(max(len(t) for t in tokens), widest):
        balanced = _fits(tokens, width, needed)
        if balanced is not None:
            rows = balanced
            break
    return tuple(" ".join(r) for r in rows)


def _group(tokens: list[_Token], limits: CueLimits) -> list[list[_Token]]:
    """Consecutive tokens, as few per cue as the limits require (greedy, sentence ends preferred)."""
    groups: list[list[_Token]] = []
    cur: list[_Token] = []
    for tok in tokens:
        if cur:
            fits = _fits([t.text for t in [*cur, tok]], limits.max_chars, limits.max_lines) is not None
            too_long = tok.end - cur[0].start > limits.max_seconds
            if not fits or too_long:
                groups.append(cur)
                cur = []
        cur.append(tok)
        if tok.text[-1] in ".?!" and sum(len(t.text) + 1 for t in cur) > limits.max_chars:
            groups.append(cur)
            cur = []
    if cur:
        groups.append(cur)
    return groups


def line_cues(line: Line, start: float, end: float, limits: CueLimits, label: str | None = None) -> list[Cue]:
    """The cues of one caption line shown from ``start`` to ``end``; ``label`` goes before the first."""
    tokens = _tokens(line, start, end)
    if not tokens:
        return []
    if label:
        tokens[0] = replace(tokens[0], text=" ".join(f"{subtitle_text(label)}: {tokens[0].text}".split()))
    groups = _group(tokens, limits)
    out = []
    for i, group in enumerate(groups):
        c_start = group[0].start
        c_end = groups[i + 1][0].start if i + 1 < len(groups) else max(end, group[-1].end)
        c_end = min(max(c_end, group[-1].end, c_start + MIN_SHOW), c_start + limits.max_seconds)
        lines = _balanced([t.text for t in group], limits)
        speaker = " ".join(subtitle_text(line.speaker).split()) if line.speaker else None
        out.append(Cue(start=c_start, end=c_end, lines=lines, speaker=speaker or None))
    return out


def no_overlap(cues: list[Cue], after: float = 0.0) -> list[Cue]:
    """``cues`` (ordered by start) trimmed so that none overlaps the next, nor starts before ``after``."""
    out: list[Cue] = []
    for cue in cues:
        floor = out[-1].end if out else after
        if out and cue.start < out[-1].end:
            prev = out[-1]
            trimmed = max(cue.start, prev.start + MIN_SHOW)
            out[-1] = replace(prev, end=min(prev.end, trimmed))
            floor = out[-1].end
        start = max(cue.start, floor)
        out.append(replace(cue, start=start, end=max(cue.end, start + MIN_SHOW)))
    return out


def speakers_differ(lines: Sequence[Line]) -> bool:
    """Whether ``lines`` have more than one speaker (only then are names put in the text)."""
    return len({line.speaker for line in lines if line.speaker is not None}) > 1


def cues(lines: Sequence[Line], limits: CueLimits | None = None, *, label_speakers: bool | None = None) -> list[Cue]:
    """Every non-empty line as subtitle cues, ordered and non-overlapping (see the module docstring).

    ``label_speakers`` puts ``Name:`` before the first cue after a change of speaker (default: when the lines
    have more than one speaker).
    """
    limits = limits or CueLimits()
    seq = [line for line in lines if subtitle_text(line.text).strip()]
    if label_speakers is None:
        label_speakers = speakers_differ(seq)
    timed = sorted(zip(seq, line_times(seq), strict=True), key=lambda lt: lt[1][0])
    out: list[Cue] = []
    previous: str | None = None
    for line, (start, end) in timed:
        label = line.speaker if label_speakers and line.speaker and line.speaker != previous else None
        previous = line.speaker or previous
        out.extend(line_cues(line, start, end, limits, label))
    return no_overlap(sorted(out, key=lambda c: c.start))
