"""Where the caption overlay goes on a screen: presets, margins, clamping, and the key of each saved place.

Plain rectangle arithmetic for :class:`captioner.ui.overlay.CaptionOverlay`: the top/bottom presets (centred,
a margin from the screen edge, at the width asked for), keeping a rectangle inside a screen, growing or
shrinking a window from the edge it is anchored to (the bottom preset grows upwards, so the overlay keeps its
margin above the bottom edge whatever the font size), and which saved place belongs to which screen.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QScreen

from captioner.settings import Geometry, OverlaySettings


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


def edge_margin(area: QRect) -> int:
    """The gap the presets keep from the screen's top or bottom edge."""
    return max(16, area.height() // 20)


def preset_rect(position: str, area: QRect, width: int, height: int) -> QRect:
    """The rectangle of preset ``position`` ("top" or "bottom"), centred in ``area``, ``width`` wide (at most
    90 % of the screen). A window too tall for the margin gives up the margin before anything else."""
    w = min(width, int(area.width() * 0.9))
    margin = min(edge_margin(area), max(0, (area.height() - height) // 2))
    x = area.left() + (area.width() - w) // 2
    y = area.top() + margin if position == "top" else area.top() + area.height() - height - margin
    return clamp_rect(QRect(x, y, w, height), area)


def anchored_at_bottom(rect: QRect, area: QRect) -> bool:
    """Whether a window at ``rect`` hangs from its bottom edge: its centre is in the lower half of ``area``."""
    return rect.center().y() > area.center().y()


def resized(rect: QRect, height: int, *, keep_bottom: bool) -> QRect:
    """``rect`` with ``height``, keeping its bottom edge (or else its top edge) where it is."""
    r = QRect(rect)
    if keep_bottom:
        r.setTop(rect.bottom() + 1 - height)
    else:
        r.setHeight(height)
    return r


def saved_place(
    overlay: OverlaySettings, screens: list[QScreen], primary: QScreen | None
) -> tuple[QScreen, Geometry | None] | None:
    """The screen the overlay goes on (the one saved most recently among those connected, else the primary
    one) and its saved place there, if any; ``None`` with no screen at all."""
    if not screens:
        return None
    by_key = {screen_key(s): s for s in screens}
    key = pick_saved(overlay.geometry, list(by_key))
    if key is None:
        return primary or screens[0], None
    return by_key[key], overlay.geometry[key]


def remembered(geometry: dict[str, Geometry], screen: QScreen, rect: QRect) -> dict[str, Geometry]:
    """``geometry`` with ``rect`` saved for ``screen`` (relative to it), as the most recent entry."""
    origin = screen.geometry().topLeft()
    key = screen_key(screen)
    out = {k: v for k, v in geometry.items() if k != key}
    out[key] = Geometry(rect.x() - origin.x(), rect.y() - origin.y(), rect.width(), rect.height())
    return out
