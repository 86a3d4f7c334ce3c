"""Click-through for a top-level window: mouse input passes to the windows below, on every window system.

:class:`ClickThrough` owns whether a window lets the mouse through and how that is done where it runs. On X11
the window's input shape is emptied over a private X connection (:mod:`captioner.ui.x11`), and set again each
time the window is mapped: a reparenting window manager frames the window when it is mapped and copies the
client's input shape to its frame only when it is told of a change after that, so a shape set before mapping
(which is all Qt's ``WindowTransparentForInput`` does) leaves the manager's frame catching every click. To
turn it off the shape is removed (Qt would set a rectangle of the window's size at that moment, and the part
of a window that grows later would let clicks through), so the window stays clickable at any later size.
Elsewhere (Windows, macOS, Wayland) Qt's ``WindowTransparentForInput`` is set on the native window, without
re-creating it.

On X11 it also tells the window manager, on every map, the ``_NET_WM_STATE`` states the window asks for
(:attr:`ClickThrough.x11_states`): the overlay is an ordinary window there and keeps itself out of the
taskbar and pager this way (see :class:`captioner.ui.overlay.CaptionOverlay`).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import QWidget

from captioner.ui.x11 import X11Unavailable, XConnection

log = logging.getLogger(__name__)

FLAG = Qt.WindowType.WindowTransparentForInput


class ClickThrough(QObject):
    """Mouse pass-through of ``widget`` (a top-level window), on or off."""

    def __init__(self, widget: QWidget, on: bool, *, x11_states: tuple[str, ...] = ()) -> None:
        super().__init__(widget)
        self.x11_states = x11_states
        self._widget = widget
        self._on = on
        self._window: QWindow | None = None
        self._exposed = False
        self._x11: XConnection | None = None
        if QGuiApplication.platformName() == "xcb":
            try:
                self._x11 = XConnection()
            except X11Unavailable as exc:
                log.warning("click-through falls back to Qt's own (the window manager may catch clicks): %s", exc)
        if self._x11 is None:
            widget.overrideWindowFlags(self._flags(on))

    @property
    def on(self) -> bool:
        return self._on

    @property
    def native_x11(self) -> bool:
        """The input shape is set over X11 directly (rather than through Qt)."""
        return self._x11 is not None

    def set(self, on: bool) -> None:
        if on == self._on:
            return
        self._on = on
        if self._x11 is None:
            self._widget.overrideWindowFlags(self._flags(on))  # no native re-creation: no new WM frame, no flicker
            if self._window is not None:
                self._window.setFlag(FLAG, on)
        elif self._exposed:
            self._apply_x11()

    def attach(self) -> None:
        """Follow the widget's native window (call once it exists, e.g. from ``showEvent``)."""
        window = self._widget.windowHandle()
        if window is None or window is self._window:
            return
        if self._window is not None:
            self._window.removeEventFilter(self)
        self._window = window
        self._exposed = window.isExposed()
        window.installEventFilter(self)
        if self._x11 is None:
            window.setFlag(FLAG, self._on)
        elif self._exposed:
            self._apply_x11()

    def close(self) -> None:
        if self._x11 is not None:
            self._x11.close()
            self._x11 = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Expose and self._window is not None:
            exposed = self._window.isExposed()
            if exposed and not self._exposed and self._x11 is not None:
                # Newly mapped, so newly framed: tell the window manager the shape (and the states) again.
                self._apply_x11()
                if self.x11_states and not self._x11.add_wm_states(int(self._widget.winId()), *self.x11_states):
                    log.warning("the X server refused the overlay's window states")
                self._x11.flush()
            self._exposed = exposed
        return False

    def _flags(self, on: bool) -> Qt.WindowType:
        flags = self._widget.windowFlags()
        return flags | FLAG if on else flags & ~FLAG

    def _apply_x11(self) -> None:
        assert self._x11 is not None
        if not self._x11.set_input_passthrough(int(self._widget.winId()), self._on):
            log.warning("the X server refused the overlay's input shape")
        self._x11.flush()
