"""The global shortcut on X11: a key grab that fires while another application has the focus.

The backend runs in this process against a real X server (Xvfb with openbox), whatever Qt platform the
test process uses: it has its own X connection. ``xdotool`` types through the X server as a keyboard would,
into an ``xev`` window that has the focus. Then the whole app, as a process: its shortcut turns
click-through off and on while another window keeps the focus.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from captioner.settings import OverlaySettings, Settings
from captioner.ui.hotkey import GlobalShortcut, parse_shortcut
from captioner.ui.hotkey_x11 import X11Backend, x11_keys
from captioner.ui.x11 import CONTROL, SHIFT, XConnection
from tests.support.desktop_process import AppProcess
from tests.support.keys import first_key
from tests.support.xdisplay import ClickRecorder, XDisplay, wait_for

pytestmark = pytest.mark.xvfb


@pytest.fixture
def focused(xvfb_wm: XDisplay) -> Iterator[ClickRecorder]:
    """Another application's window, with the keyboard focus."""
    rec = xvfb_wm.click_recorder(100, 100, 400, 300)
    xvfb_wm.xdotool("windowactivate", "--sync", str(rec.window))
    yield rec
    xvfb_wm.stop(rec.proc)


@pytest.fixture
def shortcut(xvfb_wm: XDisplay, qapp: Any) -> Iterator[tuple[GlobalShortcut, list[int]]]:
    fired: list[int] = []
    g = GlobalShortcut(X11Backend(xvfb_wm.name))
    g.activated.connect(lambda: fired.append(1))
    yield g, fired
    g.close()


def test_key_translation() -> None:
    assert x11_keys(first_key("Ctrl+Shift+L")) == (ord("l"), CONTROL | SHIFT)
    assert x11_keys(first_key("Alt+F5")) == (0xFFC2, 8)
    assert x11_keys(first_key("Meta+PgDown")) == (0xFF56, 64)


def test_shortcut_fires_while_another_window_has_the_focus(
    xvfb_wm: XDisplay, focused: ClickRecorder, shortcut: Any, qtbot: Any
) -> None:
    g, fired = shortcut
    assert g.set_sequence("Ctrl+Shift+L").everywhere
    assert int(xvfb_wm.xdotool("getactivewindow")) == focused.window
    xvfb_wm.xdotool("key", "--clearmodifiers", "ctrl+shift+l")
    qtbot.waitUntil(lambda: fired == [1], timeout=3000)
    xvfb_wm.xdotool("key", "--clearmodifiers", "ctrl+l")  # not the shortcut
    xvfb_wm.xdotool("key", "Num_Lock")  # Num Lock on must not stop it
    xvfb_wm.xdotool("key", "--clearmodifiers", "ctrl+shift+l")
    xvfb_wm.xdotool("key", "Num_Lock")
    qtbot.waitUntil(lambda: fired == [1, 1], timeout=3000)
    qtbot.wait(300)
    assert fired == [1, 1]


def test_a_held_shortcut_fires_once(xvfb_wm: XDisplay, focused: ClickRecorder, shortcut: Any, qtbot: Any) -> None:
    g, fired = shortcut
    g.set_sequence("Ctrl+Shift+L")
    xvfb_wm.run("xset", "r", "rate", "200", "40")  # auto-repeat after 0.2 s, 40 a second
    xvfb_wm.xdotool("keydown", "ctrl+shift+l", "sleep", "1", "keyup", "l", "sleep", "0.1", "keyup", "ctrl+shift")
    qtbot.wait(300)
    assert fired == [1]


def test_changing_the_shortcut_releases_the_old_one(
    xvfb_wm: XDisplay, focused: ClickRecorder, shortcut: Any, qtbot: Any
) -> None:
    g, fired = shortcut
    g.set_sequence("Ctrl+Shift+L")
    status = g.set_sequence("Ctrl+Alt+K")
    assert status.everywhere and status.sequence == "Ctrl+Alt+K"
    xvfb_wm.xdotool("key", "--clearmodifiers", "ctrl+shift+l")
    qtbot.wait(400)
    assert fired == []
    xvfb_wm.xdotool("key", "--clearmodifiers", "ctrl+alt+k")
    qtbot.waitUntil(lambda: fired == [1], timeout=3000)
    other = XConnection(xvfb_wm.name)  # the old combination is free again for other applications
    try:
        code = other.keycodes(ord("l"))[0]
        assert other.grab_key(code, CONTROL | SHIFT) == 0
    finally:
        other.close()


def test_a_shortcut_another_application_holds_is_reported(xvfb_wm: XDisplay, shortcut: Any) -> None:
    g, _ = shortcut
    other = XConnection(xvfb_wm.name)
    try:
        assert other.grab_key(other.keycodes(ord("l"))[0], CONTROL | SHIFT) == 0
        other.flush()
        status = g.set_sequence("Ctrl+Shift+L")
        assert not status.everywhere
        assert "another application already uses that shortcut" in status.message
        assert "only while a Captioner window has the focus" in status.message
    finally:
        other.close()
    assert g.set_sequence("Ctrl+Shift+L").everywhere  # free again


def test_shortcuts_without_ctrl_alt_or_super_are_refused(shortcut: Any) -> None:
    g, _ = shortcut
    for text in ("L", "Shift+L"):
        with pytest.raises(ValueError, match="needs Ctrl, Alt or the Super key"):
            parse_shortcut(text)
        assert not g.set_sequence(text).everywhere
    assert parse_shortcut("") is None
    assert g.set_sequence("").message == "No shortcut is set."


def test_the_app_shortcut_unlocks_click_through_while_another_app_has_the_focus(
    xvfb_wm: XDisplay, focused: ClickRecorder
) -> None:
    settings = Settings(
        autostart_captions=False,
        offer_last_transcript=False,
        overlay=OverlaySettings(click_through=True, click_through_shortcut="Ctrl+Alt+K"),
    )
    with AppProcess(xvfb_wm, settings) as app:
        xvfb_wm.xdotool("windowactivate", "--sync", str(focused.window))
        xvfb_wm.xdotool("key", "--clearmodifiers", "ctrl+alt+k")
        assert int(xvfb_wm.xdotool("getactivewindow")) == focused.window  # the focus stayed where it was
        x, y, w, h = xvfb_wm.geometry(app.overlay)
        xvfb_wm.xdotool("mousemove", str(x + w // 2), str(y + h // 2))
        assert wait_for(lambda: xvfb_wm.window_under_pointer() in (app.frame, app.overlay), timeout=5), (
            "the overlay did not become clickable"
        )
        assert app.stop() == 0
    assert app.settings().overlay.click_through is False  # saved like a change from the tray


def test_paused_while_the_panel_records_a_shortcut(
    xvfb_wm: XDisplay, focused: ClickRecorder, shortcut: Any, qtbot: Any
) -> None:
    g, fired = shortcut
    g.set_sequence("Ctrl+Shift+L")
    g.pause(True)  # the shortcut field has the focus: the keys must reach it
    other = XConnection(xvfb_wm.name)
    try:
        assert other.grab_key(other.keycodes(ord("l"))[0], CONTROL | SHIFT) == 0  # nothing holds them now
        other.ungrab_key(other.keycodes(ord("l"))[0], CONTROL | SHIFT)
        other.flush()
    finally:
        other.close()
    xvfb_wm.xdotool("key", "--clearmodifiers", "ctrl+shift+l")
    qtbot.wait(300)
    assert fired == []
    g.pause(False)
    assert g.status().everywhere
    xvfb_wm.xdotool("key", "--clearmodifiers", "ctrl+shift+l")
    qtbot.waitUntil(lambda: fired == [1], timeout=3000)
