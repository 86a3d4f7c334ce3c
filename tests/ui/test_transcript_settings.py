"""The desktop app's transcript window and its settings: the profanity filter (default on, in the overlay and the
window, toggled live from the settings panel) and the export folder and cue limits kept in the settings file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from captioner import settings as settings_store
from captioner.captions.events import Final
from captioner.settings import Settings
from captioner.ui.desktop import DesktopApp


def cell(window: Any, row: int) -> str:
    item = window.table.item(row, 1)
    assert item is not None
    return str(item.text())


def test_profanity_filter_is_on_by_default_and_toggles_live(qtbot: Any, qloop: Any, run: Any) -> None:
    app = DesktopApp(Settings(autostart_captions=False), persist=False)
    try:
        assert app.settings.filter_profanity
        window = app.open_transcript()
        app.controller.transcript.apply(Final(line_id="1", text="for good ol' fucking evil", engine="e"))
        assert cell(window, 0) == "for good ol' f****** evil"
        assert "f****** evil" in " ".join(text for text, _final in app.overlay.visible_lines())
        dialog = app.open_settings()
        dialog.captions_page.filter_profanity.setChecked(False)
        dialog.flush()
        qtbot.waitUntil(lambda: not app.settings.filter_profanity)
        assert cell(window, 0) == "for good ol' fucking evil"
        app.controller.transcript.apply(Final(line_id="2", text="oh shit", engine="e"))
        assert cell(window, 1) == "oh shit"
    finally:
        run(app.shutdown())


def test_export_folder_and_cue_limits_are_saved_in_the_settings(
    qtbot: Any, qloop: Any, run: Any, tmp_path: Path
) -> None:
    app = DesktopApp(Settings(autostart_captions=False))
    try:
        window = app.open_transcript()
        app.controller.transcript.apply(Final(line_id="1", text="hello", engine="e", start=0.0, end=1.0))
        window.export_bar.cue_seconds.setValue(4.5)
        assert window.export_to(tmp_path / "hello.srt")
    finally:
        run(app.shutdown())
    saved = settings_store.load()
    assert saved.export.folder == str(tmp_path.resolve()) and saved.export.cue_seconds == 4.5
