"""The desktop app with the cloud engines, against the fake servers on 127.0.0.1.

A real :class:`DesktopApp` (controller, session, overlay, tray, settings dialog) with a WAV source paced at 1×.
Everything a user does goes through the settings dialog's widgets: picking the engine, typing the endpoint,
the key or client credentials (into the in-memory test keyring), word boost, silence threshold and the
Advanced page. The fakes are the ones the engine tests use (``tests/assemblyai``, ``tests/uhlive``).
"""

from __future__ import annotations

import json
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from captioner import secrets
from captioner import settings as S
from captioner.audio.base import to_pcm16
from captioner.audio.file import read_wav
from captioner.engines.assemblyai.config import silence_mapping
from captioner.engines.assemblyai.errors import REJECTED_KEY
from captioner.ui.desktop import DesktopApp
from captioner.ui.settings.dialog import SettingsDialog
from tests.support.fakes.assemblyai import FakeAssemblyAI, make_turn
from tests.support.fakes.uhlive import FakeConversationServer, FakeH2BServer, FakeTokenServer, tone_wav

KEY = "good-key-0123456789abcdef"
SCRIPT = (
    make_turn(0.10, "hello world", "Hello world."),
    make_turn(2.00, "good morning everyone", "Good morning, everyone."),
)
TONES = [(0, 0.2), (400, 0.5), (0, 0.8), (700, 0.6), (0, 0.8)]  # two utterances, 2.9 s


def noise_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    """Low noise with unique content (the AssemblyAI fake locates frames in it; its words are scripted)."""
    samples = (np.random.default_rng(3).standard_normal(int(seconds * rate)) * 2000).clip(-32768, 32767)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def words(text: str) -> list[str]:
    return "".join(c for c in text.lower() if c.isalnum() or c.isspace()).split()


class Shown:
    """Every overlay state the user saw: rows as (text, is_final)."""

    def __init__(self, app: DesktopApp) -> None:
        self.app = app
        self.seen: list[list[tuple[str, bool]]] = []
        app.controller.change.connect(lambda _c: self.seen.append(app.overlay.visible_lines()))

    def interim_seen(self) -> bool:
        return any(not final and text for rows in self.seen for text, final in rows)

    def finals_now(self) -> list[str]:
        return [text for text, final in self.app.overlay.visible_lines() if final]


@pytest.fixture
def make_app(qtbot: Any, qloop: Any, run: Callable[..., Any]) -> Iterator[Callable[[Path], DesktopApp]]:
    apps: list[DesktopApp] = []

    def make(source: Path) -> DesktopApp:
        settings = S.Settings(
            autostart_captions=False,
            offer_last_transcript=False,
            appearance=S.Appearance(lines=4, clear_after_s=0),
        )
        app = DesktopApp(settings, source=str(source))
        app.start()
        apps.append(app)
        return app

    yield make
    for app in apps:
        run(app.shutdown())


def open_dialog(app: DesktopApp) -> SettingsDialog:
    d = app.open_settings()
    assert isinstance(d, SettingsDialog)
    return d


def choose_engine(qtbot: Any, d: SettingsDialog, engine_id: str, endpoint: str) -> None:
    """Pick the engine and type its endpoint, as a user does; wait until the app has the new settings."""
    d.engine_page.picker.setCurrentIndex(d.engine_page.picker.findData(engine_id))
    edit = d.engine_page.panels[engine_id].endpoint
    edit.clear()
    with qtbot.waitSignal(d.settings_changed, timeout=3000):
        qtbot.keyClicks(edit, endpoint)


def type_secret(qtbot: Any, d: SettingsDialog, engine_id: str, field: str, value: str) -> None:
    edit = d.engine_page.panels[engine_id].credentials[field].edit
    qtbot.keyClicks(edit, value)
    qtbot.keyClick(edit, Qt.Key.Key_Return)  # stored in the keyring, the field cleared
    assert edit.text() == ""


def start_and_wait_done(qtbot: Any, app: DesktopApp, timeout_s: float = 20) -> None:
    app.tray.start_action.trigger()
    qtbot.waitUntil(lambda: app.controller.running, timeout=3000)
    qtbot.waitUntil(lambda: not app.controller.running, timeout=int(timeout_s * 1000))


# -- (1) AssemblyAI: pick it, captions, live edits on the same connection -------------------------


def test_assemblyai_in_the_app_live_edits_reach_the_same_connection(
    tmp_path: Path, qtbot: Any, run: Callable[..., Any], make_app: Callable[[Path], DesktopApp]
) -> None:
    wav = noise_wav(tmp_path / "noise-4s.wav", 4.0)
    ref = to_pcm16(read_wav(wav)[0])
    fake = run(FakeAssemblyAI(keys=(KEY,), script=SCRIPT, reference_pcm=ref).start())
    try:
        app = make_app(wav)
        shown = Shown(app)
        d = open_dialog(app)
        choose_engine(qtbot, d, "assemblyai", fake.url)
        type_secret(qtbot, d, "assemblyai", "api_key", KEY)
        assert secrets.load("assemblyai", "api_key") == KEY
        assert app.settings.engine == "assemblyai" and app.settings.engines["assemblyai"].endpoint == fake.url

        app.tray.start_action.trigger()
        qtbot.waitUntil(shown.interim_seen, timeout=10000)  # live interim text in the overlay
        assert len(fake.connections) == 1
        conn = fake.connections[0]
        assert conn.headers.get("Authorization") == KEY  # the key came from the keyring
        assert "keyterms_prompt" not in conn.params

        # While it runs: word boost and silence threshold in the Captions page.
        wb = d.captions_page.word_boost
        with qtbot.waitSignal(d.settings_changed, timeout=3000):
            qtbot.keyClicks(wb.entry, "Kubernetes")
            qtbot.keyClick(wb.entry, Qt.Key.Key_Return)
        with qtbot.waitSignal(d.settings_changed, timeout=3000):
            d.captions_page.silence.setValue(1000)
        lo, hi = silence_mapping(1000)
        # Each live update carries what changed (the word boost, then the silences).
        qtbot.waitUntil(
            lambda: (
                any(u.get("keyterms_prompt") == ["Kubernetes"] for u in conn.updates)
                and any((u.get("min_turn_silence"), u.get("max_turn_silence")) == (lo, hi) for u in conn.updates)
            ),
            timeout=5000,
        )
        # End-of-turn confidence in the Advanced page: AssemblyAI applies it live too (UpdateConfiguration).
        field = d.advanced_page.panel("assemblyai").fields["end_of_turn_confidence_threshold"]
        with qtbot.waitSignal(d.settings_changed, timeout=3000):
            qtbot.keyClicks(field.edit, "0.8")
        qtbot.waitUntil(
            lambda: any(u.get("end_of_turn_confidence_threshold") == 0.8 for u in conn.updates), timeout=5000
        )
        assert app.controller.running and app.settings.engines["assemblyai"].extra == {
            "end_of_turn_confidence_threshold": "0.8"
        }

        qtbot.waitUntil(lambda: not app.controller.running, timeout=15000)  # the file ended, last words flushed
        # The same connection carried all the audio, byte for byte: no reconnect, no gap, nothing twice.
        assert len(fake.connections) == 1
        assert bytes(conn.audio) == ref
        assert conn.terminate_received
        assert app.controller.transcript.finals and [line.text for line in app.controller.transcript.finals] == [
            "Hello world.",
            "Good morning, everyone.",
        ]
        assert shown.finals_now() == ["Hello world. Good morning, everyone."]
        assert app.overlay.status()[0] == "stopped"
    finally:
        run(fake.stop())
    # Saved settings hold the advanced option and the endpoint, never the key.
    app.save_settings()
    saved = S.settings_path().read_text()
    assert KEY not in saved
    data = json.loads(saved)
    assert data["engines"]["assemblyai"]["extra"] == {"end_of_turn_confidence_threshold": "0.8"}


# -- (2) Uhlive Conversation, then Uhlive H2B ------------------------------------------------------


def test_uhlive_and_uhlive_h2b_in_the_app(
    tmp_path: Path, qtbot: Any, run: Callable[..., Any], make_app: Callable[[Path], DesktopApp]
) -> None:
    wav = tone_wav(tmp_path / "tones.wav", TONES)
    with FakeTokenServer() as tokens:
        conversation = FakeConversationServer(tokens.issued)
        h2b = FakeH2BServer(tokens.issued)
        run(conversation.__aenter__())
        run(h2b.__aenter__())
        try:
            app = make_app(wav)
            d = open_dialog(app)

            # Stream Conversation: endpoint, token endpoint (Advanced page), client id and secret (keyring).
            shown = Shown(app)
            choose_engine(qtbot, d, "uhlive", conversation.url)
            auth = d.advanced_page.panel("uhlive").fields["auth_endpoint"]
            with qtbot.waitSignal(d.settings_changed, timeout=3000):
                qtbot.keyClicks(auth.edit, tokens.url)
            assert app.settings.engines["uhlive"].extra == {"auth_endpoint": tokens.url}
            type_secret(qtbot, d, "uhlive", "client_id", tokens.client_id)
            type_secret(qtbot, d, "uhlive", "client_secret", tokens.client_secret)
            assert "does not support word boost" in d.captions_page.word_boost.note_label.text()
            assert d.captions_page.silence_note.isVisibleTo(d.captions_page)  # "does not let Captioner set this"

            start_and_wait_done(qtbot, app)
            assert app.overlay.status()[0] == "stopped", app.overlay.status()
            assert shown.interim_seen()
            assert [words(line.text) for line in app.controller.transcript.finals] == [
                ["hello", "world"],
                ["good", "morning", "everyone"],
            ]
            assert words(" ".join(shown.finals_now()))[-3:] == ["good", "morning", "everyone"]
            assert tokens.requests and tokens.requests[0]["client_id"] == tokens.client_id
            assert len(conversation.connections) == 1

            # Stream H2B: same account (credentials already in the keyring), its own endpoints.
            shown = Shown(app)
            choose_engine(qtbot, d, "uhlive-h2b", h2b.url)
            panel = d.engine_page.panels["uhlive-h2b"]
            assert "saved in the system keyring" in panel.credentials["client_secret"].edit.placeholderText()
            assert "does not support word boost" in d.captions_page.word_boost.note_label.text()
            fields = d.advanced_page.panel("uhlive-h2b").fields
            with qtbot.waitSignal(d.settings_changed, timeout=3000):
                qtbot.keyClicks(fields["auth_endpoint"].edit, tokens.url)
            with qtbot.waitSignal(d.settings_changed, timeout=3000):
                qtbot.keyClicks(fields["no_input_timeout"].edit, "45000")
            start_and_wait_done(qtbot, app)
            assert app.overlay.status()[0] == "stopped", app.overlay.status()
            h2b_finals = [words(line.text) for line in app.controller.transcript.finals][2:]
            assert h2b_finals == [["hello", "world"], ["good", "morning", "everyone"]]
            assert words(" ".join(shown.finals_now()))[-3:] == ["good", "morning", "everyone"]
            assert len(h2b.connections) == 1
            params = h2b.connections[0].params
            assert params["no_input_timeout"] == 45000  # the Advanced page reached SET-PARAMS
            assert params["speech_complete_timeout"] == app.settings.silence_ms
        finally:
            run(h2b.__aexit__(None, None, None))
            run(conversation.__aexit__(None, None, None))


# -- (3) a bad key --------------------------------------------------------------------------------


def test_bad_key_shows_the_refusal_and_the_app_neither_retries_nor_dies(
    tmp_path: Path, qtbot: Any, run: Callable[..., Any], make_app: Callable[[Path], DesktopApp]
) -> None:
    wav = noise_wav(tmp_path / "noise-3s.wav", 3.0)
    fake = run(FakeAssemblyAI(keys=(KEY,), script=SCRIPT[:1], reference_pcm=to_pcm16(read_wav(wav)[0])).start())
    try:
        app = make_app(wav)
        d = open_dialog(app)
        choose_engine(qtbot, d, "assemblyai", fake.url)
        type_secret(qtbot, d, "assemblyai", "api_key", "wrong-key")
        errors: list[str] = []
        app.controller.error.connect(errors.append)

        app.tray.start_action.trigger()
        qtbot.waitUntil(lambda: app.overlay.status()[0] == "error", timeout=10000)
        _state, message = app.overlay.status()
        assert REJECTED_KEY in message and "Check the key" in message
        assert errors == [message]
        qtbot.waitUntil(lambda: not app.controller.running, timeout=5000)  # the session is over: nothing retries
        # Refused twice in a row (the first time may be transient): final, never retried after that.
        assert [c.close_code for c in fake.connections] == [1008, 1008]
        assert not any(c.audio for c in fake.connections)

        # The app lives on: the user fixes the key in the same dialog and starts again.
        type_secret(qtbot, d, "assemblyai", "api_key", KEY)
        start_and_wait_done(qtbot, app)
        assert [line.text for line in app.controller.transcript.finals] == ["Hello world."]
        assert app.overlay.status()[0] == "stopped"
        assert len(fake.connections) == 3
    finally:
        run(fake.stop())
