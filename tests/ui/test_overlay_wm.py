"""The overlay's place and stacking under a real window manager (openbox, with xcompmgr).

The app runs as a process on Xvfb. A drag of the overlay goes through the window manager (the app hands
the move to it), which moves the window in its own time, long after the press: where it ends is saved and
the next start puts the overlay back there. The settings panel opens above the overlay, not under it.
"""

from __future__ import annotations

import pytest

from tests.support.desktop_process import AppProcess, app_settings
from tests.support.xdisplay import XDisplay, wait_for

pytestmark = pytest.mark.xvfb


def test_a_dragged_position_is_saved_and_restored(xvfb_wm: XDisplay) -> None:
    d = xvfb_wm
    with AppProcess(d, app_settings(position="bottom")) as app:
        x, y, w, h = d.geometry(app.overlay)
        d.xdotool("mousemove", str(x + w // 2), str(y + h // 2), "mousedown", "1")
        # A person takes a moment before moving, and pauses on the way: longer than any debounce.
        d.xdotool("sleep", "0.8", "mousemove_relative", "--", "-60", "-100", "sleep", "0.8")
        d.xdotool("mousemove_relative", "--", "-140", "-150", "sleep", "0.3", "mouseup", "1")
        assert wait_for(lambda: d.geometry(app.overlay)[:2] == (x - 200, y - 250), timeout=5), d.geometry(app.overlay)
        moved = d.geometry(app.overlay)
        d.xdotool("sleep", "0.8")  # let it settle
        assert app.stop() == 0
    saved = app.settings().overlay
    assert saved.position == "custom"
    g = next(iter(saved.geometry.values()))
    # The saved rectangle is the whole overlay, as tall as its caption lines; while not captioning it shows
    # only its status row, hanging from the same bottom edge.
    assert (g.x, g.y + g.height, g.width) == (moved[0], moved[1] + moved[3], moved[2])
    with AppProcess(d, app.settings()) as again:
        assert d.geometry(again.overlay)[:3] == moved[:3]


def test_the_settings_panel_opens_above_the_overlay(xvfb_wm: XDisplay) -> None:
    d = xvfb_wm
    with AppProcess(d, app_settings(position="bottom")) as app:
        control = d.find_window("Captioner")  # no tray here: the control window offers the commands
        d.xdotool("windowactivate", "--sync", str(control))
        d.xdotool("key", "--clearmodifiers", "ctrl+comma")
        panel = d.find_window("Captioner settings")
        x, y, _, _ = d.geometry(app.overlay)
        d.xdotool("windowmove", "--sync", str(panel), str(x), str(max(0, y - 200)))  # over the overlay
        stack = d.stacking()
        assert stack.index(panel) > stack.index(app.overlay), "the settings panel is under the overlay"
        # The pixel where both are is the panel's, not the overlay's.
        px, py = x + 40, y + 10
        d.xdotool("mousemove", str(px), str(py))
        assert wait_for(lambda: d.window_under_pointer() == d.frame_of(panel), timeout=3)
