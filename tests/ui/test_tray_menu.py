"""The tray menu (also the overlay's context menu): the whole status, the source choice, and notifications.

Real DesktopApp widgets; the engine is the scripted fake, except for the cloud engine that cannot connect
(the real AssemblyAI engine against a closed port on 127.0.0.1).
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from captioner import secrets
from captioner.audio.file import WavFileSource
from captioner.session.session import RetryPolicy
from captioner.settings import EngineSettings, Settings
from captioner.ui.desktop import DesktopApp
from captioner.ui.tray import STATUS_LINE_CHARS, ControlWindow, Tray
from tests.support.speech import speech_wav

LONG = (
    "Cannot reach AssemblyAI at wss://streaming.assemblyai.com/v3/ws: [Errno -2] Name or service not known — "
    "reconnecting in 30.0 s (attempt 9)"
)


def paced(spec: str, rate: int, device: str | None, realtime: bool) -> WavFileSource:
    """Every source (microphone, system audio) is the Beckett recording at 4× real time."""
    return WavFileSource(speech_wav("beckett.wav"), rate, realtime=True, speed=4.0)


@pytest.fixture
def desktop(qtbot: Any, qloop: Any, fake_engines: Any, run: Any) -> Any:
    """Started DesktopApps (the scripted engines unless ``engines`` is given), shut down after the test."""
    apps: list[DesktopApp] = []
    default = Settings(engine="fake", autostart_captions=False)

    def make(settings: Settings | None = None, engines: Any = None, **kw: Any) -> DesktopApp:
        apps.append(
            DesktopApp(settings or default, opener=paced, engines=fake_engines if engines is None else engines, **kw)
        )
        apps[-1].start()
        return apps[-1]

    yield make
    while apps:
        run(apps.pop().shutdown())


def test_the_menu_status_is_wrapped_never_cut(qtbot: Any) -> None:
    tray = Tray()
    window = ControlWindow(tray)
    qtbot.addWidget(window)
    tray.set_state("reconnecting", LONG)
    lines = [tray.status_action, *tray._status_more]
    assert len(lines) == 3 and all(len(a.text()) <= STATUS_LINE_CHARS for a in lines)
    assert tray.status_text() == LONG and "…" not in tray.status_text()
    menu_texts = [a.text() for a in tray.menu.actions()]
    assert menu_texts[: len(lines)] == [a.text() for a in lines]  # together, at the top of the menu
    assert window.status.text() == LONG  # the control window shows it whole too
    tray.set_state("listening", "Listening · Microphone · Local (offline)")
    assert tray._status_more == [] and tray.status_text() == "Listening · Microphone · Local (offline)"
    assert len(tray.menu.actions()) == len(menu_texts) - 2


def test_the_source_is_in_the_menu_and_the_overlay_menu(desktop: Any, qtbot: Any) -> None:
    app = desktop(Settings(engine="fake", source="mic", autostart_captions=False))
    tray = app.tray
    assert tray.mic_action.isChecked() and not tray.system_action.isChecked()
    assert tray.mic_action in tray.menu.actions() and tray.system_action in tray.menu.actions()
    assert app.overlay.actions().count(tray.system_action) == 1  # the overlay's menu and shortcuts have it
    tray.start_action.trigger()
    qtbot.waitUntil(lambda: app.controller.state[0] == "listening", timeout=10000)
    assert app.overlay.status()[1] == "Listening · Microphone · Fake engine"
    dialog = app.open_settings()
    tray.system_action.trigger()
    assert app.settings.source == "system" and app.settings.device == ""
    assert tray.system_action.isChecked() and not tray.mic_action.isChecked()
    assert dialog.audio_page.system.isChecked()  # the open settings panel follows at once
    assert "system audio" in dialog.audio_page.test_status.text()
    qtbot.waitUntil(lambda: app.controller.state[1] == "Listening · System audio · Fake engine", timeout=10000)
    assert app.overlay.status()[1] == "Listening · System audio · Fake engine"
    assert dialog.settings().source == "system"  # and a later edit in the panel does not undo it


def test_captioning_a_file_disables_the_source_choice(desktop: Any) -> None:
    app = desktop(source=str(speech_wav("beckett.wav")))
    assert not app.tray.mic_action.isEnabled() and not app.tray.mic_action.isChecked()
    assert "beckett.wav" in app.tray.mic_action.toolTip()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_cloud_engine_that_cannot_connect_is_notified_with_its_reason(
    desktop: Any, qtbot: Any, monkeypatch: Any
) -> None:
    secrets.store("assemblyai", "api_key", "test-key-0123456789")
    endpoint = f"ws://127.0.0.1:{_closed_port()}"
    settings = Settings(
        engine="assemblyai", autostart_captions=False, engines={"assemblyai": EngineSettings(endpoint=endpoint)}
    )
    app = desktop(settings, engines={})
    app.controller._retry = RetryPolicy(initial=0.05, maximum=0.1)
    notes: list[tuple[str, str]] = []

    def notify(t: str, m: str, error: bool = False, warning: bool = False) -> bool:
        notes.append((t, m))
        return True

    monkeypatch.setattr(app.tray, "notify", notify)
    app.tray.start_action.trigger()
    qtbot.waitUntil(lambda: "(attempt 3)" in app.controller.state[1], timeout=20000)
    reason = f"Cannot reach AssemblyAI at {endpoint}/v3/ws: "
    assert len(notes) == 1 and notes[0][1].startswith(reason)  # once, not once per attempt
    assert app.overlay.status()[1].startswith(reason)
    assert app.tray.status_text().startswith(reason) and app.tray.status_text() == app.controller.state[1]
