"""The caption overlay window: frameless, translucent, always on top, and never takes focus.

This module owns how the window behaves: its flags, click-through, drag to move and edges to resize (the
left/right edges set the width, the top/bottom edges the number of caption lines), the
top/bottom presets and the saved geometry per screen, and the state it shows. Captions are fed in as
transcript changes and laid out by :mod:`captioner.ui.overlay_layout` (committed words never move while
the interim text after them changes); rows roll up one at a time and clear after an idle time, but never
while a line is still being spoken. The status row shows the engine state (or an error and what to do),
the audio level and, when captions fall behind the audio, by how much. What all of it looks like — fonts,
metrics, painting — is :mod:`captioner.ui.overlay_paint`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent, QGuiApplication, QMouseEvent, QPainter, QPaintEvent, QScreen
from PySide6.QtWidgets import QMenu, QWidget

from captioner.captions.transcript import Change
from captioner.settings import Appearance, Geometry, OverlaySettings
from captioner.ui.overlay_layout import RollUp, Row, row_is_final, row_text
from captioner.ui.overlay_paint import OverlayPainter

EDGE = 8  # px from the border where a press resizes instead of moving
MIN_WIDTH = 240
MIN_LINES, MAX_LINES = 1, 5
QWIDGETSIZE_MAX = (1 << 24) - 1
VERTICAL = Qt.Edge.TopEdge | Qt.Edge.BottomEdge


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
    lines_changed = Signal(int)  # the number of caption lines, set by dragging the top or bottom edge

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
        self.painter = OverlayPainter(appearance)
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

        self.layout_ = RollUp(self.painter.measure, 600.0)
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
        self.resize(self.painter.preferred_width(), self.painter.needed_height())
        self.setFixedHeight(self.painter.needed_height())

    @property
    def appearance(self) -> Appearance:
        """The appearance in effect (after the high-contrast preset)."""
        return self.painter.appearance

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
        return [(row_text(r), row_is_final(r)) for r in self.visible_rows()]

    def visible_text(self) -> str:
        """The caption rows now shown, as one string (``--self-test`` reads it)."""
        return " ".join(text for text, _ in self.visible_lines())

    def visible_rows(self) -> list[Row]:
        """The caption rows now shown, top to bottom, word by word."""
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
        self.painter.set_appearance(appearance)
        self.setFixedHeight(self.painter.needed_height())
        self._reflow()
        self.update()

    def set_lines(self, lines: int, *, keep_bottom: bool = False) -> None:
        """Show ``lines`` caption rows (clamped to 1–5) and take their height, keeping the top edge where it
        is (or the bottom edge, when the top one is being dragged). Emits :attr:`lines_changed`."""
        lines = max(MIN_LINES, min(MAX_LINES, lines))
        if lines == self.appearance.lines:
            return
        self.painter.set_appearance(dataclasses.replace(self.appearance, lines=lines))
        h = self.painter.needed_height()
        r = self.geometry()
        if keep_bottom:
            r.setTop(r.bottom() + 1 - h)
        else:
            r.setHeight(h)
        # One geometry change, not a resize and then a move: lift the fixed height, set, fix it again.
        self.setMinimumHeight(0)
        self.setMaximumHeight(QWIDGETSIZE_MAX)
        self.setGeometry(r)
        self.setFixedHeight(h)
        self.update()
        self.lines_changed.emit(lines)

    def lines_for_height(self, height: int) -> int:
        """The line count (1–5) whose window height is nearest to ``height``."""
        row = self.painter.row_height()
        chrome = self.painter.needed_height() - self.appearance.lines * row  # padding and the status row
        return max(MIN_LINES, min(MAX_LINES, round((height - chrome) / row)))

    def _reflow(self) -> None:
        self.layout_.set_max_width(self.painter.max_text_width(self.width()), self.painter.measure)

    def sizeHint(self) -> QSize:
        return QSize(self.painter.preferred_width(), self.painter.needed_height())

    def _status_rect(self) -> QRect:
        return self.painter.status_rect(self.width())

    def _captions_rect(self) -> QRect:
        return self.painter.captions_rect(self.width(), self.height())

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
            rect = QRect(origin.x() + g.x, origin.y() + g.y, max(g.width, MIN_WIDTH), self.painter.needed_height())
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
        w = min(self.painter.preferred_width(), int(area.width() * 0.9))
        h = self.painter.needed_height()
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
        if pos.x() < EDGE:
            edges |= Qt.Edge.LeftEdge
        elif pos.x() >= self.width() - EDGE:
            edges |= Qt.Edge.RightEdge
        if pos.y() < EDGE:
            edges |= Qt.Edge.TopEdge
        elif pos.y() >= self.height() - EDGE:
            edges |= Qt.Edge.BottomEdge
        return edges if edges != Qt.Edge(0) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position().toPoint()
        edges = self._edges_at(pos)
        self._interacting = True
        handle = self.windowHandle()
        # The compositor's own move/resize works everywhere, Wayland included; fall back to doing it by hand.
        # The height is a whole number of caption lines, which the compositor cannot snap to: the top and
        # bottom edges (and the corners) are always resized by hand, the drag choosing the line count.
        by_hand = edges is not None and bool(edges & VERTICAL)
        if (
            handle is not None
            and not by_hand
            and (handle.startSystemResize(edges) if edges else handle.startSystemMove())
        ):
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
        r.moveTop(self.y())  # the height is the line count's, set below: keep it as it is now
        r.setHeight(self.height())
        self.setGeometry(r)
        if edges & VERTICAL:
            # The line count nearest to the height the edge was dragged to; the window takes that count's
            # height, keeping the opposite edge where it was.
            dy = delta.y() if edges & Qt.Edge.BottomEdge else -delta.y()
            self.set_lines(self.lines_for_height(rect.height() + dy), keep_bottom=bool(edges & Qt.Edge.TopEdge))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._press is not None:
            self._press = None
            self._save_geometry()

    # -- painting ------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        self.painter.paint_background(p, event.rect(), self.rect())
        if event.rect().intersects(self._status_rect()):
            self.painter.paint_status(
                p,
                self.width(),
                state=self._state,
                status=self._status,
                notice=self._notice,
                level=self._level,
                lag=self._lag,
                click_through=self.click_through,
            )
        if event.rect().intersects(self._captions_rect()):
            self.painter.paint_captions(p, self.visible_rows(), self.width(), self.height())
        p.end()
        if self.paint_hook is not None:
            self.paint_hook()


def _cursor_for(edges: Qt.Edge | None) -> Qt.CursorShape:
    if edges is None:
        return Qt.CursorShape.SizeAllCursor
    vertical = bool(edges & VERTICAL)
    if not edges & (Qt.Edge.LeftEdge | Qt.Edge.RightEdge):
        return Qt.CursorShape.SizeVerCursor
    if not vertical:
        return Qt.CursorShape.SizeHorCursor
    falling = edges in (Qt.Edge.TopEdge | Qt.Edge.LeftEdge, Qt.Edge.BottomEdge | Qt.Edge.RightEdge)
    return Qt.CursorShape.SizeFDiagCursor if falling else Qt.CursorShape.SizeBDiagCursor
