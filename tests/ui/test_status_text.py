"""A long error message is shortened in the tray menu and the overlay's status row, but never lost:
the control window shows it whole and tooltips carry it."""

from __future__ import annotations

from typing import Any

from captioner.settings import Appearance, OverlaySettings
from captioner.ui.overlay import CaptionOverlay
from captioner.ui.tray import ControlWindow, Tray

LONG = (
    "no microphone found: no audio input device is connected or enabled. Check that a microphone is "
    "connected and allowed, or choose system audio in Settings."
)


def test_tray_menu_shortens_but_control_window_shows_all(qtbot: Any) -> None:
    tray = Tray()
    window = ControlWindow(tray)
    qtbot.addWidget(window)
    window.show()
    before = window.sizeHint().height()
    tray.set_state("error", LONG)
    assert tray.status_action.text().endswith("…") and len(tray.status_action.text()) <= 70
    assert tray.status_action.toolTip() == LONG
    assert window.status.text() == LONG
    assert window.sizeHint().height() >= before


def test_overlay_status_tooltip_is_the_whole_message(qtbot: Any) -> None:
    overlay = CaptionOverlay(Appearance(), OverlaySettings())
    qtbot.addWidget(overlay)
    overlay.set_status("error", LONG)
    assert overlay.status() == ("error", LONG)
    assert overlay.toolTip() == LONG
