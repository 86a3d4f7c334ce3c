"""The line being spoken, drawn in place on a terminal whatever its length and the terminal's width.

A terminal wraps text wider than itself onto several rows, and a carriage return only goes back to the start of
the last of them: erasing a line with ``\\r\\x1b[K`` leaves the rows above behind, so a long interim line used to
leave a copy of itself on every update. :class:`LiveLine` parks the cursor (hidden) at the start of the first
row of what it drew and erases with ``\\x1b[J`` (from the cursor to the end of the screen), so the whole drawing
goes however many rows it took, and also after the terminal was resized and re-wrapped it (tmux and many
terminals re-flow, xterm clips). It draws at most :attr:`LiveLine.max_rows` rows, and never the last cell of
the last row (where terminals disagree about wrapping): a longer line shows its tail, what was said last,
after an ellipsis. Cell widths follow Unicode (wide East Asian characters take two cells, combining marks
none); control characters coming from an engine are shown as spaces, never sent to the terminal.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from collections.abc import Callable
from typing import TextIO

HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"
ERASE_BELOW = "\x1b[J"
DIM = "\x1b[2m"
RESET = "\x1b[0m"
ELLIPSIS = "…"

TerminalSize = Callable[[], tuple[int, int]]
"""Returns (columns, rows) of the terminal now."""


def terminal_size(out: TextIO) -> TerminalSize:
    """The size of the terminal ``out`` writes to, asked afresh on every call (it may have been resized)."""

    def size() -> tuple[int, int]:
        try:
            s = os.get_terminal_size(out.fileno())
        except (OSError, ValueError, AttributeError):
            s = shutil.get_terminal_size()
        return max(1, s.columns), max(1, s.lines)

    return size


def clean(text: str) -> str:
    """``text`` with control characters (escape sequences, tabs, line breaks) turned into spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)


def char_cells(c: str) -> int:
    """Terminal cells taken by one character."""
    if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1


def cells(text: str) -> int:
    """Terminal cells taken by ``text`` (no control characters)."""
    return sum(char_cells(c) for c in text)


def rows_for(text: str, columns: int) -> int:
    """Rows ``text`` takes from the start of a row on a terminal ``columns`` wide (at least one)."""
    n = cells(text)
    return max(1, -(-n // max(1, columns)))


def tail_that_fits(text: str, budget: int) -> str:
    """``text`` if it fits in ``budget`` cells, else its end after an ellipsis, cut at a word if one is near."""
    if cells(text) <= budget:
        return text
    room = max(0, budget - cells(ELLIPSIS))
    used = 0
    i = len(text)
    while i > 0 and used + char_cells(text[i - 1]) <= room:
        i -= 1
        used += char_cells(text[i])
    tail = text[i:]
    space = tail.find(" ")
    if 0 <= space < len(tail) // 3:  # start at a word boundary when that loses little
        tail = tail[space + 1 :]
    return ELLIPSIS + tail


class LiveLine:
    """One redrawable line at the bottom of a terminal's output (see the module docstring)."""

    def __init__(self, out: TextIO, size: TerminalSize, *, max_rows: int = 3) -> None:
        self.out = out
        self.size = size
        self.max_rows = max_rows
        self.text = ""
        """What is shown now ("" when nothing)."""

    @property
    def showing(self) -> bool:
        return bool(self.text)

    def fit(self, text: str) -> str:
        """What :meth:`draw` shows of ``text`` on the terminal as it is now."""
        columns, rows = self.size()
        budget = max(1, min(self.max_rows, max(1, rows - 1)) * columns - 1)
        return tail_that_fits(clean(text), budget)

    def draw(self, text: str) -> None:
        """Replace what is shown with ``text`` (dimmed)."""
        shown = self.fit(text)
        if not shown:
            self.clear()
            return
        columns, _rows = self.size()
        up = rows_for(shown, columns) - 1
        park = "\r" + (f"\x1b[{up}A" if up else "")
        prefix = "" if self.showing else HIDE_CURSOR
        self.out.write(f"{prefix}\r{ERASE_BELOW}{DIM}{shown}{RESET}{park}")
        self.text = shown
        self.out.flush()

    def clear(self) -> None:
        """Erase what is shown; the cursor is left at the start of the row it started on, visible."""
        if self.showing:
            self.out.write(f"\r{ERASE_BELOW}{SHOW_CURSOR}")
            self.text = ""
            self.out.flush()
