"""The desktop app says at start, once, that its settings file could not be used (it was kept aside)."""

from __future__ import annotations

from typing import Any

PROBLEM = "The settings file was damaged; Captioner started with default settings. (x.) The old file is kept as /k."


def test_the_overlay_says_it_in_short_and_the_tray_whole_at_start(desktop: Any, monkeypatch: Any) -> None:
    from captioner.ui.tray import Tray

    told: list[tuple[str, str]] = []

    def notify(self: Tray, title: str, message: str, *args: Any, **kw: Any) -> bool:
        told.append((title, message))
        return True

    monkeypatch.setattr(Tray, "notify", notify)
    app = desktop(settings_problem=PROBLEM)
    assert app.overlay._notice == "The settings file was damaged; Captioner started with default settings."
    assert told == [("Captioner settings", PROBLEM)]


def test_nothing_is_said_when_the_file_was_fine(desktop: Any) -> None:
    app = desktop()
    assert "settings" not in app.overlay._notice
