"""The desktop app says at start, once, that its settings file could not be used (it was kept aside)."""

from __future__ import annotations

from typing import Any

from tests.support import notifications

PROBLEM = "The settings file was damaged; Captioner started with default settings. (x.) The old file is kept as /k."


def test_the_overlay_says_it_in_short_and_the_tray_whole_at_start(desktop: Any, monkeypatch: Any) -> None:
    told = notifications.recorded(monkeypatch)
    app = desktop(settings_problem=PROBLEM)
    assert app.overlay._notice == "The settings file was damaged; Captioner started with default settings."
    assert told == [("Captioner settings", PROBLEM)]


def test_nothing_is_said_when_the_file_was_fine(desktop: Any) -> None:
    app = desktop()
    assert "settings" not in app.overlay._notice
