"""The transcript window: final captions with times, live; search; export; the autosave folder.

It shows committed lines only (the overlay shows what is still being spoken).
Search highlights matches as you type (or, with "Only matches", hides the
others); Enter / F3 go to the next match, Shift+Enter / Shift+F3 to the
previous one. Export writes TXT, SRT, WebVTT or JSON of all lines, the selected
rows, or a time range, with :mod:`captioner.captions.export`.
"""

from __future__ import annotations

import bisect
import time
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Slot
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from captioner import paths
from captioner.captions.export import EXPORTERS
from captioner.captions.transcript import Change, Line, Transcript, finals_in_range

FORMATS = (
    ("txt", "Plain text (*.txt)"),
    ("srt", "SubRip subtitles (*.srt)"),
    ("vtt", "WebVTT (*.vtt)"),
    ("json", "JSON (*.json)"),
)
RANGES = (("all", "All lines"), ("selection", "Selected lines"), ("range", "Time range"))
HIGHLIGHT = QBrush(QColor("#fff59d"))
CURRENT = QBrush(QColor("#ffca28"))
SEARCH_DEBOUNCE_MS = 120


def format_time(line: Line) -> str:
    """``H:MM:SS`` on the source timeline, else the wall-clock time the line was heard."""
    if line.start is not None:
        total = int(max(0.0, line.start))
        h, rem = divmod(total, 3600)
        return f"{h}:{rem // 60:02d}:{rem % 60:02d}"
    if line.wall_time:
        return time.strftime("%H:%M:%S", time.localtime(line.wall_time))
    return ""


class TranscriptWindow(QWidget):
    def __init__(self, transcript: Transcript, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.transcript = transcript
        self.setWindowTitle("Captioner transcript")
        self.setAccessibleName("Transcript")
        self._lines: list[Line] = []
        self._row_of: dict[str, int] = {}
        self._matches: list[int] = []  # matching rows, ascending
        self._match_set: set[int] = set()
        self._painted: dict[int, int] = {}  # row -> 1 highlighted, 2 current match
        self._hidden: set[int] = set()
        self._current = -1
        self._showing_previous = False

        # -- search bar ----------------------------------------------------------------------
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

        # -- previous-session banner -----------------------------------------------------------
        self.banner = QLabel()
        self.banner.setObjectName("previous_banner")
        self.banner.setWordWrap(True)
        self.back_button = QPushButton("Show the &current session")
        self.back_button.clicked.connect(self.show_live)
        banner_row = QHBoxLayout()
        banner_row.addWidget(self.banner, 1)
        banner_row.addWidget(self.back_button)
        self.banner.hide()
        self.back_button.hide()

        # -- the table ---------------------------------------------------------------------------
        self.table = QTableWidget(0, 2)
        self.table.setAccessibleName("Final captions")
        self.table.setHorizontalHeaderLabels(["Time", "Caption"])
        self.table.verticalHeader().hide()
        # A fixed time column: ResizeToContents would measure every row on each new line.
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(0, self.table.fontMetrics().horizontalAdvance("00:00:00") + 24)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        # -- export --------------------------------------------------------------------------
        self.format = QComboBox()
        self.format.setAccessibleName("Export format")
        for key, text in FORMATS:
            self.format.addItem(text.split(" (")[0], key)
        self.range = QComboBox()
        self.range.setAccessibleName("Which lines to export")
        for key, text in RANGES:
            self.range.addItem(text, key)
        self.range_from = QDoubleSpinBox()
        self.range_to = QDoubleSpinBox()
        for spin, name in ((self.range_from, "from"), (self.range_to, "to")):
            spin.setRange(0, 24 * 3600)
            spin.setDecimals(1)
            spin.setSuffix(" s")
            spin.setAccessibleName(f"Export time range {name}, seconds")
        self.range_to.setValue(self.range_to.maximum())
        self.range.currentIndexChanged.connect(lambda _i: self._update_range_enabled())
        self.export_button = QPushButton("&Export…")
        self.export_button.clicked.connect(self.export_dialog)
        self.folder_button = QPushButton("Open &autosave folder")
        self.folder_button.clicked.connect(self.open_autosave_folder)
        self.status = QLabel()
        self.status.setObjectName("transcript_status")
        self.status.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(search_label)
        top.addWidget(self.search, 1)
        top.addWidget(self.prev_button)
        top.addWidget(self.next_button)
        top.addWidget(self.only_matches)
        top.addWidget(self.match_label)
        export_row = QHBoxLayout()
        fmt_label = QLabel("&Format:")
        fmt_label.setBuddy(self.format)
        range_label = QLabel("&Lines:")
        range_label.setBuddy(self.range)
        export_row.addWidget(fmt_label)
        export_row.addWidget(self.format)
        export_row.addWidget(range_label)
        export_row.addWidget(self.range)
        export_row.addWidget(self.range_from)
        export_row.addWidget(QLabel("to"))
        export_row.addWidget(self.range_to)
        export_row.addWidget(self.export_button)
        export_row.addStretch(1)
        export_row.addWidget(self.folder_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(banner_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(export_row)
        layout.addWidget(self.status)
        self._update_range_enabled()
        self.resize(760, 520)
        self._set_lines(transcript.finals)

    # -- content ---------------------------------------------------------------------------
    def lines(self) -> list[Line]:
        """The lines shown, oldest first."""
        return list(self._lines)

    def _set_lines(self, lines: list[Line]) -> None:
        self._lines = []
        self._row_of = {}
        self._matches, self._match_set, self._current = [], set(), -1
        self._painted, self._hidden = {}, set()
        self.table.setRowCount(0)
        for line in lines:
            self._append(line)
        self.apply_search()

    def _append(self, line: Line) -> int:
        row = len(self._lines)
        self._lines.append(line)
        self._row_of[line.line_id] = row
        self.table.insertRow(row)
        t = QTableWidgetItem(format_time(line))
        if line.wall_time:
            t.setToolTip(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(line.wall_time)))
        self.table.setItem(row, 0, t)
        self.table.setItem(row, 1, QTableWidgetItem(line.text))
        return row

    @Slot(object)
    def on_change(self, change: Change) -> None:
        """A transcript change: a committed line is added, a revised one replaced; interim text is ignored."""
        if change.kind not in ("commit", "revise") or not change.line.final:
            return
        if self._showing_previous:
            return  # the live lines are rebuilt from the transcript when the user goes back
        line = change.line
        bar = self.table.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        row = self._row_of.get(line.line_id)
        if row is not None:
            self._lines[row] = line
            item = self.table.item(row, 1)
            if item is not None:
                item.setText(line.text)
            time_item = self.table.item(row, 0)
            if time_item is not None:
                time_item.setText(format_time(line))
        else:
            row = self._append(line)
        self._match_row(row)
        if at_bottom and not self.table.selectedItems():
            self.table.scrollToBottom()

    def show_lines(self, lines: list[Line]) -> None:
        """Show a previous session's lines (e.g. its autosave) instead of the live transcript."""
        self._showing_previous = True
        self.banner.setText(f"Showing a previous session ({len(lines)} lines). New captions are kept meanwhile.")
        self.banner.show()
        self.back_button.show()
        self.setWindowTitle("Captioner transcript (previous session)")
        self._set_lines(list(lines))

    def show_live(self) -> None:
        """Back to the live transcript."""
        self._showing_previous = False
        self.banner.hide()
        self.back_button.hide()
        self.setWindowTitle("Captioner transcript")
        self._set_lines(self.transcript.finals)
        self.table.scrollToBottom()

    # -- search ----------------------------------------------------------------------------
    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _needle(self) -> str:
        return self.search.text().strip().casefold()

    def _match_row(self, row: int) -> bool:
        """Re-check one row against the search (a line added or revised while a search is active)."""
        needle = self._needle()
        hit = bool(needle) and needle in self._lines[row].text.casefold()
        current = self._current_row()
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
        state = 2 if hit and self._current_row() == row else 1 if hit else 0
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

    def _current_row(self) -> int:
        return self._matches[self._current] if 0 <= self._current < len(self._matches) else -1

    def apply_search(self) -> None:
        """Highlight (or filter) the lines matching the search text now."""
        self._search_timer.stop()
        needle = self._needle()
        self._matches = [r for r, line in enumerate(self._lines) if needle and needle in line.text.casefold()]
        self._match_set = set(self._matches)
        self._current = -1
        filtering = self.only_matches.isChecked() and bool(needle)
        # Only rows whose state may change: earlier highlights or hidden rows, new matches, and all rows when filtering.
        rows = set(self._painted) | self._hidden | self._match_set
        if filtering:
            rows = range(len(self._lines))  # type: ignore[assignment]
        self.table.setUpdatesEnabled(False)
        for row in sorted(rows):
            self._paint_row(row, row in self._match_set)
        self.table.setUpdatesEnabled(True)
        if self._matches:
            self._go(0)
        self._update_match_label()

    def matches(self) -> list[Line]:
        return [self._lines[r] for r in self._matches]

    def visible_lines(self) -> list[Line]:
        return [line for r, line in enumerate(self._lines) if not self.table.isRowHidden(r)]

    def current_match(self) -> Line | None:
        row = self._current_row()
        return self._lines[row] if row >= 0 else None

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
        old = self._current_row()
        self._current = index
        for row in (old, self._current_row()):
            if row >= 0:
                self._paint_row(row, row in self._match_set)
        row = self._current_row()
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

    # -- export ----------------------------------------------------------------------------
    def _update_range_enabled(self) -> None:
        timed = self.range.currentData() == "range"
        self.range_from.setEnabled(timed)
        self.range_to.setEnabled(timed)

    def _selection_changed(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        if len(rows) > 1 and self.range.currentData() == "all":
            self.range.setCurrentIndex(self.range.findData("selection"))

    def selected_lines(self) -> list[Line]:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [self._lines[r] for r in rows]

    def lines_for_export(
        self, which: str | None = None, start: float | None = None, end: float | None = None
    ) -> list[Line]:
        """``which`` is ``all``, ``selection`` or ``range`` (default: as chosen in the window)."""
        which = which or str(self.range.currentData())
        if which == "selection":
            return self.selected_lines()
        if which == "range":
            lo = self.range_from.value() if start is None else start
            hi = self.range_to.value() if end is None else end
            return finals_in_range(self._lines, lo, hi)
        return list(self._lines)

    def export_text(self, fmt: str, lines: list[Line] | None = None) -> str:
        return EXPORTERS[fmt](self._lines if lines is None else lines)

    def export_to(self, path: str | Path, fmt: str | None = None, lines: list[Line] | None = None) -> bool:
        """Write the export; report success or the problem in the status line (never raises on I/O errors)."""
        p = Path(path)
        fmt = fmt or str(self.format.currentData())
        chosen = self.lines_for_export() if lines is None else lines
        try:
            p.write_text(self.export_text(fmt, chosen), encoding="utf-8")
        except OSError as exc:
            self.status.setText(f"Could not save {p.name}: {exc.strerror or exc}")
            return False
        self.status.setText(f"Saved {len(chosen)} line(s) to {p}")
        return True

    def export_dialog(self) -> None:
        fmt = str(self.format.currentData())
        pattern = dict(FORMATS)[fmt]
        suggested = str(paths.transcripts_dir().parent / f"transcript-{time.strftime('%Y-%m-%d_%H%M')}.{fmt}")
        path, _ = QFileDialog.getSaveFileName(self, "Export the transcript", suggested, pattern)
        if path:
            if not Path(path).suffix:
                path += f".{fmt}"
            self.export_to(path, fmt)

    def open_autosave_folder(self) -> bool:
        folder = paths.transcripts_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.status.setText(f"Cannot create {folder}: {exc.strerror or exc}")
            return False
        ok = QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
        self.status.setText(f"Autosaved transcripts are in {folder}" + ("" if ok else " (no file manager to open it)"))
        return bool(ok)
