"""Click-through under real window managers (openbox and xfwm4, with xcompmgr): clicks reach the window below.

The app runs as a process on Xvfb; an ``xev`` window below the overlay records the clicks it gets, and
``xdotool`` clicks through the X server as a mouse would. A reparenting window manager wraps the overlay in
a frame of its own, which must let the clicks through too — at start, after toggling, after hiding and
showing the captions again — and catch them again once click-through is off; and the window that got the
click, raised by the window manager, stays below the captions.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.desktop_process import AppProcess, app_settings
from tests.support.xdisplay import ClickRecorder, XDisplay, wait_for

pytestmark = pytest.mark.xvfb


@pytest.fixture
def recorder(any_wm: XDisplay) -> Iterator[ClickRecorder]:
    rec = any_wm.click_recorder()
    yield rec
    any_wm.stop(rec.proc)


def click_overlay(d: XDisplay, app: AppProcess, rec: ClickRecorder, *, passes: bool) -> bool:
    """Click the middle of the overlay; True when the window below got the click."""
    x, y, w, h = d.geometry(app.overlay)
    cx, cy = x + w // 2, y + h // 2
    d.xdotool("mousemove", str(cx), str(cy))
    overlay_catches = {app.frame, app.overlay}
    # The window manager copies the shape when it is told of it: wait until the pointer's window is settled.
    wait_for(lambda: (d.window_under_pointer() in overlay_catches) != passes, timeout=5)
    before = len(rec.presses())
    d.xdotool("mousedown", "1", "sleep", "0.15", "mouseup", "1")  # a person's click: the press lasts a moment
    return wait_for(lambda: len(rec.presses()) > before, timeout=2 if passes else 0.7)


def test_click_through_at_start_lets_clicks_reach_the_window_below(any_wm: XDisplay, recorder: ClickRecorder) -> None:
    with AppProcess(any_wm, app_settings(click_through=True)) as app:
        assert click_overlay(any_wm, app, recorder, passes=True), "the window below got no click"


def test_toggled_click_through_passes_clicks_and_stops_again(any_wm: XDisplay, recorder: ClickRecorder) -> None:
    with AppProcess(any_wm, app_settings(click_through=False)) as app:
        assert not click_overlay(any_wm, app, recorder, passes=False), "the overlay let a click through"
        any_wm.xdotool("key", "--clearmodifiers", "ctrl+shift+l")  # the global shortcut (test_hotkey_x11.py)
        assert click_overlay(any_wm, app, recorder, passes=True), "after turning it on, no click got through"
        any_wm.xdotool("key", "--clearmodifiers", "ctrl+shift+l")
        assert not click_overlay(any_wm, app, recorder, passes=False), "after turning it off, clicks still pass"


def test_click_through_survives_the_window_being_unmapped_and_mapped(any_wm: XDisplay, recorder: ClickRecorder) -> None:
    # What hiding and showing the captions does at the X level: the window manager drops its frame and
    # frames the window anew when it is mapped again.
    with AppProcess(any_wm, app_settings(click_through=True)) as app:
        old_frame = app.frame
        any_wm.xdotool("windowunmap", "--sync", str(app.overlay))
        any_wm.xdotool("windowmap", "--sync", str(app.overlay))
        assert wait_for(lambda: any_wm.frame_of(app.overlay) not in (old_frame, app.overlay))
        app.frame = any_wm.frame_of(app.overlay)
        assert click_overlay(any_wm, app, recorder, passes=True), "after mapping it again, no click got through"


def test_the_window_that_got_the_click_stays_below_the_captions(any_wm: XDisplay, recorder: ClickRecorder) -> None:
    d = any_wm
    with AppProcess(d, app_settings(click_through=True)) as app:
        # The person was in the app's other window (the control window: no tray here), then clicks the
        # window below the captions, which the window manager focuses and raises.
        d.xdotool("windowactivate", "--sync", str(d.find_window("Captioner")))
        assert click_overlay(d, app, recorder, passes=True)
        d.xdotool("sleep", "0.3")  # the window manager raised the clicked window (click to focus)
        stack = d.stacking()
        assert stack.index(app.overlay) > stack.index(recorder.window), "the captions went under the clicked window"
        states = d.run("xprop", "-id", str(app.overlay), "_NET_WM_STATE")
        assert "_NET_WM_STATE_ABOVE" in states and "_NET_WM_STATE_SKIP_TASKBAR" in states
