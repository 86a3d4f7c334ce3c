"""The app icon and the tray's state icons (idle, listening, error).

The SVGs live in ``resources/icons/`` (repository root, a wheel's
``captioner/resources/icons/`` or a PyInstaller bundle). If none is found the
icons are drawn in code, so a broken install still shows a usable tray icon.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

STATES = ("idle", "listening", "error")
_COLORS = {"idle": "#8a93a6", "listening": "#2fb35a", "error": "#d93b3b", "": "#ffd54a"}


def icon_dirs() -> list[Path]:
    here = Path(__file__).resolve()
    dirs = [here.parents[2] / "resources" / "icons", here.parents[1] / "resources" / "icons"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        dirs.insert(0, Path(bundle) / "resources" / "icons")
    try:
        from captioner.resources import resource_path

        dirs.insert(0, resource_path("icons"))
    except ImportError:
        pass
    return dirs


def icon_path(state: str = "") -> Path | None:
    """The SVG file for ``state`` ("" = the app icon), if installed."""
    name = f"captioner-{state}.svg" if state else "captioner.svg"
    for d in icon_dirs():
        p = d / name
        if p.is_file():
            return p
    return None


def _drawn(state: str) -> QIcon:
    icon = QIcon()
    for size in (16, 22, 24, 32, 48, 64, 128):
        pm = QPixmap(size, size)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        s = float(size)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#2a3550"))
        p.drawRoundedRect(QRectF(0.04 * s, 0.1 * s, 0.92 * s, 0.68 * s), 0.12 * s, 0.12 * s)
        p.setBrush(QColor("#ffffff"))
        p.drawRoundedRect(QRectF(0.16 * s, 0.3 * s, 0.6 * s, 0.09 * s), 0.04 * s, 0.04 * s)
        p.drawRoundedRect(QRectF(0.16 * s, 0.48 * s, 0.4 * s, 0.09 * s), 0.04 * s, 0.04 * s)
        p.setBrush(QColor(_COLORS.get(state, "#ffd54a")))
        p.drawEllipse(QRectF(0.58 * s, 0.58 * s, 0.4 * s, 0.4 * s))
        p.end()
        icon.addPixmap(pm)
    return icon


@cache
def icon(state: str = "") -> QIcon:
    """The icon for ``state`` (``""``, ``"idle"``, ``"listening"`` or ``"error"``)."""
    path = icon_path(state)
    if path is not None:
        ic = QIcon(str(path))
        if not ic.isNull() and not ic.pixmap(32, 32).isNull():
            return ic
    return _drawn(state)


def app_icon() -> QIcon:
    return icon("")
