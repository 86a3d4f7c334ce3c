"""The transcript window's export bar: format, which lines, cue limits, the save dialog, the autosave folder,
the status line.

It owns the choice of all lines / the selected rows / a time range, turning that
choice into lines (:meth:`ExportBar.lines_for_export`), and writing TXT, SRT,
WebVTT or JSON with :mod:`captioner.captions.export`; for SRT and WebVTT, the cue
limits (characters per line, lines, seconds per cue). The save dialog opens in the
folder last saved to, and a file name's extension decides the format (a name
without a known one gets the chosen format's), so JSON is never written to a
``.vtt``. The folder and the limits are remembered (``export_settings_changed``).
The lines themselves come from the window (whatever it shows, live or a previous
session).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from captioner import paths
from captioner.captions.export import export
from captioner.captions.transcript import Line, finals_in_range
from captioner.settings import ExportSettings, clamp
from captioner.ui.speaker_style import speakers_shown

FORMATS = (
    ("txt", "Plain text (*.txt)"),
    ("srt", "SubRip subtitles (*.srt)"),
    ("vtt", "WebVTT (*.vtt)"),
    ("json", "JSON (*.json)"),
)
RANGES = (("all", "All lines"), ("selection", "Selected lines"), ("range", "Time range"))


def format_of(path: str | Path) -> str | None:
    """The export format a file name's extension names (``None``: none or an unknown one)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix if suffix in dict(FORMATS) else None


class ExportBar(QWidget):
    """The export rows and the status line under them.

    ``all_lines`` gives the lines shown (oldest first), ``selected_lines`` the selected rows' lines.
    """

    export_settings_changed = Signal(object)  # ExportSettings

    def __init__(
        self,
        all_lines: Callable[[], list[Line]],
        selected_lines: Callable[[], list[Line]],
        settings: ExportSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._all_lines = all_lines
        self._selected_lines = selected_lines
        self.settings = clamp(settings or ExportSettings())
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
        self._cue_row = self._cue_limits()
        self.format.currentIndexChanged.connect(lambda _i: self._update_cue_row())
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
        layout.addWidget(self._cue_row)
        layout.addWidget(self.status)
        self._update_range_enabled()
        self._update_cue_row()

    def _cue_limits(self) -> QWidget:
        """The row of subtitle cue limits (shown for SRT and WebVTT)."""
        s = self.settings
        self.cue_chars = QSpinBox()
        self.cue_chars.setRange(10, 200)
        self.cue_chars.setValue(s.cue_chars)
        self.cue_chars.setSuffix(" characters")
        self.cue_chars.setAccessibleName("Subtitle cues: characters per line")
        self.cue_lines = QSpinBox()
        self.cue_lines.setRange(1, 5)
        self.cue_lines.setValue(s.cue_lines)
        self.cue_lines.setSuffix(" lines")
        self.cue_lines.setAccessibleName("Subtitle cues: lines per cue")
        self.cue_seconds = QDoubleSpinBox()
        self.cue_seconds.setRange(1.0, 60.0)
        self.cue_seconds.setDecimals(1)
        self.cue_seconds.setValue(s.cue_seconds)
        self.cue_seconds.setSuffix(" s")
        self.cue_seconds.setAccessibleName("Subtitle cues: longest time shown, seconds")
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        label = QLabel("&Subtitle cues: at most")
        label.setBuddy(self.cue_chars)
        for w in (label, self.cue_chars, QLabel("×"), self.cue_lines, QLabel(", each shown ≤"), self.cue_seconds):
            row.addWidget(w)
        row.addStretch(1)
        for spin in (self.cue_chars, self.cue_lines, self.cue_seconds):
            spin.valueChanged.connect(lambda _v: self._limits_edited())
        return box

    def _update_cue_row(self) -> None:
        self._cue_row.setVisible(self.format.currentData() in ("srt", "vtt"))

    def _limits_edited(self) -> None:
        self._remember(
            cue_chars=self.cue_chars.value(), cue_lines=self.cue_lines.value(), cue_seconds=self.cue_seconds.value()
        )

    def _remember(self, **changes: object) -> None:
        new = dataclasses.replace(self.settings, **changes)  # type: ignore[arg-type]
        if new != self.settings:
            self.settings = new
            self.export_settings_changed.emit(new)

    def folder(self) -> Path:
        """Where the save dialog opens: the folder last saved to, if it still exists, else the data folder."""
        last = Path(self.settings.folder) if self.settings.folder else None
        return last if last is not None and last.is_dir() else paths.transcripts_dir().parent

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
        """``lines`` (default: all) in ``fmt``; speakers are named when the window shows them (more than one
        speaker, or meeting mode), also in a selection of one speaker's lines."""
        named = speakers_shown(line.speaker for line in self._all_lines()) or None
        chosen = self._all_lines() if lines is None else lines
        return export(fmt, chosen, self.settings.limits(), label_speakers=named)

    def export_to(self, path: str | Path, fmt: str | None = None, lines: list[Line] | None = None) -> bool:
        """Write the export; report success or the problem in the status line (never raises on I/O errors).

        A known extension of ``path`` decides the format (over ``fmt`` and the chosen one)."""
        p = Path(path)
        fmt = format_of(p) or fmt or str(self.format.currentData())
        chosen = self.lines_for_export() if lines is None else lines
        try:
            p.write_text(self.export_text(fmt, chosen), encoding="utf-8")
        except OSError as exc:
            self.status.setText(f"Could not save {p.name}: {exc.strerror or exc}")
            return False
        self.status.setText(f"Saved {len(chosen)} line(s) to {p} as {dict(FORMATS)[fmt].split(' (')[0]}")
        self._remember(folder=str(p.parent.resolve()))
        return True

    def export_dialog(self) -> None:
        fmt = str(self.format.currentData())
        filters = [text for _key, text in FORMATS]
        suggested = str(self.folder() / f"transcript-{time.strftime('%Y-%m-%d_%H%M')}.{fmt}")
        path, chosen_filter = QFileDialog.getSaveFileName(
            self.window(), "Export the transcript", suggested, ";;".join(filters), dict(FORMATS)[fmt]
        )
        if not path:
            return
        by_filter = next((key for key, text in FORMATS if text == chosen_filter), fmt)
        fmt = format_of(path) or by_filter
        if format_of(path) is None:
            path += f".{fmt}"  # no extension, or one that names no format: add the format's
        self.format.setCurrentIndex(self.format.findData(fmt))
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
