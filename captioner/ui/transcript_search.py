"""The transcript window's search bar: matching, highlighting or filtering rows, next / previous match.

Search highlights matching rows of the window's table as you type (debounced), or
with "Only matches" hides the others; Enter / F3 go to the next match,
Shift+Enter / Shift+F3 to the previous one, Ctrl+F focuses the search field.
The bar keeps the match state and paints the table, touching Qt only for rows
whose state changes; the window tells it when rows are replaced
(:meth:`SearchBar.reset`) or a line is added or revised (:meth:`SearchBar.match_row`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QWidget,
)

from captioner.captions.transcript import Line

HIGHLIGHT = QBrush(QColor("#fff59d"))
CURRENT = QBrush(QColor("#ffca28"))
SEARCH_DEBOUNCE_MS = 120


class SearchBar(QWidget):
    """Search over ``table``, whose row ``r`` shows ``lines()[r]`` (text in column 1)."""

    def __init__(self, table: QTableWidget, lines: Callable[[], list[Line]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self._lines = lines
        self._matches: list[int] = []  # matching rows, ascending
        self._match_set: set[int] = set()
        self._painted: dict[int, int] = {}  # row -> 1 highlighted, 2 current match
        self._hidden: set[int] = set()
        self._current = -1

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the transcript")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search the transcript")
        self.search.returnPressed.connect(self.next_match)
        search_label = QLabel("&Find:")
        search_label.setBuddy(self.search)
        self.only_matches = QCheckBox("Only &matches")
        self.only_matches.setAccessibleName("Show only matching lines")
        self.prev_button = QPushButton("&Previous")
        self.next_button = QPushButton("&Next")
        self.match_label = QLabel()
        self.match_label.setObjectName("match_label")
        self.prev_button.clicked.connect(self.previous_match)
        self.next_button.clicked.connect(self.next_match)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.only_matches.toggled.connect(lambda _on: self.apply_search())
        QShortcut(QKeySequence(QKeySequence.StandardKey.FindNext), self, self.next_match)
        QShortcut(QKeySequence(QKeySequence.StandardKey.FindPrevious), self, self.previous_match)
        QShortcut(QKeySequence("Shift+Return"), self.search, self.previous_match)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Find), self, self._focus_search)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(search_label)
        row.addWidget(self.search, 1)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        row.addWidget(self.only_matches)
        row.addWidget(self.match_label)

    def reset(self) -> None:
        """The table was emptied: forget the matches and what was painted."""
        self._matches, self._match_set, self._current = [], set(), -1
        self._painted, self._hidden = {}, set()

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _needle(self) -> str:
        return self.search.text().strip().casefold()

    def match_row(self, row: int) -> bool:
        """Re-check one row against the search (a line added or revised while a search is active)."""
        needle = self._needle()
        hit = bool(needle) and needle in self._lines()[row].text.casefold()
        current = self.current_row()
        if hit and row not in self._match_set:
            bisect.insort(self._matches, row)
            self._match_set.add(row)
        elif not hit and row in self._match_set:
            self._matches.remove(row)
            self._match_set.discard(row)
        self._current = self._matches.index(current) if current in self._match_set else -1
        self._paint_row(row, hit)
        self._update_match_label()
        return hit

    def _paint_row(self, row: int, hit: bool) -> None:
        """Set one row's highlight and visibility, touching Qt only when they change."""
        state = 2 if hit and self.current_row() == row else 1 if hit else 0
        if self._painted.get(row, 0) != state:
            brush = (QBrush(), HIGHLIGHT, CURRENT)[state]
            for col in (0, 1):
                item = self.table.item(row, col)
                if item is not None:
                    item.setBackground(brush)
            if state:
                self._painted[row] = state
            else:
                self._painted.pop(row, None)
        hide = self.only_matches.isChecked() and not hit and bool(self._needle())
        if hide != (row in self._hidden):
            self.table.setRowHidden(row, hide)
            if hide:
                self._hidden.add(row)
            else:
                self._hidden.discard(row)

    def current_row(self) -> int:
        """The current match's row, or -1."""
        return self._matches[self._current] if 0 <= self._current < len(self._matches) else -1

    def match_rows(self) -> list[int]:
        """The matching rows, ascending."""
        return list(self._matches)

    def apply_search(self) -> None:
        """Highlight (or filter) the lines matching the search text now."""
        self._search_timer.stop()
        needle = self._needle()
        lines = self._lines()
        self._matches = [r for r, line in enumerate(lines) if needle and needle in line.text.casefold()]
        self._match_set = set(self._matches)
        self._current = -1
        filtering = self.only_matches.isChecked() and bool(needle)
        # Only rows whose state may change: earlier highlights or hidden rows, new matches, and all rows when filtering.
        rows = set(self._painted) | self._hidden | self._match_set
        if filtering:
            rows = range(len(lines))  # type: ignore[assignment]
        self.table.setUpdatesEnabled(False)
        for row in sorted(rows):
            self._paint_row(row, row in self._match_set)
        self.table.setUpdatesEnabled(True)
        if self._matches:
            self._go(0)
        self._update_match_label()

    def next_match(self) -> None:
        if self._search_timer.isActive():
            self.apply_search()
            return
        if self._matches:
            self._go((self._current + 1) % len(self._matches))

    def previous_match(self) -> None:
        if self._search_timer.isActive():
            self.apply_search()
        if self._matches:
            self._go((self._current - 1) % len(self._matches))

    def _go(self, index: int) -> None:
        old = self.current_row()
        self._current = index
        for row in (old, self.current_row()):
            if row >= 0:
                self._paint_row(row, row in self._match_set)
        row = self.current_row()
        item = self.table.item(row, 1)
        if item is not None:
            self.table.scrollToItem(item, QAbstractItemView.ScrollHint.PositionAtCenter)
        self._update_match_label()

    def _update_match_label(self) -> None:
        if not self._needle():
            self.match_label.setText("")
        elif not self._matches:
            self.match_label.setText("no match")
        else:
            self.match_label.setText(f"{self._current + 1} of {len(self._matches)}")
        self.prev_button.setEnabled(len(self._matches) > 1)
        self.next_button.setEnabled(len(self._matches) > 1)
