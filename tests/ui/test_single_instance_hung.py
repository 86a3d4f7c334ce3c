"""A second launch while the desktop app runs (a real app process, offscreen): it hands over at once when the app
answers; when the app is hung (SIGSTOP) the second launch notices within its answer time-out, says so, and asks
whether to start anyway — yes takes the instance name over, no quits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtNetwork import QLocalSocket
from PySide6.QtWidgets import QApplication, QMessageBox

from captioner import app as app_module
from captioner import settings as settings_store
from captioner.settings import Settings
from captioner.ui import lifecycle
from captioner.ui.lifecycle import SingleInstance, instance_name
from tests.support.repo import REPO


def listening(name: str) -> bool:
    probe = QLocalSocket()
    probe.connectToServer(name)
    ok = probe.waitForConnected(200)
    probe.abort()
    return ok


def launch(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [sys.executable, "-m", "captioner.app", "--minimized", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def running_app(qapp: QApplication) -> Iterator[subprocess.Popen[str]]:
    settings_store.save(Settings(autostart_captions=False, offer_last_transcript=False))
    proc = launch()
    try:
        deadline = time.monotonic() + 30
        while not listening(instance_name()):
            assert proc.poll() is None and time.monotonic() < deadline, "the first app did not start"
            time.sleep(0.05)  # polling the app's readiness
        yield proc
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate(timeout=10)


def test_a_second_launch_hands_over_to_the_answering_app_and_exits(running_app: Any) -> None:
    started = time.monotonic()
    second = launch()
    _, err = second.communicate(timeout=30)
    print(f"\nsecond launch, first app answering: exit {second.returncode} in {time.monotonic() - started:.2f} s")
    assert second.returncode == 0 and "already running; showing the captions of the running app" in err
    assert running_app.poll() is None


@pytest.mark.parametrize("start_anyway", [True, False])
def test_a_hung_app_is_noticed_and_the_user_chooses(
    running_app: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], start_anyway: bool
) -> None:
    os.kill(running_app.pid, signal.SIGSTOP)
    guard = SingleInstance(answer_timeout_ms=500)
    started = time.monotonic()
    assert guard.acquire() is False
    noticed = time.monotonic() - started
    with capsys.disabled():
        print(f"\nhung first app noticed in {noticed:.2f} s")
    assert not guard.answered and 0.5 <= noticed < 1.5
    asked: list[bool] = []

    def ask() -> bool:
        asked.append(True)
        return start_anyway

    monkeypatch.setattr(lifecycle, "ask_start_anyway", ask)
    try:
        assert app_module._start_beside_hung(guard) is start_anyway
        assert asked == [True]
        assert "Captioner is already running, but it does not answer" in capsys.readouterr().err
        assert guard.server.isListening() is start_anyway
    finally:
        guard.release()


def test_the_question_starts_anyway_by_default_and_can_quit(qtbot: Any) -> None:
    def answer(button: str) -> None:
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        assert box.text() == lifecycle.HUNG_TEXT
        target = box.defaultButton() if button == "default" else next(b for b in box.buttons() if "Quit" in b.text())
        target.click()

    QTimer.singleShot(50, lambda: answer("default"))
    assert lifecycle.ask_start_anyway() is True
    QTimer.singleShot(50, lambda: answer("quit"))
    assert lifecycle.ask_start_anyway() is False
