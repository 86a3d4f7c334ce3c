"""A live preview of the caption appearance: sample captions painted as the overlay paints them.

It paints over a checkerboard so that the background opacity is visible, and lays out and draws sample
captions with the overlay's own painter (:class:`~captioner.ui.overlay_paint.OverlayPainter`) and roll-up
layout: the status row, committed words in the text colour, the line still being spoken italic in the
interim colour, the outline when enabled, whole words wrapped at the line width — never cut with "…".
Big fonts are scaled down so the preview stays a sensible size; it grows to show every line.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QSize
from PySide6.QtGui import QBrush, QColor, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from captioner.settings import Appearance
from captioner.ui.overlay_layout import RollUp, row_is_final, row_text
from captioner.ui.overlay_paint import OverlayPainter

SAMPLE_FINALS = (
    "It was the best of times, it was the worst of times,",
    "it was the age of wisdom, it was the age of foolishness,",
    "it was the epoch of belief, it was the epoch of incredulity,",
    "it was the season of Light, it was the season of Darkness,",
)
SAMPLE_INTERIM = "it was the spring of hope"
SAMPLE_TAIL = "of hope"
SAMPLE_STATUS = "Listening · Local (offline)"
PREVIEW_MAX_FONT = 40  # the preview scales big fonts down so it stays a sensible size


class AppearancePreview(QWidget):
    def __init__(self, appearance: Appearance | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._appearance = appearance or Appearance()
        self._painter = OverlayPainter(self._shown(self._appearance))
        self._checker: QBrush | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Caption preview")
        self._update_description()

    @staticmethod
    def _shown(a: Appearance) -> Appearance:
        return dataclasses.replace(a, font_size=min(a.font_size, PREVIEW_MAX_FONT))

    def sizeHint(self) -> QSize:
        return QSize(480, max(150, self._painter.needed_height()))

    def minimumSizeHint(self) -> QSize:
        return QSize(240, self._painter.needed_height())

    def appearance(self) -> Appearance:
        return self._appearance

    def set_appearance(self, appearance: Appearance) -> None:
        if appearance != self._appearance:
            self._appearance = appearance
            self._painter = OverlayPainter(self._shown(appearance))
            self._update_description()
            self.updateGeometry()
            self.update()

    def _update_description(self) -> None:
        a = self._appearance
        self.setAccessibleDescription(
            f"{a.font_family} {a.font_size} pt, text {a.text_color} on {a.background_color} "
            f"at {round(a.background_opacity * 100)} % opacity, {a.lines} line(s)" + (", outlined" if a.outline else "")
        )

    def _layout(self) -> RollUp:
        layout = RollUp(self._painter.measure, self._painter.max_text_width(self.width()))
        for i, text in enumerate(SAMPLE_FINALS):
            layout.commit(f"final-{i}", text)
        layout.interim("interim", SAMPLE_INTERIM, SAMPLE_TAIL)
        return layout

    def sample_lines(self) -> list[tuple[str, bool]]:
        """The rows shown: (text, all words final), the last one holding the interim words, ``lines`` in all."""
        return [(row_text(r), row_is_final(r)) for r in self._layout().rows(self._painter.appearance.lines)]

    def paintEvent(self, event: QPaintEvent) -> None:
        a = self._painter.appearance
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_checkerboard(p)
        bg = QColor(a.background_color)
        bg.setAlphaF(a.background_opacity)
        p.fillRect(self.rect(), bg)
        height = self._painter.needed_height()
        p.translate(0, self.height() - height)  # the captions sit at the bottom, as in the overlay
        self._painter.paint_status(
            p, self.width(), state="listening", status=SAMPLE_STATUS, notice="", level=-20.0, lag=0.0, click_through=""
        )
        self._painter.paint_captions(p, self._layout().rows(a.lines), self.width(), height)
        p.end()

    def _paint_checkerboard(self, p: QPainter) -> None:
        if self._checker is None:
            size = 10
            tile = QPixmap(2 * size, 2 * size)
            tile.fill(QColor("#d0d0d0"))
            tp = QPainter(tile)
            tp.fillRect(0, 0, size, size, QColor("#8a8a8a"))
            tp.fillRect(size, size, size, size, QColor("#8a8a8a"))
            tp.end()
            self._checker = QBrush(tile)
        p.fillRect(self.rect(), self._checker)
