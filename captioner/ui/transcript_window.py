"""The transcript window: the table of final captions with times, kept live, and the previous-session view.

It owns the rows (committed lines only; the overlay shows what is still being
spoken), adding or replacing them as the transcript changes, and switching
between the live transcript and a previous session's lines. It follows new lines
while scrolled to the bottom and stops when the user scrolls up (back at the
bottom, it follows again). With the profanity filter on it shows, searches and
exports the lines masked (:mod:`captioner.captions.profanity`); it keeps the raw
lines, so turning the filter off shows them again. With more than one speaker (or in meeting mode) a speaker
column shows who spoke, and a line detected in another language than the expected one is tagged
(:mod:`captioner.ui.transcript_rows`); Ctrl+C copies the selected lines with their speakers.
:meth:`TranscriptWindow.present`
brings it in front of other windows. The search bar
(:mod:`captioner.ui.transcript_search`) and the export bar
(:mod:`captioner.ui.transcript_export`) are its parts; their public methods and
widgets are reachable on the window too.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from PySide6.QtWidgets import QFileDialog as QFileDialog  # re-exported: the export bar's dialog is patched here

from captioner.captions.export import to_txt
from captioner.captions.profanity import mask_line
from captioner.captions.transcript import Change, Line, Transcript
from captioner.settings import Appearance, ExportSettings
from captioner.ui.speaker_style import SpeakerStyle, speakers_shown
from captioner.ui.transcript_export import ExportBar
from captioner.ui.transcript_rows import CAPTION, SPEAKER, TIME, fill_row
from captioner.ui.transcript_rows import format_time as format_time  # re-exported
from captioner.ui.transcript_search import SearchBar


class TranscriptWindow(QWidget):
    export_settings_changed = Signal(object)  # ExportSettings: the folder saved to or the cue limits changed

    def __init__(
        self,
        transcript: Transcript,
        parent: QWidget | None = None,
        *,
        export: ExportSettings | None = None,
        filter_profanity: bool = True,
        appearance: Appearance | None = None,
        expected_language: str = "",
    ) -> None:
        super().__init__(parent)
        self.speaker_style = SpeakerStyle(appearance or Appearance())
        self.expected_language = expected_language
        """The language chosen for the engine ("" for none: English); other detected languages are tagged."""
        self.transcript = transcript
        self.setWindowTitle("Captioner transcript")
        self.setAccessibleName("Transcript")
        self.filter_profanity = filter_profanity
        self._raw: list[Line] = []  # the lines as the transcript has them
        self._lines: list[Line] = []  # as shown (masked when the filter is on)
        self._row_of: dict[str, int] = {}
        self._speakers: set[str] = set()  # the speakers of the lines shown
        self._follow = True
        self.showing_previous = False
        """Showing an earlier session's lines (not the live transcript)."""

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
        self.table = QTableWidget(0, 3)
        self.table.setAccessibleName("Final captions")
        self.table.setHorizontalHeaderLabels(["Time", "Caption", "Speaker"])
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.moveSection(SPEAKER, 1)  # shown between the time and the caption; logically the last column
        # Fixed time and speaker columns: ResizeToContents would measure every row on each new line.
        header.setSectionResizeMode(TIME, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(SPEAKER, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(TIME, self.table.fontMetrics().horizontalAdvance("00:00:00") + 24)
        self.table.setColumnWidth(SPEAKER, self.table.fontMetrics().horizontalAdvance("M" * 8) + 16)
        self.table.setColumnHidden(SPEAKER, True)  # until there is more than one speaker (or meeting mode)
        header.setSectionResizeMode(CAPTION, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        bar = self.table.verticalScrollBar()
        bar.valueChanged.connect(self._scrolled)
        bar.rangeChanged.connect(self._range_changed)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Copy), self.table, self.copy_selection)

        # -- search and export -------------------------------------------------------------------
        self.search_bar = SearchBar(self.table, lambda: self._lines)
        self.search = self.search_bar.search
        self.only_matches = self.search_bar.only_matches
        self.prev_button = self.search_bar.prev_button
        self.next_button = self.search_bar.next_button
        self.match_label = self.search_bar.match_label
        self.export_bar = ExportBar(lambda: self._lines, self.selected_lines, export or ExportSettings())
        self.export_bar.export_settings_changed.connect(self.export_settings_changed.emit)
        self.format = self.export_bar.format
        self.range = self.export_bar.range
        self.range_from = self.export_bar.range_from
        self.range_to = self.export_bar.range_to
        self.export_button = self.export_bar.export_button
        self.folder_button = self.export_bar.folder_button
        self.status = self.export_bar.status

        layout = QVBoxLayout(self)
        layout.addWidget(self.search_bar)
        layout.addLayout(banner_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.export_bar)
        self.resize(760, 520)
        self._set_lines(transcript.finals)

    # -- content ---------------------------------------------------------------------------
    def lines(self) -> list[Line]:
        """The lines shown, oldest first."""
        return list(self._lines)

    def _shown(self, line: Line) -> Line:
        return mask_line(line) if self.filter_profanity else line

    def set_filter_profanity(self, on: bool) -> None:
        """Turn the profanity filter on or off; the lines shown are redrawn."""
        if on == self.filter_profanity:
            return
        self.filter_profanity = on
        self._set_lines(self._raw if self.showing_previous else self.transcript.finals)

    def _set_lines(self, lines: list[Line]) -> None:
        lines = list(lines)
        self._raw, self._lines = [], []
        self._row_of = {}
        self._speakers = set()
        self.search_bar.reset()
        self.table.setRowCount(0)
        self.table.setColumnHidden(SPEAKER, True)
        for line in lines:
            self._append(line)
        self.apply_search()

    def _append(self, raw: Line) -> int:
        line = self._shown(raw)
        row = len(self._lines)
        self._raw.append(raw)
        self._lines.append(line)
        self._row_of[line.line_id] = row
        self.table.insertRow(row)
        items = {col: QTableWidgetItem() for col in (TIME, CAPTION, SPEAKER)}
        fill_row(items, line, self.speaker_style, self.expected_language)
        for col, item in items.items():
            self.table.setItem(row, col, item)
        self._saw(line.speaker)
        return row

    def _fill(self, row: int) -> None:
        cells = ((col, self.table.item(row, col)) for col in (TIME, CAPTION, SPEAKER))
        items = {col: item for col, item in cells if item is not None}
        if len(items) == 3:
            fill_row(items, self._lines[row], self.speaker_style, self.expected_language)
        self._saw(self._lines[row].speaker)

    def _saw(self, speaker: str | None) -> None:
        """Show the speaker column once there is more than one speaker (or in meeting mode)."""
        if speaker is None or speaker in self._speakers:
            return
        self._speakers.add(speaker)
        if speakers_shown(self._speakers) and self.speaker_style.enabled:
            self.table.setColumnHidden(SPEAKER, False)

    def set_appearance(self, appearance: Appearance) -> None:
        """New speaker labels or colours: the rows show them."""
        style = SpeakerStyle(appearance)
        if style.key == self.speaker_style.key:
            return
        self.speaker_style = style
        self.table.setColumnHidden(SPEAKER, not (style.enabled and speakers_shown(self._speakers)))
        self._refill()

    def set_expected_language(self, language: str) -> None:
        """The language chosen for the engine changed: re-tag the lines."""
        if language != self.expected_language:
            self.expected_language = language
            self._refill()

    def _refill(self) -> None:
        self.table.setUpdatesEnabled(False)
        for row in range(len(self._lines)):
            self._fill(row)
        self.table.setUpdatesEnabled(True)

    def copy_selection(self) -> str:
        """Copy the selected lines as text, each with its speaker when the transcript has speakers; returns it."""
        lines = self.selected_lines()
        text = to_txt(lines, label_speakers=speakers_shown(self._speakers)) if lines else ""
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    @Slot(object)
    def on_change(self, change: Change) -> None:
        """A transcript change: a committed line is added, a revised one replaced; interim text is ignored."""
        if change.kind not in ("commit", "revise") or not change.line.final:
            return
        if self.showing_previous:
            return  # the live lines are rebuilt from the transcript when the user goes back
        raw = change.line
        line = self._shown(raw)
        row = self._row_of.get(line.line_id)
        if row is not None:
            self._raw[row] = raw
            self._lines[row] = line
            self._fill(row)
        else:
            row = self._append(raw)
        self.search_bar.match_row(row)

    # -- following new lines -----------------------------------------------------------------
    @property
    def following(self) -> bool:
        """Whether new lines scroll into view (the user is at the bottom)."""
        return self._follow

    def _scrolled(self, value: int) -> None:
        bar = self.table.verticalScrollBar()
        self._follow = value >= bar.maximum() - 2

    def _range_changed(self, _lo: int, hi: int) -> None:
        if self._follow:
            self.table.verticalScrollBar().setValue(hi)

    def present(self) -> None:
        """Show the window in front of the others, with the keyboard focus."""
        if self.isMinimized():
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()

    def show_lines(self, lines: list[Line]) -> None:
        """Show a previous session's lines (e.g. its autosave) instead of the live transcript."""
        self.showing_previous = True
        self.banner.setText(f"Showing a previous session ({len(lines)} lines). New captions are kept meanwhile.")
        self.banner.show()
        self.back_button.show()
        self.setWindowTitle("Captioner transcript (previous session)")
        self._set_lines(list(lines))

    def show_live(self) -> None:
        """Back to the live transcript."""
        self.showing_previous = False
        self.banner.hide()
        self.back_button.hide()
        self.setWindowTitle("Captioner transcript")
        self._set_lines(self.transcript.finals)
        self._follow = True
        self.table.scrollToBottom()

    def visible_lines(self) -> list[Line]:
        return [line for r, line in enumerate(self._lines) if not self.table.isRowHidden(r)]

    def selected_lines(self) -> list[Line]:
        rows = sorted({i.row() for i in self.table.selectedItems()})
        return [self._lines[r] for r in rows]

    def _selection_changed(self) -> None:
        self.export_bar.offer_selection(len({i.row() for i in self.table.selectedItems()}))

    # -- search (see SearchBar) ------------------------------------------------------------
    def apply_search(self) -> None:
        """Highlight (or filter) the lines matching the search text now."""
        self.search_bar.apply_search()

    def matches(self) -> list[Line]:
        return [self._lines[r] for r in self.search_bar.match_rows()]

    def current_match(self) -> Line | None:
        row = self.search_bar.current_row()
        return self._lines[row] if row >= 0 else None

    def next_match(self) -> None:
        self.search_bar.next_match()

    def previous_match(self) -> None:
        self.search_bar.previous_match()

    # -- export (see ExportBar) ------------------------------------------------------------
    def lines_for_export(
        self, which: str | None = None, start: float | None = None, end: float | None = None
    ) -> list[Line]:
        """``which`` is ``all``, ``selection`` or ``range`` (default: as chosen in the window)."""
        return self.export_bar.lines_for_export(which, start, end)

    def export_text(self, fmt: str, lines: list[Line] | None = None) -> str:
        return self.export_bar.export_text(fmt, lines)

    def export_to(self, path: str | Path, fmt: str | None = None, lines: list[Line] | None = None) -> bool:
        """Write the export; report success or the problem in the status line (never raises on I/O errors)."""
        return self.export_bar.export_to(path, fmt, lines)

    def export_dialog(self) -> None:
        self.export_bar.export_dialog()

    def open_autosave_folder(self) -> bool:
        return self.export_bar.open_autosave_folder()
