"""Entering a key without a system keyring: said in plain words, "Use for this session only" (memory only,
never written to any file), and the Engine page's availability as one truthful sentence.

The keyring package's own "fail" backend stands in for a machine with no Secret Service or KWallet.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt

from captioner import secrets
from captioner import settings as S
from captioner.session.build import SessionRequest, prepare
from captioner.ui.settings.dialog import SettingsDialog

KEY = "aai-session-key-0123456789"


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def files_containing(root: Path, text: str) -> list[Path]:
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            try:
                if text.encode() in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


def test_without_a_keyring_a_key_can_be_used_for_this_session_only(
    qtbot: Any, no_keyring: None, _isolated_dirs: Path, tmp_path: Path
) -> None:
    d = SettingsDialog(S.Settings(engine="assemblyai"))
    qtbot.addWidget(d)
    panel = d.engine_page.panels["assemblyai"]
    field = panel.credentials["api_key"]
    # Said before anything is typed, in plain words, with both ways out.
    assert "No system keyring is available" in panel.secret_status.text()
    assert "ASSEMBLYAI_API_KEY" in panel.secret_status.text()
    assert field.session_button.isVisibleTo(d) and not field.session_button.isEnabled()
    qtbot.keyClicks(field.edit, KEY)
    qtbot.keyClick(field.edit, Qt.Key.Key_Return)  # pressing Enter stores nothing, and says why
    assert field.edit.text() == KEY and secrets.where("assemblyai", "api_key") == ""
    assert field.session_button.isEnabled()
    with qtbot.waitSignal(d.credentials_changed, timeout=3000):  # the app is told: it may start the engine now
        qtbot.mouseClick(field.session_button, Qt.MouseButton.LeftButton)
    assert field.edit.text() == "" and "kept for this session only" in field.edit.placeholderText()
    assert "never written to disk" in panel.secret_status.text()
    assert panel.availability.text() == "Ready: uses the API key kept for this session only."
    assert secrets.resolve("assemblyai").api_key == KEY
    plan = prepare(SessionRequest(engine="assemblyai"), audience="app")  # captioning can start with it
    assert plan.credentials.api_key == KEY
    S.save(d.settings(), tmp_path / "settings.json")
    d.close()
    assert files_containing(_isolated_dirs, KEY) == [] and files_containing(tmp_path, KEY) == []
    field.forget()
    assert secrets.resolve("assemblyai").api_key is None
    assert panel.availability.text() == (
        "Needs an API key before it can caption: enter it below for this session only, or set ASSEMBLYAI_API_KEY."
    )


def test_a_keyring_that_drops_secrets_is_no_keyring() -> None:
    from keyring.backends import null

    previous = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())
    try:
        assert not secrets.keyring_available()
        with pytest.raises(secrets.SecretStoreError):
            secrets.store("assemblyai", "api_key", KEY)  # never "saved" into nowhere
    finally:
        keyring.set_keyring(previous)
    assert secrets.keyring_available()  # the tests' in-memory keyring is one


def test_without_a_keyring_the_missing_key_message_offers_the_session(no_keyring: None) -> None:
    message = secrets.describe_missing("assemblyai", "app")
    assert "for this session only" in message and "ASSEMBLYAI_API_KEY" in message
    assert "kept in the system keyring" not in message


def test_availability_says_where_the_key_comes_from(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    d = SettingsDialog(S.Settings(engine="assemblyai"))
    qtbot.addWidget(d)
    panel = d.engine_page.panels["assemblyai"]
    assert panel.availability.text().startswith("Needs an API key before it can caption")
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", "from-the-environment")
    assert panel.refresh_availability() == (True, "Ready: uses the API key from ASSEMBLYAI_API_KEY.")
    panel.credentials["api_key"].edit.setText("saved-key")
    assert panel.credentials["api_key"].commit()
    assert panel.availability.text() == "Ready: uses the API key saved in the system keyring."
    assert "ready (" not in panel.availability.text()  # never the engine's "ready (needs …)"


def test_a_key_for_this_session_starts_the_captions_that_were_waiting_for_it(
    qtbot: Any, qloop: Any, run: Any, no_keyring: None
) -> None:
    from captioner.ui.desktop import DesktopApp
    from tests.support.speech import speech_wav

    endpoint = "ws://127.0.0.1:9"  # nothing listens: the engine starts, then waits to reconnect
    settings = S.Settings(
        engine="assemblyai", autostart_captions=False, engines={"assemblyai": S.EngineSettings(endpoint=endpoint)}
    )
    app = DesktopApp(settings, source=str(speech_wav("beckett.wav")), persist=False)
    app.start()
    try:
        app.tray.start_action.trigger()
        assert app.controller.state[0] == "error" and "for this session only" in app.controller.state[1]
        field = app.open_settings().engine_page.panels["assemblyai"].credentials["api_key"]
        field.edit.setText(KEY)
        field.use_for_session()
        assert app.controller.running
    finally:
        run(app.shutdown())
