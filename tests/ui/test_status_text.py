"""A long error message is never lost: the tray menu wraps it, the control window shows it whole and
tooltips carry it."""

from __future__ import annotations

from typing import Any

from captioner.settings import Appearance, OverlaySettings
from captioner.ui.overlay import CaptionOverlay
from captioner.ui.tray import ControlWindow, Tray

LONG = (
    "no microphone found: no audio input device is connected or enabled. Check that a microphone is "
    "connected and allowed, or choose system audio in Settings."
)


def test_tray_menu_and_control_window_show_it_all(qtbot: Any) -> None:
    tray = Tray()
    window = ControlWindow(tray)
    qtbot.addWidget(window)
    window.show()
    before = window.sizeHint().height()
    tray.set_state("error", LONG)
    assert tray.status_text() == LONG  # wrapped over several menu lines, never cut
    assert tray.status_action.toolTip() == LONG
    assert window.status.text() == LONG
    assert window.sizeHint().height() >= before


def test_overlay_status_tooltip_is_the_whole_message(qtbot: Any) -> None:
    overlay = CaptionOverlay(Appearance(), OverlaySettings())
    qtbot.addWidget(overlay)
    overlay.set_status("error", LONG)
    assert overlay.status() == ("error", LONG)
    assert overlay.toolTip() == LONG
