"""Roll-up caption layout, free of Qt: words flow into rows like broadcast captions.

Lines are laid out greedily in the order they first appeared, committed or live
(interim). Greedy wrapping is *prefix-stable*: where a word lands depends only
on the words before it, so committed text never moves sideways when the interim
text after it changes. Committed lines before the first live one are frozen;
when a new row is needed the old ones roll up, one row at a time. A line
committed while an earlier one is still live waits after it (at most
``HOLD_LINES`` of them), so when two speakers talk at once each keeps its place.

With more than one speaker (or in meeting mode: :func:`~captioner.ui.speaker_style.speakers_shown`), a
change of speaker starts a new row, led by the speaker's label when ``label_of`` gives one; the words carry
their speaker so the painter can colour them. With one speaker nothing of this happens.

``measure`` gives the width of a piece of text (pixels in the overlay,
characters in tests); ``max_width`` is the widest a row may be.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["final", "interim", "tail", "label"]
Measure = Callable[[str, Kind], float]


def char_measure(text: str, kind: Kind) -> float:
    """One unit per character (tests, and the ``max_line_chars`` limit)."""
    return float(len(text))


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    line_id: str
    kind: Kind
    speaker: str | None = None
    """Set only while speakers are told apart."""
    breaks: bool = False
    """Starts a new row (the first word of a speaker's turn)."""


Row = tuple[Word, ...]


def row_text(row: Row) -> str:
    return " ".join(w.text for w in row)


def row_is_final(row: Row) -> bool:
    return all(w.kind in ("final", "label") for w in row)


def _split_long(word: str, measure: Measure, kind: Kind, max_width: float) -> list[str]:
    """Break a single word wider than a row into pieces that fit (rare: URLs, long numbers)."""
    pieces: list[str] = []
    cur = ""
    for ch in word:
        if cur and measure(cur + ch, kind) > max_width:
            pieces.append(cur)
            cur = ch
        else:
            cur += ch
    if cur:
        pieces.append(cur)
    return pieces


def flow(
    words: list[Word], measure: Measure, max_width: float, start: list[Word] | None = None
) -> tuple[list[Row], list[Word]]:
    """Greedy wrap of ``words`` after the partial row ``start``: (full rows, the open last row)."""
    rows: list[Row] = []
    cur: list[Word] = list(start or [])
    cur_text = " ".join(w.text for w in cur)
    for word in words:
        pieces = [word.text]
        if measure(word.text, word.kind) > max_width:
            pieces = _split_long(word.text, measure, word.kind, max_width)
        for piece in pieces:
            w = word if piece == word.text else Word(piece, word.line_id, word.kind, word.speaker)
            candidate = f"{cur_text} {piece}" if cur else piece
            if cur and (w.breaks or measure(candidate, w.kind) > max_width):
                rows.append(tuple(cur))
                cur, cur_text = [w], piece
            else:
                cur.append(w)
                cur_text = candidate
    return rows, cur


def words_of(text: str, line_id: str, kind: Kind, speaker: str | None = None) -> list[Word]:
    return [Word(t, line_id, kind, speaker) for t in text.split()]


HOLD_LINES = 2
"""Committed lines that may wait after a live one before they are frozen above it."""


@dataclass(slots=True, kw_only=True)
class _Pending:
    """A line not yet frozen: live, or committed after a line that is still live."""

    text: str
    tail: str
    speaker: str | None
    final: bool


class RollUp:
    """The caption rows an overlay shows: frozen committed rows, the open row, and the pending lines."""

    def __init__(
        self,
        measure: Measure = char_measure,
        max_width: float = 60.0,
        keep_rows: int = 12,
        label_of: Callable[[str], str] | None = None,
        speakers_shown: Callable[[set[str]], bool] | None = None,
    ) -> None:
        self.measure = measure
        self.max_width = max(1.0, max_width)
        self.label_of = label_of or (lambda _speaker: "")
        self._shown_rule = speakers_shown or (lambda seen: len(seen) > 1)
        self._rows: deque[Row] = deque(maxlen=max(1, keep_rows))
        self._open: list[Word] = []  # committed words on the last, not yet full row
        self._pending: OrderedDict[str, _Pending] = OrderedDict()  # in order of first appearance
        self._seen: set[str] = set()
        self._shown = False
        self._last_speaker: str | None = None  # of the last frozen line (while speakers are shown)
        self._cache: list[Row] | None = None

    # -- changes ---------------------------------------------------------------------------
    def interim(self, line_id: str, text: str, tail: str = "", speaker: str | None = None) -> None:
        old = self._pending.get(line_id)
        if old is not None and old.final:
            return  # a late interim of a committed line: the final wins
        self._see(speaker)
        tail = tail if tail and text.endswith(tail) else ""
        if old is None:
            self._pending[line_id] = _Pending(text=text, tail=tail, speaker=speaker, final=False)
        else:
            old.text, old.tail, old.speaker = text, tail, speaker
        self._cache = None

    def drop(self, line_id: str) -> None:
        if self._pending.pop(line_id, None) is not None:
            self._cache = None
            self._settle()

    def commit(self, line_id: str, text: str, speaker: str | None = None) -> None:
        """A line became final, or a committed line was revised."""
        self._cache = None
        self._see(speaker)
        if line_id not in self._pending and self._contains(line_id):
            self._revise(line_id, text, speaker if self._shown else None)
            return
        old = self._pending.get(line_id)
        if old is None:
            self._pending[line_id] = _Pending(text=text, tail="", speaker=speaker, final=True)
        else:
            old.text, old.tail, old.final = text, "", True
            old.speaker = speaker if speaker is not None else old.speaker
        self._settle()

    def clear(self) -> None:
        """Forget committed text (idle timeout); live lines stay."""
        self._rows.clear()
        self._open = []
        self._last_speaker = None
        self._cache = None

    def reset(self) -> None:
        self.clear()
        self._pending.clear()
        self._seen.clear()
        self._shown = False

    def set_max_width(self, max_width: float, measure: Measure | None = None) -> None:
        """New row width (or font): re-flow the committed words still kept."""
        self.max_width = max(1.0, max_width)
        if measure is not None:
            self.measure = measure
        self._reflow_frozen()

    def relabel(self, label_of: Callable[[str], str]) -> None:
        """New speaker labels (the appearance changed): the frozen labels take them, and rows re-flow."""
        self.label_of = label_of
        words: list[Word] = []
        carry = False  # a dropped label's row break, for the word after it
        for w in [w for row in self._rows for w in row] + self._open:
            if w.kind == "label" and w.speaker is not None:
                label = label_of(w.speaker)
                carry = not label
                if label:
                    words.append(Word(label, w.line_id, "label", w.speaker, True))
                continue
            words.append(dataclasses.replace(w, breaks=True) if carry else w)
            carry = False
        self._reflow_frozen(words)

    # -- queries ---------------------------------------------------------------------------
    @property
    def has_live(self) -> bool:
        return any(not p.final for p in self._pending.values())

    @property
    def empty(self) -> bool:
        return not self._rows and not self._open and not any(p.text.strip() for p in self._pending.values())

    @property
    def speakers_shown(self) -> bool:
        """Whether speakers are told apart (more than one so far, or meeting mode)."""
        return self._shown

    def all_rows(self) -> list[Row]:
        if self._cache is None:
            words: list[Word] = []
            last = self._last_speaker
            for line_id, p in self._pending.items():
                words += self._line_words(line_id, p, last)
                last = p.speaker if self._shown and p.speaker is not None else last
            rows, open_row = flow(words, self.measure, self.max_width, self._open)
            out = list(self._rows) + rows
            if open_row:
                out.append(tuple(open_row))
            self._cache = out
        return self._cache

    def rows(self, n: int) -> list[Row]:
        """The last ``n`` rows (what the overlay shows)."""
        rows = self.all_rows()
        return rows[-n:] if n > 0 else []

    # -- internals -------------------------------------------------------------------------
    def _see(self, speaker: str | None) -> None:
        if speaker is not None and speaker not in self._seen:
            self._seen.add(speaker)
            self._shown = self._shown or self._shown_rule(self._seen)

    def _line_words(self, line_id: str, p: _Pending, previous: str | None) -> list[Word]:
        """A pending line's words: led by its speaker's label when the speaker changes."""
        speaker = p.speaker if self._shown else None
        if p.final:
            words = words_of(p.text, line_id, "final", speaker)
        else:
            stable = p.text[: len(p.text) - len(p.tail)] if p.tail else p.text
            words = words_of(stable, line_id, "interim", speaker) + words_of(p.tail, line_id, "tail", speaker)
        if speaker is None or speaker == previous or not words:
            return words
        label = self.label_of(speaker)
        if label:
            return [Word(label, line_id, "label", speaker, True), *words]
        return [dataclasses.replace(words[0], breaks=True), *words[1:]]

    def _settle(self) -> None:
        """Freeze the committed lines at the head of the pending ones (and those held too long)."""
        held = sum(1 for p in self._pending.values() if p.final)
        while self._pending:
            line_id, p = next(iter(self._pending.items()))
            if not p.final:
                if held <= HOLD_LINES:
                    return
                # Too many lines wait after a live one: the committed ones go above it.
                line_id = next(i for i, q in self._pending.items() if q.final)
                p = self._pending[line_id]
            del self._pending[line_id]
            held -= 1
            self._freeze(line_id, p)

    def _freeze(self, line_id: str, p: _Pending) -> None:
        words = self._line_words(line_id, p, self._last_speaker)
        if self._shown and p.speaker is not None:
            self._last_speaker = p.speaker
        rows, self._open = flow(words, self.measure, self.max_width, self._open)
        self._rows.extend(rows)
        self._cache = None

    def _reflow_frozen(self, words: list[Word] | None = None) -> None:
        if words is None:
            words = [w for row in self._rows for w in row] + self._open
        self._rows.clear()
        rows, self._open = flow(words, self.measure, self.max_width)
        self._rows.extend(rows)
        self._cache = None

    def _contains(self, line_id: str) -> bool:
        return any(w.line_id == line_id for w in self._open) or any(
            w.line_id == line_id for row in self._rows for w in row
        )

    def _revise(self, line_id: str, text: str, speaker: str | None) -> None:
        """A frozen line's new text (and, given a ``speaker``, its new speaker: colour and label)."""
        rows = list(self._rows)
        first = next((i for i, row in enumerate(rows) if any(w.line_id == line_id for w in row)), len(rows))
        tail_words = [w for row in rows[first:] for w in row] + self._open
        new_words: list[Word] = []
        inserted = False
        for w in tail_words:
            if w.line_id == line_id:
                who = speaker if speaker is not None and w.speaker is not None else w.speaker
                if w.kind == "label":  # the speaker's label stays before the revised words
                    new_words.append(Word(self.label_of(who) if who else w.text, line_id, "label", who, True))
                elif not inserted:
                    revised = words_of(text, line_id, "final", who)
                    if revised and w.breaks:
                        revised[0] = dataclasses.replace(revised[0], breaks=True)
                    new_words += revised
                    inserted = True
                continue
            new_words.append(w)
        self._rows = deque(rows[:first], maxlen=self._rows.maxlen)
        # Re-flow from the start of the row holding the line: rows above it do not move.
        reflowed, self._open = flow(new_words, self.measure, self.max_width)
        self._rows.extend(reflowed)
