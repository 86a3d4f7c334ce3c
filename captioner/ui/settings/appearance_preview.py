"""A live preview of the caption appearance: sample final and interim lines painted with an :class:`Appearance`.

It paints over a checkerboard so that the background opacity is visible, and
draws text the way the overlay does: committed lines in the text colour, the
interim line in the interim colour and italic, with an outline when enabled.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from captioner.settings import Appearance

SAMPLE_FINALS = (
    "It was the best of times, it was the worst of times,",
    "it was the age of wisdom, it was the age of foolishness,",
    "it was the epoch of belief, it was the epoch of incredulity,",
    "it was the season of Light, it was the season of Darkness,",
)
SAMPLE_INTERIM = "it was the spring of hope"
PREVIEW_MAX_FONT = 40  # the preview scales big fonts down so it stays a sensible size


class AppearancePreview(QWidget):
    def __init__(self, appearance: Appearance | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._appearance = appearance or Appearance()
        self._checker: QBrush | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(110)
        self.setAccessibleName("Caption preview")
        self._update_description()

    def sizeHint(self) -> QSize:
        return QSize(480, 150)

    def appearance(self) -> Appearance:
        return self._appearance

    def set_appearance(self, appearance: Appearance) -> None:
        if appearance != self._appearance:
            self._appearance = appearance
            self._update_description()
            self.update()

    def _update_description(self) -> None:
        a = self._appearance
        self.setAccessibleDescription(
            f"{a.font_family} {a.font_size} pt, text {a.text_color} on {a.background_color} "
            f"at {round(a.background_opacity * 100)} % opacity, {a.lines} line(s)" + (", outlined" if a.outline else "")
        )

    def sample_lines(self) -> list[tuple[str, bool]]:
        """The lines shown: (text, is_final), the last one interim, ``lines`` in all."""
        n = self._appearance.lines
        finals = [(t, True) for t in SAMPLE_FINALS[: max(0, n - 1)]]
        return [*finals, (SAMPLE_INTERIM, False)]

    def _font(self) -> QFont:
        a = self._appearance
        font = QFont(a.font_family)
        font.setPointSizeF(float(min(a.font_size, PREVIEW_MAX_FONT)))
        return font

    def paintEvent(self, event: QPaintEvent) -> None:
        a = self._appearance
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_checkerboard(p)
        bg = QColor(a.background_color)
        bg.setAlphaF(a.background_opacity)
        p.fillRect(self.rect(), bg)

        font = self._font()
        lines = self.sample_lines()
        metrics = QFontMetricsF(font)
        step = metrics.lineSpacing()
        margin = 8.0
        max_w = self.width() - 2 * margin
        y = self.height() - margin - step * len(lines) + metrics.ascent()
        for text, final in lines:
            f = QFont(font)
            f.setItalic(not final)
            shown = QFontMetricsF(f).elidedText(text[: a.max_line_chars], Qt.TextElideMode.ElideLeft, max_w)
            color = QColor(a.text_color if final else a.interim_color)
            self._draw_text(p, f, QPointF(margin, y), shown, color, a.outline)
            y += step
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

    @staticmethod
    def _draw_text(p: QPainter, font: QFont, at: QPointF, text: str, color: QColor, outline: bool) -> None:
        if outline:
            path = QPainterPath()
            path.addText(at, font, text)
            pen = QPen(QColor(0, 0, 0, 220), max(2.0, font.pointSizeF() / 8))
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.strokePath(path, pen)
            p.fillPath(path, color)
        else:
            p.setFont(font)
            p.setPen(color)
            p.drawText(at, text)
