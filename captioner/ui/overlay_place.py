"""Where the caption overlay sits: placing it, the presets, its height as content changes, and saving its place.

:class:`Placement` is the part of :class:`captioner.ui.overlay.CaptionOverlay` that owns geometry: the
saved place per screen or a preset at start, the top/bottom presets (keeping the width the user chose), the
height the content needs (all caption lines, or only the status row while not captioning) grown or shrunk
from the edge the window hangs from, and saving where the user put it. Every move or resize after the user
took hold of the window is saved once it settles — also a move the window manager makes for them long after
the press, in one piece — and the saved rectangle is always the full one, even while the window is compact.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QTimer
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

from captioner.settings import OverlaySettings
from captioner.ui.overlay_geometry import (
    anchored_at_bottom,
    clamp_rect,
    preset_rect,
    remembered,
    resized,
    saved_place,
)
from captioner.ui.overlay_paint import OverlayPainter

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    _Base = QWidget
else:
    _Base = object

MIN_WIDTH = 240
QWIDGETSIZE_MAX = (1 << 24) - 1


class Placement(_Base):
    """Geometry methods of the overlay window (a mixin of :class:`~captioner.ui.overlay.CaptionOverlay`)."""

    overlay: OverlaySettings
    painter: OverlayPainter
    overlay_settings_changed: SignalInstance
    _compact: bool
    _interacting: bool
    _save_timer: QTimer

    def _reflow(self) -> None:
        raise NotImplementedError

    def _height(self) -> int:
        return self.painter.compact_height() if self._compact else self.painter.needed_height()

    def _keeps_bottom(self, rect: QRect) -> bool:
        if self.overlay.position in ("top", "bottom"):
            return self.overlay.position == "bottom"
        screen = QGuiApplication.screenAt(rect.center()) or self.screen()
        return screen is not None and anchored_at_bottom(rect, screen.availableGeometry())

    def _apply_height(self, *, keep_bottom: bool | None = None, clamp: bool = True) -> None:
        """Take the height the content needs, growing or shrinking from the anchored edge, on the screen."""
        h = self._height()
        r = self.geometry()
        r = resized(r, h, keep_bottom=self._keeps_bottom(r) if keep_bottom is None else keep_bottom)
        screen = QGuiApplication.screenAt(r.center()) or self.screen()
        if clamp and screen is not None:
            r = clamp_rect(r, screen.availableGeometry())
        # One geometry change, not a resize and then a move: lift the fixed height, set, fix it again.
        self.setMinimumHeight(0)
        self.setMaximumHeight(QWIDGETSIZE_MAX)
        self.setGeometry(r)
        self.setFixedHeight(h)

    def place(self) -> None:
        """Put the overlay where the settings say: the saved place, or a preset, on the right screen."""
        placed = saved_place(self.overlay, QGuiApplication.screens(), QGuiApplication.primaryScreen())
        if placed is None:
            return
        screen, saved = placed
        width = max(saved.width, MIN_WIDTH) if saved else self.painter.preferred_width()
        if self.overlay.position == "custom" and saved is not None:
            origin = screen.geometry().topLeft()
            full = QRect(origin.x() + saved.x, origin.y() + saved.y, width, self.painter.needed_height())
            rect = resized(full, self._height(), keep_bottom=self._compact and self._keeps_bottom(full))
            self._set_rect(clamp_rect(rect, screen.availableGeometry()))
        else:
            self._set_rect(self._preset_rect(self.overlay.position, screen, width))

    def apply_position(self, position: str, screen: QScreen | None = None) -> None:
        """Position preset ("top" / "bottom", centred) on ``screen`` (default: the overlay's screen), keeping the
        window's width."""
        screen = screen or self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        self._set_rect(self._preset_rect(position, screen, self.width()))
        self._set_overlay(position=position)
        self._remember(screen)

    def _preset_rect(self, position: str, screen: QScreen, width: int) -> QRect:
        area = screen.availableGeometry()
        full = preset_rect(position, area, width, self.painter.needed_height())
        return clamp_rect(resized(full, self._height(), keep_bottom=position != "top"), area)

    def _set_rect(self, rect: QRect) -> None:
        self._interacting = False  # placed by the app: what follows is not the user's doing until they act
        self._save_timer.stop()
        self.setMinimumHeight(0)
        self.setMaximumHeight(QWIDGETSIZE_MAX)
        self.setGeometry(rect)
        self.setFixedHeight(rect.height())
        self._reflow()

    def _full_rect(self) -> QRect:
        """The window's rectangle with all its caption lines (what is saved, also while it is compact)."""
        r = self.geometry()
        return resized(r, self.painter.needed_height(), keep_bottom=self._compact and self._keeps_bottom(r))

    def _remember(self, screen: QScreen) -> None:
        """Save the current geometry for ``screen``, as the most recent entry."""
        self._set_overlay(geometry=remembered(self.overlay.geometry, screen, self._full_rect()))

    def _save_geometry(self) -> None:
        screen = QGuiApplication.screenAt(self.geometry().center()) or self.screen()
        if screen is not None:
            self._set_overlay(position="custom")
            self._remember(screen)

    def _set_overlay(self, **changes: object) -> None:
        self.overlay = dataclasses.replace(self.overlay, **changes)  # type: ignore[arg-type]
        self.overlay_settings_changed.emit(self.overlay)

    def begin_interaction(self) -> None:
        """The user took hold of the window: from now on its moves and resizes are saved as theirs."""
        self._interacting = True
        self._save_timer.start()

    def end_interaction(self) -> None:
        """A drag done by hand ended: save where it left the window now."""
        self._save_timer.stop()
        self._save_geometry()
