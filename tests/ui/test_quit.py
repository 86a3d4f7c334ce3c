"""Quitting takes under a second in every state, and the transcript is still flushed.

States: an engine waiting to reconnect (tray Quit on the real DesktopApp, and SIGTERM to the real app process
with AssemblyAI pointed at a closed port), an engine too slow to finalise its last words, and a source still
opening. The scripted engine (``tests/support/scripted_engine.py``) stands in for the cloud service.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from captioner.audio.file import WavFileSource
from captioner.captions.transcript import load_autosave
from captioner.engines.base import EngineFailure
from captioner.session.session import RetryPolicy
from captioner.settings import Appearance, Settings
from captioner.ui.controller import CaptionController
from captioner.ui.desktop import DesktopApp
from captioner.ui.lifecycle import instance_name
from tests.support.scripted_engine import Script, ScriptedEngine
from tests.support.speech import speech_wav

REPO = Path(__file__).resolve().parents[2]
QUIT_S = 1.0


@pytest.fixture
def script() -> Iterator[Script]:
    ScriptedEngine.script = Script()
    yield ScriptedEngine.script
    ScriptedEngine.script = Script()


def paced(spec: str, rate: int, device: str | None, realtime: bool) -> WavFileSource:
    return WavFileSource(speech_wav("beckett.wav"), rate, realtime=True, speed=4.0)


def always_failing(script: Script) -> None:
    """Every engine session fails after a few chunks, as when the network is gone (one final first)."""
    script.fail_at_chunk = {i: EngineFailure("cannot reach the server: no route", retryable=True) for i in range(50)}
    script.fail_after = 6


def test_tray_quit_while_reconnecting_takes_under_a_second(qtbot: Any, qloop: Any, run: Any, script: Script) -> None:
    always_failing(script)
    app = DesktopApp(
        Settings(engine="scripted", autostart_captions=False, appearance=Appearance(clear_after_s=0)),
        source=str(speech_wav("beckett.wav")),
        engines={"scripted": ScriptedEngine},
        opener=paced,
        persist=False,
    )
    app.controller._retry = RetryPolicy(initial=30.0)  # the long wait of a real outage
    task = qloop.create_task(app.run())
    app.tray.start_action.trigger()
    qtbot.waitUntil(lambda: "(attempt 1)" in app.controller.state[1], timeout=10000)
    t0 = time.monotonic()
    app.tray.quit_action.trigger()
    qtbot.waitUntil(task.done, timeout=20000)
    elapsed = time.monotonic() - t0
    assert task.result() == 0
    assert elapsed < QUIT_S, f"quit took {elapsed:.2f} s"
    saved = app.controller.transcript.autosave_path
    assert saved is not None
    committed = [line.text for line in app.controller.transcript.finals]
    assert committed and [line.text for line in load_autosave(saved)] == committed  # flushed to the autosave


def test_quit_while_the_engine_is_slow_to_finalise_commits_what_was_shown(
    qtbot: Any, qloop: Any, run: Any, script: Script
) -> None:
    script.pace = 0.5  # the engine reads at half real time: it is far behind when asked to stop
    script.per_final = 10_000  # everything it heard is still an interim line
    c = CaptionController(
        Settings(engine="scripted"),
        source=str(speech_wav("beckett.wav")),
        engines={"scripted": ScriptedEngine},
        opener=paced,
    )
    c.start()
    qtbot.waitUntil(lambda: bool(c.transcript.live) and len(c.transcript.live[0].text) > 20, timeout=10000)
    t0 = time.monotonic()
    run(c.shutdown())
    assert time.monotonic() - t0 < QUIT_S
    assert not c.running and not c.transcript.live
    shown = c.transcript.finals[-1].text
    assert shown.startswith("c0 ") and len(shown.split()) >= 5  # the words shown when Quit came
    saved = c.transcript.autosave_path
    assert saved is not None and [line.text for line in load_autosave(saved)] == [shown]


def test_quit_while_the_source_is_still_opening(qtbot: Any, qloop: Any, run: Any, script: Script) -> None:
    release = threading.Event()

    def slow(spec: str, rate: int, device: str | None, realtime: bool) -> WavFileSource:
        release.wait(10)  # a sound server that takes its time to answer
        return paced(spec, rate, device, realtime)

    c = CaptionController(Settings(engine="scripted", source="mic"), engines={"scripted": ScriptedEngine}, opener=slow)
    c.start()
    qtbot.waitUntil(lambda: c.running, timeout=2000)
    t0 = time.monotonic()
    try:
        run(c.shutdown())
        assert time.monotonic() - t0 < QUIT_S
        assert not c.running
    finally:
        release.set()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sigterm_while_a_cloud_engine_reconnects_quits_in_under_a_second(tmp_path: Path) -> None:
    """The real app process, AssemblyAI pointed at a closed port: it waits to reconnect when SIGTERM comes."""
    from PySide6.QtNetwork import QLocalSocket

    config = Path(os.environ["CAPTIONER_CONFIG_DIR"])
    config.mkdir(parents=True, exist_ok=True)
    endpoint = f"ws://127.0.0.1:{_closed_port()}"
    saved = {"version": 1, "engine": "assemblyai", "engines": {"assemblyai": {"endpoint": endpoint}}}
    (config / "settings.json").write_text(json.dumps(saved))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO), ASSEMBLYAI_API_KEY="test-key-0123")
    wav = speech_wav("beckett.wav")
    proc = subprocess.Popen(
        [sys.executable, "-m", "captioner.app", "--source", str(wav)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        up = False
        while not up and time.monotonic() < deadline and proc.poll() is None:
            probe = QLocalSocket()
            probe.connectToServer(instance_name())
            up = probe.waitForConnected(200)
            probe.abort()
        assert up, "the app did not start"
        time.sleep(5.5)  # four failed attempts: it now waits 4 s (then 8 s) before the next one
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert elapsed < QUIT_S, f"SIGTERM to exit took {elapsed:.2f} s"


QUIT_WHILE_OPENING = """
import asyncio, sys, threading, time
import qasync
from PySide6.QtWidgets import QApplication
from captioner.audio.file import WavFileSource
from captioner.settings import Settings
from captioner.ui.desktop import DesktopApp
from tests.support.scripted_engine import ScriptedEngine

def stuck(spec, rate, device, realtime):
    threading.Event().wait(20)  # a sound server that never answers

qapp = QApplication([])
async def main():
    app = DesktopApp(Settings(engine="scripted", source="mic"), engines={"scripted": ScriptedEngine},
                     opener=stuck, persist=False)
    asyncio.get_running_loop().call_later(1.0, app.request_quit)
    return await app.run()
with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
    t0 = time.monotonic()
    code = runner.run(main())
t1 = time.monotonic()
print(f"{t1 - t0 - 1.0:.3f}", flush=True)
sys.exit(code)
"""


def test_a_source_that_never_opens_does_not_hold_the_quit(tmp_path: Path) -> None:
    """The app's own loop set-up (as in ``captioner.app``): the thread stuck opening the source is not waited for."""
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", QUIT_WHILE_OPENING],
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    total = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    quit_s = float(proc.stdout.split()[-1])
    assert quit_s < QUIT_S, f"quit took {quit_s:.2f} s"
    assert total < 15  # the process ended too, without waiting for the stuck thread's 20 s
