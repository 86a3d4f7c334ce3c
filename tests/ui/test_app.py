"""The whole desktop app: real local engine, real speech, real overlay; app.main as a process; platform notes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from captioner import paths
from captioner.app import main
from captioner.captions.transcript import load_autosave
from captioner.settings import Appearance, Settings
from captioner.ui.desktop import DesktopApp
from captioner.ui.lifecycle import SingleInstance, instance_name
from captioner.ui.platform import describe, prepare_environment, wayland_session
from tests.support.speech import TRANSCRIPTS, speech_wav, wer

REPO = Path(__file__).resolve().parents[2]


def test_full_app_captions_real_speech_into_the_overlay(qtbot: Any, qloop: Any, run: Any) -> None:
    """Local engine (PocketSphinx), the Beckett recording, the real controller, overlay and tray."""
    settings = Settings(engine="local", appearance=Appearance(lines=3, clear_after_s=0))
    app = DesktopApp(settings, source=str(speech_wav("beckett.wav")), realtime=False, exit_when_done=True)
    seen: list[list[tuple[str, bool]]] = []
    app.controller.change.connect(lambda _c: seen.append(app.overlay.visible_lines()))
    app.start()
    try:
        qtbot.waitUntil(app.quit_requested.is_set, timeout=90000)  # the file ended and everything was flushed
        shown = app.overlay.visible_lines()
        assert shown and shown[-1][1] is True  # the last caption is committed and on screen
        assert any(not is_final for rows in seen for _, is_final in rows)  # interim text was shown while speaking
        text = " ".join(line.text for line in app.controller.transcript.finals)
        assert wer(TRANSCRIPTS["beckett.wav"], text) < 0.8, text
        overlay_words = " ".join(t for t, _ in shown).lower().split()
        assert set(overlay_words) <= set(text.lower().split())
        assert app.overlay.status()[0] == "stopped"
    finally:
        run(app.shutdown())
    saved = app.controller.transcript.autosave_path
    assert saved is not None and [line.text for line in load_autosave(saved)] == [
        line.text for line in app.controller.transcript.finals
    ]


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        CAPTIONER_CONFIG_DIR=os.environ["CAPTIONER_CONFIG_DIR"],
        CAPTIONER_DATA_DIR=os.environ["CAPTIONER_DATA_DIR"],
        CAPTIONER_LOG_DIR=os.environ["CAPTIONER_LOG_DIR"],
        PYTHONPATH=str(REPO),
    )
    return env


def test_app_main_runs_a_file_to_the_end_and_exits_cleanly(tmp_path: Path) -> None:
    wav = speech_wav("beckett.wav")
    proc = subprocess.run(
        [sys.executable, "-m", "captioner.app", "--source", str(wav), "--no-realtime", "--exit-when-done"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    autosave = paths.latest_autosave()
    assert autosave is not None and load_autosave(autosave)
    assert (Path(os.environ["CAPTIONER_CONFIG_DIR"]) / "settings.json").is_file()  # settings persisted at quit


def test_app_survives_a_missing_microphone_and_quits_on_sigterm(tmp_path: Path, qapp: Any) -> None:
    """`captioner --minimized` with no sound card: the mic fails to open; the app stays up; SIGTERM quits it."""
    from PySide6.QtCore import QDeadlineTimer
    from PySide6.QtNetwork import QLocalSocket

    proc = subprocess.Popen(
        [sys.executable, "-m", "captioner", "--minimized"],  # the `captioner` command, no sub-command
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = QDeadlineTimer(30000)
        up = False
        while not up and not deadline.hasExpired() and proc.poll() is None:
            probe = QLocalSocket()
            probe.connectToServer(instance_name())
            up = probe.waitForConnected(200)
            probe.abort()
        assert up, "the app did not start"
        assert proc.poll() is None  # still alive after the microphone error
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_bad_arguments_are_a_one_line_error() -> None:
    assert main(["--source", "/no/such/file.wav"]) == 2
    assert main(["--no-such-option"]) == 2


def test_single_instance_hands_over_to_the_running_app(qtbot: Any) -> None:
    first = SingleInstance("captioner-test-instance")
    activated: list[bool] = []
    first.on_activate = lambda: activated.append(True)
    assert first.acquire()
    try:
        second = SingleInstance("captioner-test-instance", answer_timeout_ms=50)  # one thread: no answer in time
        assert not second.acquire()
        qtbot.waitUntil(lambda: bool(activated), timeout=3000)
    finally:
        first.release()


@pytest.mark.parametrize(
    ("env", "force", "expect"),
    [
        ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, True, "xcb"),
        ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, False, None),
        ({"WAYLAND_DISPLAY": "wayland-0"}, True, None),  # no XWayland server
        ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"}, True, "wayland"),
        ({"DISPLAY": ":0"}, True, None),  # X11 session: nothing to do
    ],
)
def test_xwayland_fallback(env: dict[str, str], force: bool, expect: str | None) -> None:
    e = dict(env)
    prepare_environment(force, e)
    assert e.get("QT_QPA_PLATFORM") == expect


def test_platform_notes_tell_what_works_on_wayland() -> None:
    notes = describe("wayland", {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"})
    assert notes.wayland and not notes.stay_on_top and notes.click_through
    assert "XWayland" in notes.message and "click-through works" in notes.message
    assert describe("xcb", {}).message == ""
    assert wayland_session({"XDG_SESSION_TYPE": "wayland"})
