"""Tray menu actions, the click-through way back, settings/transcript wiring — on the real DesktopApp widgets.

The engine is the scripted fake (the app wiring is under test); the source is a real speech WAV.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from captioner import paths
from captioner import settings as settings_store
from captioner.settings import Appearance, Settings
from captioner.settings import merge as merge_settings
from captioner.ui.settings.dialog import SettingsDialog
from captioner.ui.tray import ControlWindow
from tests.support.scripted_engine import FakeEngine


def test_start_stop_action_runs_and_stops_captioning(desktop: Any, qtbot: Any) -> None:
    app = desktop()
    assert not app.controller.running
    app.tray.start_action.trigger()
    qtbot.waitUntil(lambda: app.overlay.visible_lines() != [], timeout=10000)
    assert app.tray.start_action.text() == "Stop captions"
    assert app.tray.state == "listening"
    app.tray.start_action.trigger()
    qtbot.waitUntil(lambda: not app.controller.running, timeout=10000)
    assert app.tray.start_action.text() == "Start captions"
    assert not app.controller.transcript.live  # stopped with the last words flushed


def test_show_hide_overlay_is_saved(desktop: Any, qtbot: Any) -> None:
    app = desktop()
    assert app.overlay.isVisible() and app.tray.overlay_action.isChecked()
    app.tray.overlay_action.trigger()
    assert not app.overlay.isVisible() and not app.tray.overlay_action.isChecked()
    qtbot.waitUntil(lambda: settings_store.settings_path().exists(), timeout=3000)
    assert settings_store.load().overlay.visible is False
    app.tray.overlay_action.trigger()
    assert app.overlay.isVisible()


def test_click_through_from_the_tray_and_back(desktop: Any) -> None:
    app = desktop()
    app.tray.click_through_action.trigger()
    assert app.overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert app.tray.click_through_action.isChecked()
    app.tray.click_through_action.trigger()
    assert not app.overlay.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert not app.tray.click_through_action.isChecked()


def test_click_through_shortcut_works_from_any_captioner_window(desktop: Any, qtbot: Any) -> None:
    app = desktop()
    app.overlay.set_click_through(True)
    window = app.open_transcript()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not app.overlay.click_through
    assert app.tray.click_through_action.isChecked() is False


def test_second_launch_activates_and_unlocks(desktop: Any) -> None:
    app = desktop()
    app.set_overlay_visible(False)
    app.overlay.set_click_through(True)
    app.activate()
    assert app.overlay.isVisible() and not app.overlay.click_through


def test_without_a_tray_a_control_window_offers_the_same_actions(desktop: Any, qtbot: Any) -> None:
    app = desktop()
    assert not app.tray.available  # the offscreen platform has no system tray
    assert isinstance(app.control_window, ControlWindow) and app.control_window.isVisible()
    labels = [b.defaultAction().text() for b in app.control_window.buttons]
    assert "Start captions" in labels and "Quit Captioner" in labels
    button = next(b for b in app.control_window.buttons if b.defaultAction() is app.tray.click_through_action)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert app.overlay.click_through
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not app.overlay.click_through


def test_position_actions_move_the_overlay(desktop: Any) -> None:
    app = desktop()
    app.tray.top_action.trigger()
    top = app.overlay.geometry().top()
    app.tray.bottom_action.trigger()
    assert app.overlay.geometry().top() > top
    assert app.settings.overlay.position == "bottom"


def test_settings_panel_changes_reach_the_running_session_and_persist(desktop: Any, qtbot: Any) -> None:
    app = desktop()
    app.tray.start_action.trigger()
    qtbot.waitUntil(lambda: bool(FakeEngine.script.instances) and app.controller.running, timeout=5000)
    dialog: SettingsDialog = app.open_settings()
    assert isinstance(dialog, QWidget) and dialog.isVisible()
    # (the panel lists registered engines only; keep the test engine)
    edited = dialog.settings().with_changes(engine="fake", word_boost=("Worstward",), silence_ms=900)
    dialog.settings_changed.emit(edited)
    qtbot.waitUntil(lambda: bool(FakeEngine.script.instances[0].updates), timeout=5000)
    assert FakeEngine.script.instances[0].updates[-1].word_boost == ("Worstward",)
    assert FakeEngine.script.instances[0].updates[-1].silence_ms == 900
    qtbot.waitUntil(lambda: settings_store.load().word_boost == ("Worstward",), timeout=3000)
    # appearance edits go to the overlay at once
    dialog.settings_changed.emit(edited.with_changes(appearance=Appearance(lines=4)))
    assert app.overlay.appearance.lines == 4


def test_a_stale_settings_copy_does_not_undo_tray_changes() -> None:
    base = Settings()
    ours = base.with_changes(overlay=base.overlay.__class__(click_through=True))
    theirs = base.with_changes(silence_ms=1200)
    merged = merge_settings(base, theirs, ours)
    assert merged.overlay.click_through is True and merged.silence_ms == 1200


def test_transcript_window_is_live_and_offers_the_last_session(desktop: Any, qtbot: Any, run: Any) -> None:
    first = desktop()
    first.tray.start_action.trigger()
    qtbot.waitUntil(lambda: len(first.controller.transcript.finals) >= 3, timeout=10000)
    window = first.open_transcript()
    qtbot.waitUntil(lambda: window.table.rowCount() >= 3, timeout=5000)
    run(first.shutdown())
    saved = len(first.controller.transcript.finals)
    assert paths.latest_autosave() == first.controller.transcript.autosave_path

    second = desktop()
    assert second.tray.last_transcript_action.isVisible()
    assert len(second.previous_lines) == saved
    w = second.open_previous_transcript()
    assert w.table.rowCount() == saved


def test_errors_show_in_the_overlay_and_as_a_notification(desktop: Any, qtbot: Any, monkeypatch: Any) -> None:
    app = desktop(Settings(engine="nope", autostart_captions=False))
    notes: list[tuple[str, str, bool]] = []

    def notify(title: str, message: str, error: bool = False) -> bool:
        notes.append((title, message, error))
        return True

    monkeypatch.setattr(app.tray, "notify", notify)
    app.tray.start_action.trigger()
    state, message = app.overlay.status()
    assert state == "error" and "unknown engine" in message and "Settings" in message
    assert app.tray.state == "error"
    assert notes and notes[-1][2] is True and "unknown engine" in notes[-1][1]


def test_quit_action_requests_quit(desktop: Any) -> None:
    app = desktop()
    app.tray.quit_action.trigger()
    assert app.quit_requested.is_set()


def test_tray_icons_exist_for_every_state() -> None:
    from captioner.ui import icons

    for state in ("", "idle", "listening", "error"):
        path = icons.icon_path(state)
        assert path is not None and path.suffix == ".svg"
        assert not icons.icon(state).pixmap(32, 32).toImage().isNull()
    app_icon = icons.icon_path("")
    assert app_icon is not None and app_icon.name == "captioner.svg"
