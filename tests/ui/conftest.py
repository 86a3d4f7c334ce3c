"""Qt test set-up: offscreen platform with two screens (one high-DPI), and a qasync loop.

The offscreen platform reads its screens from a JSON file given as a platform
option; the QApplication is created lazily by pytest-qt, after this module is
imported, so every UI test sees the same two screens.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from captioner.engines.base import Engine
from tests.support.qt_loop import run_async, running_qt_loop
from tests.support.scripted_engine import FakeEngine, RestartingEngine, ui_script
from tests.support.xdisplay import any_wm, xvfb_wm  # noqa: F401  (fixtures: Xvfb + window manager + xcompmgr)

SCREENS = {
    "synchronousWindowSystemEvents": True,
    "windowFrameMargins": False,
    "screens": [
        {"name": "Main", "x": 0, "y": 0, "width": 1920, "height": 1080, "logicalDpi": 96, "dpr": 1},
        {"name": "Laptop", "x": 1920, "y": 0, "width": 1280, "height": 800, "logicalDpi": 96, "dpr": 2},
    ],
}

if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    _cfg = Path(tempfile.gettempdir()) / f"captioner-test-screens-{os.getpid()}.json"
    _cfg.write_text(json.dumps(SCREENS))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_cfg}"


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync event loop marked as running, driven by Qt's own event processing.

    Tests stay synchronous and wait with ``qtbot.waitUntil``/``waitSignal``: while
    Qt processes events, asyncio tasks and callbacks run too, as in the app.
    """
    with running_qt_loop(qapp) as loop:
        yield loop


@pytest.fixture
def run(qtbot: QtBot, qloop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    """``run(coro, timeout=30.0)``: run ``coro`` on the qasync loop and return its result."""
    return lambda coro, timeout=30.0: run_async(qtbot, qloop, coro, timeout)


@pytest.fixture
def fake_engines() -> dict[str, type[Engine]]:
    """The scripted engines of the UI tests (``"fake"``, ``"restarting"``), each with a fresh script."""
    FakeEngine.script = ui_script()
    RestartingEngine.script = ui_script(live_update=False)
    return {"fake": FakeEngine, "restarting": RestartingEngine}


def _fast_file(spec: str, rate: int, device: str | None, realtime: bool) -> Any:
    from captioner.audio.file import WavFileSource

    return WavFileSource(spec, rate, realtime=True, speed=4.0)


@pytest.fixture
def desktop(qtbot: Any, qloop: asyncio.AbstractEventLoop, fake_engines: Any, run: Any) -> Iterator[Any]:
    """``make(settings=None, **kw)``: a started DesktopApp on the fake engines, captioning the Beckett recording at
    4x (by default not at start-up); every app made is shut down after the test."""
    from captioner.settings import Settings
    from captioner.ui.desktop import DesktopApp
    from tests.support.speech import speech_wav

    apps: list[DesktopApp] = []

    def make(settings: Settings | None = None, **kw: Any) -> DesktopApp:
        s = settings or Settings(engine="fake", autostart_captions=False)
        app = DesktopApp(s, source=str(speech_wav("beckett.wav")), engines=fake_engines, opener=_fast_file, **kw)
        apps.append(app)
        app.start()
        return app

    yield make
    for app in apps:
        run(app.shutdown())
