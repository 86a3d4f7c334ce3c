"""The caption overlay: a frameless, translucent, always-on-top window that never takes focus.

Committed words are laid out once (see :mod:`captioner.ui.overlay_layout`) and
left-aligned, so they never move sideways or flicker while the interim text
after them changes; interim words are italic and dimmer, their tentative tail
dimmer still. Rows roll up one at a time; the text clears after an idle time,
but never while a line is still being spoken.

A small status row shows the engine state (or an error and what to do), the
audio level and, when captions fall behind the audio, by how much.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QScreen,
)
from PySide6.QtWidgets import QMenu, QWidget

from captioner.captions.transcript import Change
from captioner.settings import Appearance, Geometry, OverlaySettings
from captioner.ui.overlay_layout import Kind, RollUp, Row, row_is_final, row_text

PADDING = 12
EDGE = 8  # px from the border where a press resizes instead of moving
MIN_WIDTH = 240

STATE_COLORS = {
    "listening": "#2fb35a",
    "connecting": "#e0a526",
    "reconnecting": "#e0a526",
    "degraded": "#e0a526",
    "error": "#ff5a52",
    "stopped": "#8a93a6",
    "idle": "#8a93a6",
}


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


def screen_key(screen: QScreen) -> str:
    """Key of a screen in ``OverlaySettings.geometry``: its name and logical size."""
    size = screen.size()
    return f"{screen.name() or 'screen'} {size.width()}x{size.height()}"


def pick_saved(geometry: dict[str, Geometry], keys: list[str]) -> str | None:
    """The most recently saved key among connected screens (``geometry`` keeps save order)."""
    for key in reversed(list(geometry)):
        if key in keys:
            return key
    return None


def clamp_rect(rect: QRect, area: QRect) -> QRect:
    """Keep ``rect`` inside ``area`` (shrinking it if it is larger)."""
    w = min(rect.width(), area.width())
    h = min(rect.height(), area.height())
    x = min(max(rect.x(), area.left()), area.left() + area.width() - w)
    y = min(max(rect.y(), area.top()), area.top() + area.height() - h)
    return QRect(x, y, w, h)


class CaptionOverlay(QWidget):
    """The caption window. Feed it :class:`~captioner.captions.transcript.Change` s through :meth:`on_change`."""

    click_through_changed = Signal(bool)
    overlay_settings_changed = Signal(object)  # OverlaySettings, after a move/resize/preset/lock

    def __init__(self, appearance: Appearance, overlay: OverlaySettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        flags = (
            Qt.WindowType.Tool
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus
        )
        if overlay.click_through:
            flags |= Qt.WindowType.WindowTransparentForInput
        self.setWindowFlags(flags)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMouseTracking(True)
        self.setWindowTitle("Captioner captions")
        self.setMinimumWidth(MIN_WIDTH)

        self.overlay = overlay
        self.appearance = effective_appearance(appearance)
        self._state = "idle"
        self._status = "Not captioning"
        self._notice = ""
        self._level = -120.0
        self._lag = 0.0
        self._menu: QMenu | None = None
        self._press: tuple[QPoint, QRect, Qt.Edge | None] | None = None
        self._interacting = False
        self.paint_hook: Callable[[], None] | None = None
        """Called at the end of every paint (benchmarks)."""

        self.layout_ = RollUp(self._measure, 600.0)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.timeout.connect(self._on_idle)
        self._notice_timer = QTimer(self)
        self._notice_timer.setSingleShot(True)
        self._notice_timer.timeout.connect(self._clear_notice)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(400)
        self._save_timer.timeout.connect(self._save_geometry)
        self._apply_fonts()
        self.resize(self._preferred_width(), self._needed_height())
        self.setFixedHeight(self._needed_height())

    # -- captions ------------------------------------------------------------------------------
    def on_change(self, change: Change) -> None:
        """Slot: a transcript line changed."""
        line = change.line
        if change.kind == "interim":
            self.layout_.interim(line.line_id, line.text, line.tail)
        elif change.kind in ("commit", "revise"):
            self.layout_.commit(line.line_id, line.text)
        elif change.kind == "drop":
            self.layout_.drop(line.line_id)
        self._restart_idle()
        self.update(self._captions_rect())

    def visible_lines(self) -> list[tuple[str, bool]]:
        """The caption rows now shown, top to bottom, as (text, is_final)."""
        return [(row_text(r), row_is_final(r)) for r in self.layout_.rows(self.appearance.lines)]

    def visible_text(self) -> str:
        """The caption rows now shown, as one string (``--self-test`` reads it)."""
        return " ".join(text for text, _ in self.visible_lines())

    def visible_rows(self) -> list[Row]:
        return self.layout_.rows(self.appearance.lines)

    def clear_captions(self) -> None:
        self.layout_.reset()
        self.update()

    def _restart_idle(self) -> None:
        if self.appearance.clear_after_s > 0:
            self._idle.start(int(self.appearance.clear_after_s * 1000))

    def _on_idle(self) -> None:
        if self.layout_.has_live:
            self._restart_idle()  # never clear in the middle of a sentence
            return
        self.layout_.clear()
        self.update()

    # -- status --------------------------------------------------------------------------------
    def set_status(self, state: str, message: str) -> None:
        """Engine/session state (listening, connecting, reconnecting, error, stopped, idle) and its text."""
        self._state = state
        self._status = message
        self.setToolTip(message)  # the status row may be elided; hovering shows it whole
        self.update(self._status_rect())

    def status(self) -> tuple[str, str]:
        return self._state, self._status

    def show_notice(self, message: str, timeout_ms: int = 8000) -> None:
        """A passing note in the status row (e.g. word boost not supported)."""
        self._notice = message
        self._notice_timer.start(timeout_ms)
        self.update(self._status_rect())

    def _clear_notice(self) -> None:
        self._notice = ""
        self.update(self._status_rect())

    def set_level(self, dbfs: float) -> None:
        """Audio level of the source in dBFS."""
        if abs(dbfs - self._level) >= 0.5:
            self._level = dbfs
            self.update(self._status_rect())

    def set_lag(self, seconds: float) -> None:
        """How far captions are behind the audio."""
        if abs(seconds - self._lag) >= 0.1:
            self._lag = seconds
            self.update(self._status_rect())

    # -- appearance ----------------------------------------------------------------------------
    def apply_appearance(self, appearance: Appearance) -> None:
        self.appearance = effective_appearance(appearance)
        self._apply_fonts()
        self.setFixedHeight(self._needed_height())
        self._reflow()
        self.update()

    def _apply_fonts(self) -> None:
        a = self.appearance
        self._font = QFont(a.font_family, -1)
        self._font.setPixelSize(a.font_size)
        if a.high_contrast:
            self._font.setWeight(QFont.Weight.Bold)
        self._italic = QFont(self._font)
        self._italic.setItalic(True)
        self._status_font = QFont(a.font_family, -1)
        self._status_font.setPixelSize(max(11, min(16, a.font_size // 2)))
        self._fm = QFontMetricsF(self._font)
        self._fm_italic = QFontMetricsF(self._italic)
        self._fm_status = QFontMetricsF(self._status_font)

    def _measure(self, text: str, kind: Kind) -> float:
        return (self._fm if kind == "final" else self._fm_italic).horizontalAdvance(text)

    def _max_text_width(self) -> float:
        by_chars = self.appearance.max_line_chars * self._fm.averageCharWidth()
        return max(40.0, min(float(self.width() - 2 * PADDING), by_chars))

    def _reflow(self) -> None:
        self.layout_.set_max_width(self._max_text_width(), self._measure)

    def _row_height(self) -> int:
        # Whole pixels: a row that rolls up moves by an exact number of pixels and stays crisp.
        return math.ceil(self._fm.lineSpacing()) + (2 if self.appearance.outline else 0)

    def _status_height(self) -> float:
        return self._fm_status.lineSpacing() + 4

    def _needed_height(self) -> int:
        return int(2 * PADDING + self._status_height() + self.appearance.lines * self._row_height() + 0.999)

    def _preferred_width(self) -> int:
        return int(self.appearance.max_line_chars * self._fm.averageCharWidth() + 2 * PADDING + 0.999)

    def sizeHint(self) -> QSize:
        return QSize(self._preferred_width(), self._needed_height())

    def _status_rect(self) -> QRect:
        return QRect(0, 0, self.width(), int(PADDING + self._status_height()) + 1)

    def _captions_rect(self) -> QRect:
        top = int(PADDING + self._status_height())
        return QRect(0, top, self.width(), self.height() - top)

    # -- click-through -------------------------------------------------------------------------
    @property
    def click_through(self) -> bool:
        return bool(self.windowFlags() & Qt.WindowType.WindowTransparentForInput)

    def set_click_through(self, on: bool) -> None:
        """Let the mouse pass through to the window below (``WindowTransparentForInput``), or stop it."""
        if on == self.click_through:
            return
        visible = self.isVisible()
        self.setWindowFlag(Qt.WindowType.WindowTransparentForInput, on)
        if visible:
            self.show()  # changing window flags hides the window
        self._set_overlay(click_through=on)
        self.click_through_changed.emit(on)
        self.update()

    # -- geometry ------------------------------------------------------------------------------
    def place(self) -> None:
        """Put the overlay where the settings say: the saved place, or a preset, on the right screen."""
        screens = QGuiApplication.screens()
        if not screens:
            return
        by_key = {screen_key(s): s for s in screens}
        key = pick_saved(self.overlay.geometry, list(by_key))
        screen = by_key[key] if key else (QGuiApplication.primaryScreen() or screens[0])
        if self.overlay.position == "custom" and key is not None:
            g = self.overlay.geometry[key]
            origin = screen.geometry().topLeft()
            rect = QRect(origin.x() + g.x, origin.y() + g.y, max(g.width, MIN_WIDTH), self._needed_height())
            self._set_rect(clamp_rect(rect, screen.availableGeometry()))
        else:
            self._set_rect(self._preset_rect(self.overlay.position, screen))

    def apply_position(self, position: str, screen: QScreen | None = None) -> None:
        """Position preset ("top" / "bottom", centred) on ``screen`` (default: the overlay's screen)."""
        screen = screen or self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        self._set_rect(self._preset_rect(position, screen))
        self._set_overlay(position=position)
        self._remember(screen)

    def _preset_rect(self, position: str, screen: QScreen) -> QRect:
        area = screen.availableGeometry()
        w = min(self._preferred_width(), int(area.width() * 0.9))
        h = self._needed_height()
        margin = max(16, area.height() // 20)
        x = area.left() + (area.width() - w) // 2
        y = area.top() + margin if position == "top" else area.top() + area.height() - h - margin
        return clamp_rect(QRect(x, y, w, h), area)

    def _set_rect(self, rect: QRect) -> None:
        self.setGeometry(rect)
        self._reflow()

    def _remember(self, screen: QScreen) -> None:
        """Save the current geometry for ``screen``, as the most recent entry."""
        origin = screen.geometry().topLeft()
        r = self.geometry()
        key = screen_key(screen)
        geometry = {k: v for k, v in self.overlay.geometry.items() if k != key}
        geometry[key] = Geometry(r.x() - origin.x(), r.y() - origin.y(), r.width(), r.height())
        self._set_overlay(geometry=geometry)

    def _save_geometry(self) -> None:
        self._interacting = False
        screen = QGuiApplication.screenAt(self.geometry().center()) or self.screen()
        if screen is not None:
            self._set_overlay(position="custom")
            self._remember(screen)

    def _set_overlay(self, **changes: object) -> None:
        self.overlay = dataclasses.replace(self.overlay, **changes)  # type: ignore[arg-type]
        self.overlay_settings_changed.emit(self.overlay)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow()
        if self._interacting:
            self._save_timer.start()

    def moveEvent(self, event) -> None:
        super().moveEvent(event)
        if self._interacting:
            self._save_timer.start()

    # -- mouse: drag to move, edges to resize, right-click menu ---------------------------------
    def set_menu(self, menu: QMenu | None) -> None:
        self._menu = menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self._menu is not None:
            self._menu.popup(event.globalPos())

    def _edges_at(self, pos: QPoint) -> Qt.Edge | None:
        edges = Qt.Edge(0)
        # The height follows the number of lines and the font; only the width is resized by hand.
        if pos.x() < EDGE:
            edges |= Qt.Edge.LeftEdge
        elif pos.x() >= self.width() - EDGE:
            edges |= Qt.Edge.RightEdge
        return edges if edges != Qt.Edge(0) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position().toPoint()
        edges = self._edges_at(pos)
        self._interacting = True
        handle = self.windowHandle()
        # The compositor's own move/resize works everywhere, Wayland included; fall back to doing it by hand.
        if handle is not None and (handle.startSystemResize(edges) if edges else handle.startSystemMove()):
            self._press = None
            self._save_timer.start()
            return
        self._press = (event.globalPosition().toPoint(), self.geometry(), edges)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            edges = self._edges_at(event.position().toPoint())
            self.setCursor(_cursor_for(edges))
            return
        start, rect, edges = self._press
        delta = event.globalPosition().toPoint() - start
        if edges is None:
            self.move(rect.topLeft() + delta)
            return
        r = QRect(rect)
        if edges & Qt.Edge.LeftEdge:
            r.setLeft(min(r.left() + delta.x(), r.right() - MIN_WIDTH))
        if edges & Qt.Edge.RightEdge:
            r.setRight(max(r.right() + delta.x(), r.left() + MIN_WIDTH))
        self.setGeometry(r)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is not None:
            self._press = None
            self._save_geometry()

    # -- painting ------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        a = self.appearance
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        p.fillRect(event.rect(), Qt.GlobalColor.transparent)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        bg = QColor(a.background_color)
        bg.setAlphaF(a.background_opacity)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(bg)
        p.drawRoundedRect(QRectF(self.rect()), 10, 10)
        if event.rect().intersects(self._status_rect()):
            self._paint_status(p)
        if event.rect().intersects(self._captions_rect()):
            self._paint_captions(p)
        p.end()
        if self.paint_hook is not None:
            self.paint_hook()

    def _paint_status(self, p: QPainter) -> None:
        fm = self._fm_status
        h = self._status_height()
        y = PADDING
        dot = QColor(STATE_COLORS.get(self._state, "#8a93a6"))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(dot)
        p.drawEllipse(QRectF(PADDING, y + h / 2 - 4, 8, 8))
        # level meter (right) and lag (left of it)
        meter_w = 60.0
        mx = self.width() - PADDING - meter_w
        p.setBrush(QColor(255, 255, 255, 50))
        p.drawRoundedRect(QRectF(mx, y + h / 2 - 3, meter_w, 6), 3, 3)
        frac = min(1.0, max(0.0, (self._level + 60.0) / 60.0))
        if frac > 0:
            p.setBrush(QColor("#ff5a52" if self._level > -3 else "#2fb35a"))
            p.drawRoundedRect(QRectF(mx, y + h / 2 - 3, meter_w * frac, 6), 3, 3)
        p.setFont(self._status_font)
        right = mx - 8
        if self._lag >= 1.0:
            lag = f"{self._lag:.1f} s behind"
            lw = fm.horizontalAdvance(lag)
            p.setPen(QColor("#e0a526"))
            p.drawText(QRectF(right - lw, y, lw, h), Qt.AlignmentFlag.AlignVCenter, lag)
            right -= lw + 10
        text = self._notice or self._status
        if self.click_through and not self._notice:
            text = f"{text} · click-through (Ctrl+Shift+L or tray menu to unlock)"
        color = QColor("#ff8a80") if self._state == "error" and not self._notice else QColor(255, 255, 255, 200)
        p.setPen(color)
        left = PADDING + 14
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(10.0, right - left))
        p.drawText(QRectF(left, y, right - left, h), Qt.AlignmentFlag.AlignVCenter, text)

    def _paint_captions(self, p: QPainter) -> None:
        a = self.appearance
        rows = self.layout_.rows(a.lines)
        if not rows:
            return
        row_h = self._row_height()
        width = self._max_text_width()
        x0 = (self.width() - width) / 2
        bottom = self.height() - PADDING
        final = QColor(a.text_color)
        interim = QColor(a.interim_color)
        tail = QColor(a.interim_color)
        tail.setAlphaF(0.55)
        colors = {"final": final, "interim": interim, "tail": tail}
        # Outline: the text drawn in black at 8 offsets, then in colour (glyph-cached drawText; a stroked
        # QPainterPath looks the same but costs ~20 ms per repaint on a 2-core machine).
        shadow = QColor(0, 0, 0, 230)
        d = max(1.0, a.font_size / 18)
        offsets = [(dx * d, dy * d) for dx in (-1, 0, 1) for dy in (-1, 0, 1) if dx or dy] if a.outline else []
        for i, row in enumerate(rows):
            baseline = bottom - (len(rows) - 1 - i) * row_h - self._fm.descent() - (1 if a.outline else 0)
            x = x0
            for kind, text in _runs(row):
                font = self._font if kind == "final" else self._italic
                fm = self._fm if kind == "final" else self._fm_italic
                p.setFont(font)
                if offsets:
                    p.setPen(shadow)
                    for dx, dy in offsets:
                        p.drawText(QPointF(x + dx, baseline + dy), text)
                p.setPen(colors[kind])
                p.drawText(QPointF(x, baseline), text)
                x += fm.horizontalAdvance(text + " ")


def _runs(row: Row) -> list[tuple[Kind, str]]:
    runs: list[tuple[Kind, str]] = []
    for w in row:
        if runs and runs[-1][0] == w.kind:
            runs[-1] = (w.kind, f"{runs[-1][1]} {w.text}")
        else:
            runs.append((w.kind, w.text))
    return runs


def _cursor_for(edges: Qt.Edge | None) -> Qt.CursorShape:
    return Qt.CursorShape.SizeAllCursor if edges is None else Qt.CursorShape.SizeHorCursor
