"""The transcript window's export bar: format, which lines, the save dialog, the autosave folder, the status line.

It owns the choice of all lines / the selected rows / a time range, turning that
choice into lines (:meth:`ExportBar.lines_for_export`), and writing TXT, SRT,
WebVTT or JSON with :mod:`captioner.captions.export`. The lines themselves come
from the window (whatever it shows, live or a previous session).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from captioner import paths
from captioner.captions.export import export
from captioner.captions.transcript import Line, finals_in_range

FORMATS = (
    ("txt", "Plain text (*.txt)"),
    ("srt", "SubRip subtitles (*.srt)"),
    ("vtt", "WebVTT (*.vtt)"),
    ("json", "JSON (*.json)"),
)
RANGES = (("all", "All lines"), ("selection", "Selected lines"), ("range", "Time range"))


class ExportBar(QWidget):
    """The export row and the status line under it.

    ``all_lines`` gives the lines shown (oldest first), ``selected_lines`` the selected rows' lines.
    """

    def __init__(
        self,
        all_lines: Callable[[], list[Line]],
        selected_lines: Callable[[], list[Line]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._all_lines = all_lines
        self._selected_lines = selected_lines
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

        row = QHBoxLayout()
        fmt_label = QLabel("&Format:")
        fmt_label.setBuddy(self.format)
        range_label = QLabel("&Lines:")
        range_label.setBuddy(self.range)
        row.addWidget(fmt_label)
        row.addWidget(self.format)
        row.addWidget(range_label)
        row.addWidget(self.range)
        row.addWidget(self.range_from)
        row.addWidget(QLabel("to"))
        row.addWidget(self.range_to)
        row.addWidget(self.export_button)
        row.addStretch(1)
        row.addWidget(self.folder_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.status)
        self._update_range_enabled()

    def _update_range_enabled(self) -> None:
        timed = self.range.currentData() == "range"
        self.range_from.setEnabled(timed)
        self.range_to.setEnabled(timed)

    def offer_selection(self, rows: int) -> None:
        """Several rows were selected: offer to export them (unless a time range is chosen)."""
        if rows > 1 and self.range.currentData() == "all":
            self.range.setCurrentIndex(self.range.findData("selection"))

    def lines_for_export(
        self, which: str | None = None, start: float | None = None, end: float | None = None
    ) -> list[Line]:
        """``which`` is ``all``, ``selection`` or ``range`` (default: as chosen in the bar)."""
        which = which or str(self.range.currentData())
        if which == "selection":
            return self._selected_lines()
        if which == "range":
            lo = self.range_from.value() if start is None else start
            hi = self.range_to.value() if end is None else end
            return finals_in_range(self._all_lines(), lo, hi)
        return list(self._all_lines())

    def export_text(self, fmt: str, lines: list[Line] | None = None) -> str:
        return export(fmt, self._all_lines() if lines is None else lines)

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
        path, _ = QFileDialog.getSaveFileName(self.window(), "Export the transcript", suggested, pattern)
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
