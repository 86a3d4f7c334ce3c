"""Roll-up caption layout, free of Qt: words flow into rows like broadcast captions.

Words are laid out greedily, in the order they were committed, then the live
(interim) words after them. Greedy wrapping is *prefix-stable*: where a word
lands depends only on the words before it, so committed text never moves
sideways when the interim text after it changes. Full rows of committed words
are frozen; when a new row is needed the old ones roll up, one row at a time.

``measure`` gives the width of a piece of text (pixels in the overlay,
characters in tests); ``max_width`` is the widest a row may be.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["final", "interim", "tail"]
Measure = Callable[[str, Kind], float]


def char_measure(text: str, kind: Kind) -> float:
    """One unit per character (tests, and the ``max_line_chars`` limit)."""
    return float(len(text))


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    line_id: str
    kind: Kind


Row = tuple[Word, ...]


def row_text(row: Row) -> str:
    return " ".join(w.text for w in row)


def row_is_final(row: Row) -> bool:
    return all(w.kind == "final" for w in row)


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
            w = word if piece == word.text else Word(piece, word.line_id, word.kind)
            candidate = f"{cur_text} {piece}" if cur else piece
            if cur and measure(candidate, w.kind) > max_width:
                rows.append(tuple(cur))
                cur, cur_text = [w], piece
            else:
                cur.append(w)
                cur_text = candidate
    return rows, cur


def words_of(text: str, line_id: str, kind: Kind) -> list[Word]:
    return [Word(t, line_id, kind) for t in text.split()]


class RollUp:
    """The caption rows an overlay shows: frozen committed rows, the open row, and live words."""

    def __init__(self, measure: Measure = char_measure, max_width: float = 60.0, keep_rows: int = 12) -> None:
        self.measure = measure
        self.max_width = max(1.0, max_width)
        self._rows: deque[Row] = deque(maxlen=max(1, keep_rows))
        self._open: list[Word] = []  # committed words on the last, not yet full row
        self._live: OrderedDict[str, tuple[str, str]] = OrderedDict()  # line_id -> (text, tail)
        self._cache: list[Row] | None = None

    # -- changes ---------------------------------------------------------------------------
    def interim(self, line_id: str, text: str, tail: str = "") -> None:
        self._live[line_id] = (text, tail if tail and text.endswith(tail) else "")
        self._cache = None

    def drop(self, line_id: str) -> None:
        if self._live.pop(line_id, None) is not None:
            self._cache = None

    def commit(self, line_id: str, text: str) -> None:
        """A line became final, or a committed line was revised."""
        self._live.pop(line_id, None)
        self._cache = None
        if self._contains(line_id):
            self._revise(line_id, text)
            return
        rows, self._open = flow(words_of(text, line_id, "final"), self.measure, self.max_width, self._open)
        self._rows.extend(rows)

    def clear(self) -> None:
        """Forget committed text (idle timeout); live lines stay."""
        self._rows.clear()
        self._open = []
        self._cache = None

    def reset(self) -> None:
        self.clear()
        self._live.clear()

    def set_max_width(self, max_width: float, measure: Measure | None = None) -> None:
        """New row width (or font): re-flow the committed words still kept."""
        self.max_width = max(1.0, max_width)
        if measure is not None:
            self.measure = measure
        words = [w for row in self._rows for w in row] + self._open
        self._rows.clear()
        rows, self._open = flow(words, self.measure, self.max_width)
        self._rows.extend(rows)
        self._cache = None

    # -- queries ---------------------------------------------------------------------------
    @property
    def has_live(self) -> bool:
        return bool(self._live)

    @property
    def empty(self) -> bool:
        return not self._rows and not self._open and not any(t.strip() for t, _ in self._live.values())

    def all_rows(self) -> list[Row]:
        if self._cache is None:
            live: list[Word] = []
            for line_id, (text, tail) in self._live.items():
                stable = text[: len(text) - len(tail)] if tail else text
                live += words_of(stable, line_id, "interim") + words_of(tail, line_id, "tail")
            rows, last = flow(live, self.measure, self.max_width, self._open)
            out = list(self._rows) + rows
            if last:
                out.append(tuple(last))
            self._cache = out
        return self._cache

    def rows(self, n: int) -> list[Row]:
        """The last ``n`` rows (what the overlay shows)."""
        rows = self.all_rows()
        return rows[-n:] if n > 0 else []

    # -- internals -------------------------------------------------------------------------
    def _contains(self, line_id: str) -> bool:
        return any(w.line_id == line_id for w in self._open) or any(
            w.line_id == line_id for row in self._rows for w in row
        )

    def _revise(self, line_id: str, text: str) -> None:
        rows = list(self._rows)
        first = next((i for i, row in enumerate(rows) if any(w.line_id == line_id for w in row)), len(rows))
        tail_words = [w for row in rows[first:] for w in row] + self._open
        new_words: list[Word] = []
        inserted = False
        for w in tail_words:
            if w.line_id == line_id:
                if not inserted:
                    new_words += words_of(text, line_id, "final")
                    inserted = True
                continue
            new_words.append(w)
        self._rows = deque(rows[:first], maxlen=self._rows.maxlen)
        # Re-flow from the start of the row holding the line: rows above it do not move.
        reflowed, self._open = flow(new_words, self.measure, self.max_width)
        self._rows.extend(reflowed)
