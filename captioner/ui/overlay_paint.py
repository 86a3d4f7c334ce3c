"""What the caption overlay looks like: fonts and metrics, and the painting of its background, status row and captions.

:class:`OverlayPainter` owns the appearance (after the high-contrast preset), the fonts and their metrics,
the sizes that follow from them, and draws with a ``QPainter`` it is handed: the rounded background, the
status row (state dot, status text or a notice, how far captions lag, the level bar) and the caption rows
(committed words upright, interim words italic and dimmer, the tentative tail dimmer still, with an
optional outline). With no captions to show, a status or error message too long for the status row is
drawn whole, word-wrapped, in the caption area, in the largest font that fits. The window itself — flags,
click-through, moving, resizing, where it sits on which screen — is :class:`captioner.ui.overlay.CaptionOverlay`.
"""

from __future__ import annotations

import dataclasses
import math

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from captioner.settings import Appearance
from captioner.ui.overlay_layout import Kind, Row
from captioner.ui.speaker_style import SpeakerStyle

PADDING = 12

STATE_COLORS = {
    "listening": "#2fb35a",
    "connecting": "#e0a526",
    "reconnecting": "#e0a526",
    "degraded": "#e0a526",
    "error": "#ff5a52",
    "stopped": "#8a93a6",
    "idle": "#8a93a6",
}
STATE_LABELS = {
    "listening": "Listening",
    "connecting": "Connecting",
    "reconnecting": "Reconnecting",
    "degraded": "Captioning",
    "error": "Captions stopped",
    "stopped": "Stopped",
    "idle": "Not captioning",
}
MESSAGE_MIN_PX = 11


def effective_appearance(a: Appearance) -> Appearance:
    """The high-contrast preset overrides colours and opacity (white/yellow on opaque black)."""
    if not a.high_contrast:
        return a
    return dataclasses.replace(
        a,
        text_color="#ffffff",
        interim_color="#ffe14d",
        background_color="#000000",
        background_opacity=1.0,
        outline=True,
    )


class OverlayPainter:
    """Fonts, metrics and painting of the overlay for one :class:`~captioner.settings.Appearance` at a time."""

    def __init__(self, appearance: Appearance) -> None:
        self.set_appearance(appearance)

    def set_appearance(self, appearance: Appearance) -> None:
        self.appearance = a = effective_appearance(appearance)
        self.speakers = SpeakerStyle(a)
        self.font = QFont(a.font_family, -1)
        self.font.setPixelSize(a.font_size)
        if a.high_contrast:
            self.font.setWeight(QFont.Weight.Bold)
        self.italic = QFont(self.font)
        self.italic.setItalic(True)
        self.status_font = QFont(a.font_family, -1)
        self.status_font.setPixelSize(max(11, min(16, a.font_size // 2)))
        self._fm = QFontMetricsF(self.font)
        self._fm_italic = QFontMetricsF(self.italic)
        self._fm_status = QFontMetricsF(self.status_font)

    # -- metrics -------------------------------------------------------------------------------
    def measure(self, text: str, kind: Kind) -> float:
        """Width of ``text`` in the font of its kind (committed words upright, the others italic)."""
        return (self._fm_italic if kind in ("interim", "tail") else self._fm).horizontalAdvance(text)

    def max_text_width(self, width: int) -> float:
        """Width of a caption row in a window ``width`` wide: the configured characters, if they fit."""
        by_chars = self.appearance.max_line_chars * self._fm.averageCharWidth()
        return max(40.0, min(float(width - 2 * PADDING), by_chars))

    def row_height(self) -> int:
        # Whole pixels: a row that rolls up moves by an exact number of pixels and stays crisp.
        return math.ceil(self._fm.lineSpacing()) + (2 if self.appearance.outline else 0)

    def status_height(self) -> float:
        return self._fm_status.lineSpacing() + 4

    def needed_height(self) -> int:
        return int(2 * PADDING + self.status_height() + self.appearance.lines * self.row_height() + 0.999)

    def compact_height(self) -> int:
        """The height of the status row alone (the overlay while not captioning)."""
        return int(2 * PADDING + self.status_height() + 0.999)

    def preferred_width(self) -> int:
        return int(self.appearance.max_line_chars * self._fm.averageCharWidth() + 2 * PADDING + 0.999)

    def status_rect(self, width: int) -> QRect:
        return QRect(0, 0, width, int(PADDING + self.status_height()) + 1)

    def captions_rect(self, width: int, height: int) -> QRect:
        top = int(PADDING + self.status_height())
        return QRect(0, top, width, height - top)

    # -- painting ------------------------------------------------------------------------------
    def paint_background(self, p: QPainter, dirty: QRect, rect: QRect) -> None:
        """Clear ``dirty`` to transparent, then fill ``rect`` with the rounded, translucent background."""
        a = self.appearance
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        p.fillRect(dirty, Qt.GlobalColor.transparent)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        bg = QColor(a.background_color)
        bg.setAlphaF(a.background_opacity)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(bg)
        p.drawRoundedRect(QRectF(rect), 10, 10)

    def paint_status(
        self,
        p: QPainter,
        width: int,
        *,
        state: str,
        status: str,
        notice: str,
        level: float,
        lag: float,
        click_through: str,
        message_below: bool = False,
    ) -> None:
        """The status row: state dot, the notice or else the status text, the lag, the level bar.

        ``click_through`` is the way back from click-through ("" when it is off); with ``message_below`` the
        status text is in the caption area, and the row names only the state."""
        fm = self._fm_status
        h = self.status_height()
        y = PADDING
        dot = QColor(STATE_COLORS.get(state, "#8a93a6"))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(dot)
        p.drawEllipse(QRectF(PADDING, y + h / 2 - 4, 8, 8))
        # level meter (right) and lag (left of it)
        meter_w = 60.0
        mx = width - PADDING - meter_w
        p.setBrush(QColor(255, 255, 255, 50))
        p.drawRoundedRect(QRectF(mx, y + h / 2 - 3, meter_w, 6), 3, 3)
        frac = min(1.0, max(0.0, (level + 60.0) / 60.0))
        if frac > 0:
            p.setBrush(QColor("#ff5a52" if level > -3 else "#2fb35a"))
            p.drawRoundedRect(QRectF(mx, y + h / 2 - 3, meter_w * frac, 6), 3, 3)
        p.setFont(self.status_font)
        right = mx - 8
        if lag >= 1.0:
            lag_text = f"{lag:.1f} s behind"
            lw = fm.horizontalAdvance(lag_text)
            p.setPen(QColor("#e0a526"))
            p.drawText(QRectF(right - lw, y, lw, h), Qt.AlignmentFlag.AlignVCenter, lag_text)
            right -= lw + 10
        text = notice or self.status_line(state, status, click_through, message_below=message_below)
        color = QColor("#ff8a80") if state == "error" and not notice else QColor(255, 255, 255, 235)
        left = PADDING + 14
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(10.0, right - left))
        box = QRectF(left, y, right - left, h)
        if self.appearance.outline:  # a thin dark outline: the small text stays clear over a busy window too
            p.setPen(QColor(0, 0, 0, 200))
            for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                p.drawText(box.translated(dx, dy), Qt.AlignmentFlag.AlignVCenter, text)
        p.setPen(color)
        p.drawText(box, Qt.AlignmentFlag.AlignVCenter, text)

    @staticmethod
    def status_line(state: str, status: str, click_through: str, *, message_below: bool = False) -> str:
        """The status row's text: the status (or only the state's name, when the status is shown below) and
        the way back from click-through."""
        text = STATE_LABELS.get(state, state.capitalize()) if message_below else status
        return f"{text} · click-through ({click_through})" if click_through else text

    def status_fits(self, width: int, text: str, *, lag: float = 0.0) -> bool:
        """Whether ``text`` fits whole in the status row of a window ``width`` wide."""
        room = float(width - 2 * PADDING - 14 - 68)  # the state dot, the level meter
        if lag >= 1.0:
            room -= self._fm_status.horizontalAdvance(f"{lag:.1f} s behind") + 10
        return self._fm_status.horizontalAdvance(text) <= room

    def message_font(self, text: str, width: int, height: int) -> QFont:
        """The largest font (caption size down to ``MESSAGE_MIN_PX``) in which ``text`` fits the caption area."""
        rect = self._message_rect(width, height).toRect()
        font = QFont(self.status_font)
        size: int = max(MESSAGE_MIN_PX, self.appearance.font_size)
        while True:
            font.setPixelSize(size)
            fits = QFontMetricsF(font).boundingRect(QRectF(rect), _WRAP, text).height() <= rect.height()
            if fits or size <= MESSAGE_MIN_PX:
                return font
            size = max(MESSAGE_MIN_PX, int(size * 0.9))

    def _message_rect(self, width: int, height: int) -> QRectF:
        top = PADDING + self.status_height() + 2
        return QRectF(PADDING + 14, top, max(10.0, width - 2 * PADDING - 14), max(10.0, height - PADDING - top))

    def paint_message(self, p: QPainter, text: str, width: int, height: int, *, error: bool) -> None:
        """``text`` whole and word-wrapped in the caption area (there are no captions to show)."""
        p.setFont(self.message_font(text, width, height))
        box = self._message_rect(width, height)
        if self.appearance.outline:
            p.setPen(QColor(0, 0, 0, 200))
            for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                p.drawText(box.translated(dx, dy), _WRAP, text)
        p.setPen(QColor("#ff8a80") if error else QColor(255, 255, 255, 235))
        p.drawText(box, _WRAP, text)

    def paint_captions(self, p: QPainter, rows: list[Row], width: int, height: int) -> None:
        """The caption rows, bottom-aligned and left-aligned in a centred column."""
        if not rows:
            return
        a = self.appearance
        row_h = self.row_height()
        text_width = self.max_text_width(width)
        x0 = (width - text_width) / 2
        bottom = height - PADDING
        colors = _Colors(a, self.speakers)
        # Outline: the text drawn in black at 8 offsets, then in colour (glyph-cached drawText; a stroked
        # QPainterPath looks the same but costs ~20 ms per repaint on a 2-core machine).
        shadow = QColor(0, 0, 0, 230)
        d = max(1.0, a.font_size / 18)
        offsets = [(dx * d, dy * d) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy] if a.outline else []
        for i, row in enumerate(rows):
            baseline = bottom - (len(rows) - 1 - i) * row_h - self._fm.descent() - (1 if a.outline else 0)
            x = x0
            for kind, speaker, text in _runs(row):
                upright = kind in ("final", "label")
                font = self.font if upright else self.italic
                fm = self._fm if upright else self._fm_italic
                p.setFont(font)
                if offsets:
                    p.setPen(shadow)
                    for dx, dy in offsets:
                        p.drawText(QPointF(x + dx, baseline + dy), text)
                p.setPen(colors.of(kind, speaker))
                p.drawText(QPointF(x, baseline), text)
                x += fm.horizontalAdvance(text + " ")


_WRAP = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)


def _runs(row: Row) -> list[tuple[Kind, str | None, str]]:
    """Consecutive words of one kind and speaker, joined: one ``drawText`` per run."""
    runs: list[tuple[Kind, str | None, str]] = []
    for w in row:
        if runs and runs[-1][:2] == (w.kind, w.speaker):
            runs[-1] = (w.kind, w.speaker, f"{runs[-1][2]} {w.text}")
        else:
            runs.append((w.kind, w.speaker, w.text))
    return runs


class _Colors:
    """The pen of each kind of word: the appearance's colours, or the speaker's (interim words italic in it)."""

    def __init__(self, a: Appearance, speakers: SpeakerStyle) -> None:
        self._speakers = speakers
        self._base = {"final": QColor(a.text_color), "label": QColor(a.text_color), "interim": QColor(a.interim_color)}
        self._cache: dict[tuple[Kind, str | None], QColor] = {}

    def of(self, kind: Kind, speaker: str | None) -> QColor:
        key = (kind, speaker)
        if key not in self._cache:
            own = self._speakers.color(speaker)
            color = QColor(own) if own else QColor(self._base["interim" if kind == "tail" else kind])
            if kind == "tail":
                color.setAlphaF(0.55)
            self._cache[key] = color
        return self._cache[key]
