"""Window-system quirks: Wayland detection and the XWayland fallback.

On Wayland an ordinary window cannot keep itself on top or choose its own
position (the compositor decides); click-through and frameless translucency
still work. Under XWayland (``QT_QPA_PLATFORM=xcb``) everything works as on X11,
so the app offers that as a setting (``OverlaySettings.force_xwayland``).

:func:`prepare_environment` must run before the ``QApplication`` is created.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass


def wayland_session(env: Mapping[str, str] | None = None) -> bool:
    """The desktop session runs a Wayland compositor (whatever Qt ends up using)."""
    e = os.environ if env is None else env
    return bool(e.get("WAYLAND_DISPLAY")) or e.get("XDG_SESSION_TYPE", "").lower() == "wayland"


def prepare_environment(force_xwayland: bool, env: MutableMapping[str, str] | None = None) -> bool:
    """Choose XWayland when asked and possible; return True if ``QT_QPA_PLATFORM`` was set to xcb.

    An explicit ``QT_QPA_PLATFORM`` from the user always wins.
    """
    e = os.environ if env is None else env
    if not force_xwayland or not wayland_session(e) or e.get("QT_QPA_PLATFORM"):
        return False
    if not e.get("DISPLAY"):
        return False  # no XWayland server to talk to
    e["QT_QPA_PLATFORM"] = "xcb"
    return True


def missing_display(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why no window can open here, in plain words, or ``None`` when a display seems available.

    Qt aborts the whole process (SIGABRT) when its platform plugin cannot connect, so the app
    checks first. Only Linux/BSD desktops need a ``DISPLAY`` or ``WAYLAND_DISPLAY``; an explicit
    ``QT_QPA_PLATFORM`` other than xcb/wayland (e.g. offscreen) needs none.
    """
    import sys

    e = os.environ if env is None else env
    plat = sys.platform if platform is None else platform
    if plat.startswith(("win", "darwin")):
        return None
    qpa = e.get("QT_QPA_PLATFORM", "").split(":")[0]
    if qpa and qpa not in ("xcb", "wayland", "wayland-egl"):
        return None
    if qpa == "xcb" and not e.get("DISPLAY"):
        return "QT_QPA_PLATFORM=xcb but DISPLAY is not set"
    if qpa.startswith("wayland") and not e.get("WAYLAND_DISPLAY"):
        return f"QT_QPA_PLATFORM={qpa} but WAYLAND_DISPLAY is not set"
    if not qpa and not e.get("DISPLAY") and not e.get("WAYLAND_DISPLAY"):
        return "no graphical display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    return None


@dataclass(frozen=True, slots=True)
class PlatformNotes:
    """What the overlay can do on this window system, in plain words."""

    platform: str
    wayland: bool
    stay_on_top: bool
    positioning: bool
    click_through: bool
    xwayland_available: bool
    message: str


def describe(platform_name: str, env: Mapping[str, str] | None = None) -> PlatformNotes:
    """Notes for ``QGuiApplication.platformName()``."""
    e = os.environ if env is None else env
    wayland = platform_name.startswith("wayland")
    xwayland = wayland and bool(e.get("DISPLAY"))
    if wayland:
        msg = (
            "Wayland: the overlay cannot keep itself above other windows or remember its position "
            "(the compositor decides); click-through works."
        )
        msg += (
            " Turn on 'Use XWayland' in Settings and restart Captioner to get both."
            if xwayland
            else " XWayland is not running, so there is no fallback here."
        )
        return PlatformNotes(platform_name, True, False, False, True, xwayland, msg)
    return PlatformNotes(platform_name, False, True, True, True, False, "")
