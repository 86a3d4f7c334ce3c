"""The caption overlay window: frameless, translucent, always on top, and never takes focus.

This module owns how the window behaves: its flags, click-through (:mod:`captioner.ui.overlay_input`), drag
to move and edges to resize (the left/right edges set the width, the top/bottom edges the number of caption
lines), the top/bottom presets and the saved place per screen (:mod:`captioner.ui.overlay_geometry`), and the
state it shows. Captions are fed in as transcript changes and laid out by :mod:`captioner.ui.overlay_layout`
(committed words never move while the interim text after them changes; with more than one speaker each turn
starts a row, labelled and coloured by :mod:`captioner.ui.speaker_style`); rows roll up one at a time and clear
after an idle time, but never while a line is still being spoken. The status row shows the engine state (or
an error and what to do), the audio level and, when captions fall behind the audio, by how much; with no
captions, a message too long for that row is shown whole in the caption area. While not captioning the
window shrinks to its status row. What all of it looks like — fonts, metrics, painting — is
:mod:`captioner.ui.overlay_paint`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QMenu, QWidget

from captioner.captions.transcript import Change
from captioner.settings import Appearance, OverlaySettings
from captioner.ui.overlay_drag import EdgeDrag
from captioner.ui.overlay_geometry import (
    clamp_rect,
    pick_saved,
    screen_key,
)
from captioner.ui.overlay_input import ClickThrough
from captioner.ui.overlay_layout import RollUp, Row, row_is_final, row_text
from captioner.ui.overlay_paint import OverlayPainter
from captioner.ui.overlay_place import MIN_WIDTH, Placement
from captioner.ui.speaker_style import speakers_shown

__all__ = ["CaptionOverlay", "clamp_rect", "pick_saved", "screen_key"]

MIN_LINES, MAX_LINES = 1, 5
RESTING = ("idle", "stopped")  # not captioning: the window shrinks to its status row


class CaptionOverlay(Placement, QWidget):
    """The caption window. Feed it :class:`~captioner.captions.transcript.Change` s through :meth:`on_change`."""

    click_through_changed = Signal(bool)
    overlay_settings_changed = Signal(object)  # OverlaySettings, after a move/resize/preset/lock
    lines_changed = Signal(int)  # the number of caption lines, set by dragging the top or bottom edge

    def __init__(self, appearance: Appearance, overlay: OverlaySettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # A tool window everywhere but on X11, where Qt makes a tool window a transient of the app's other
        # windows: window managers such as xfwm4 then stack it with them, and a click on another
        # application's window raises that window above the captions. There it is an ordinary window that
        # keeps itself out of the taskbar and pager.
        x11 = QGuiApplication.platformName() == "xcb"
        self.setWindowFlags(
            (Qt.WindowType.Window if x11 else Qt.WindowType.Tool)
            | Qt.WindowType.FramelessWindowHint
            | Qt.WindowType.WindowStaysOnTopHint
            | Qt.WindowType.WindowDoesNotAcceptFocus
        )
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMouseTracking(True)
        self.setWindowTitle("Captioner captions")
        self.setMinimumWidth(MIN_WIDTH)

        self.overlay = overlay
        self.painter = OverlayPainter(appearance)
        skip = ("_NET_WM_STATE_SKIP_TASKBAR", "_NET_WM_STATE_SKIP_PAGER") if x11 else ()
        self._input = ClickThrough(self, overlay.click_through, x11_states=skip)
        self._unlock_hint = "the tray menu to unlock"
        self._state = "idle"
        self._status = "Not captioning"
        self._notice = ""
        self._level = -120.0
        self._lag = 0.0
        self._compact = False
        self._menu: QMenu | None = None
        self._drag = EdgeDrag(self)
        self._interacting = False
        """The user has moved or resized the window since it was last placed: its moves are saved."""
        self.paint_hook: Callable[[], None] | None = None
        """Called at the end of every paint (benchmarks)."""

        self.layout_ = RollUp(
            self.painter.measure, 600.0, label_of=self.painter.speakers.tag, speakers_shown=speakers_shown
        )
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
        self._update_compact()

    @property
    def appearance(self) -> Appearance:
        """The appearance in effect (after the high-contrast preset)."""
        return self.painter.appearance

    # -- captions ------------------------------------------------------------------------------
    def on_change(self, change: Change) -> None:
        """Slot: a transcript line changed."""
        line = change.line
        if change.kind == "interim":
            self.layout_.interim(line.line_id, line.text, line.tail, self._speaker(line.speaker))
        elif change.kind in ("commit", "revise"):
            self.layout_.commit(line.line_id, line.text, self._speaker(line.speaker))
        elif change.kind == "drop":
            self.layout_.drop(line.line_id)
        self._restart_idle()
        self._update_compact()
        self.update(self._captions_rect())

    def _speaker(self, speaker: str | None) -> str | None:
        return speaker if self.painter.speakers.enabled else None

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
        self._update_compact()
        self.update()

    def _restart_idle(self) -> None:
        if self.appearance.clear_after_s > 0:
            self._idle.start(int(self.appearance.clear_after_s * 1000))

    def _on_idle(self) -> None:
        if self.layout_.has_live:
            self._restart_idle()  # never clear in the middle of a sentence
            return
        self.layout_.clear()
        self._update_compact()
        self.update()

    # -- status --------------------------------------------------------------------------------
    def set_status(self, state: str, message: str) -> None:
        """Engine/session state (listening, connecting, reconnecting, error, stopped, idle) and its text."""
        self._state = state
        self._status = message
        self.setToolTip(message)  # the status row may be elided; hovering shows it whole
        self._update_compact()
        self.update()

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
            self._update_compact()
            self.update()

    def message_shown(self) -> str:
        """The status text shown whole in the caption area ("" when captions or nothing are shown there)."""
        if self._compact or self.visible_rows() or not self._status:
            return ""
        line = self.painter.status_line(self._state, self._status, self._click_hint())
        if self._state != "error" and self.painter.status_fits(self.width(), line, lag=self._lag):
            return ""
        return self._status

    @property
    def compact(self) -> bool:
        """Not captioning and nothing to show: the window is only its status row."""
        return self._compact

    def _update_compact(self) -> None:
        line = self.painter.status_line(self._state, self._status, self._click_hint())
        compact = (
            self._state in RESTING
            and self.layout_.empty
            and self.painter.status_fits(self.width(), line, lag=self._lag)
        )
        if compact != self._compact:
            self._compact = compact
            self._apply_height()

    # -- appearance ----------------------------------------------------------------------------
    def apply_appearance(self, appearance: Appearance) -> None:
        self.painter.set_appearance(appearance)
        self.layout_.relabel(self.painter.speakers.tag)
        self._reflow()
        self._apply_height()
        self._update_compact()
        self.update()

    def set_lines(self, lines: int, *, keep_bottom: bool = False) -> None:
        """Show ``lines`` caption rows (clamped to 1–5) and take their height, keeping the top edge where it
        is (or the bottom edge, when the top one is being dragged). Emits :attr:`lines_changed`."""
        lines = max(MIN_LINES, min(MAX_LINES, lines))
        if lines == self.appearance.lines:
            return
        self.painter.set_appearance(dataclasses.replace(self.appearance, lines=lines))
        self._apply_height(keep_bottom=keep_bottom, clamp=False)
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
        return QSize(self.painter.preferred_width(), self._height())

    def _status_rect(self) -> QRect:
        return self.painter.status_rect(self.width())

    def _captions_rect(self) -> QRect:
        return self.painter.captions_rect(self.width(), self.height())

    # -- click-through -------------------------------------------------------------------------
    @property
    def click_through(self) -> bool:
        return self._input.on

    def set_click_through(self, on: bool) -> None:
        """Let the mouse pass through to the window below, or stop it (the window is not re-created)."""
        if on == self.click_through:
            return
        self._input.set(on)
        self._set_overlay(click_through=on)
        self.click_through_changed.emit(on)
        self._update_compact()
        self.update()

    def toggle_click_through(self) -> None:
        self.set_click_through(not self.click_through)

    def set_unlock_hint(self, hint: str) -> None:
        """How to turn click-through off again, as the status row says it (e.g. "Ctrl+Shift+L or the tray")."""
        self._unlock_hint = hint
        self.update(self._status_rect())

    def _click_hint(self) -> str:
        return self._unlock_hint if self.click_through else ""

    def keep_above(self, window: QWidget) -> None:
        """Keep ``window`` (a dialog of the app) above the overlay: it becomes a transient of the overlay, which
        window managers and compositors stack above it, in the overlay's always-on-top layer."""
        self.winId()
        window.winId()
        handle = window.windowHandle()
        if handle is not None:
            handle.setTransientParent(self.windowHandle())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._input.attach()

    def closeEvent(self, event) -> None:
        self._input.close()
        super().closeEvent(event)

    # -- geometry: placement, presets, saving (overlay_place) --------------------------------
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._reflow()
        if self._interacting:
            self._save_timer.start()

    def moveEvent(self, event) -> None:
        super().moveEvent(event)
        # A move by the window manager (the compositor's own drag) may come long after the press, and
        # in one piece: every move since the user took hold is saved, once they settle.
        if self._interacting:
            self._save_timer.start()

    # -- mouse: drag to move, edges to resize (overlay_drag), right-click menu ------------------
    def set_menu(self, menu: QMenu | None) -> None:
        self._menu = menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        if self._menu is not None:
            self._menu.popup(event.globalPos())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._drag.press(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._drag.move(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag.release(event)

    # -- painting ------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        self.painter.paint_background(p, event.rect(), self.rect())
        message = self.message_shown()
        if event.rect().intersects(self._status_rect()):
            self.painter.paint_status(
                p,
                self.width(),
                state=self._state,
                status=self._status,
                notice=self._notice,
                level=self._level,
                lag=self._lag,
                click_through=self._click_hint(),
                message_below=bool(message),
            )
        if not self._compact and event.rect().intersects(self._captions_rect()):
            if message:
                self.painter.paint_message(p, message, self.width(), self.height(), error=self._state == "error")
            else:
                self.painter.paint_captions(p, self.visible_rows(), self.width(), self.height())
        p.end()
        if self.paint_hook is not None:
            self.paint_hook()
