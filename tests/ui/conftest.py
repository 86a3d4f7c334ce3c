"""Qt test set-up: offscreen platform with two screens (one high-DPI), and a qasync loop.

The offscreen platform reads its screens from a JSON file given as a platform
option; the QApplication is created lazily by pytest-qt, after this module is
imported, so every UI test sees the same two screens.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, EngineState, Final, Interim, Status
from captioner.engines.base import Capabilities, Credentials, Engine, EngineFailure, EngineOptions

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
def qloop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync event loop marked as running, driven by Qt's own event processing.

    Tests stay synchronous and wait with ``qtbot.waitUntil``/``waitSignal``: while
    Qt processes events, asyncio tasks and callbacks run too, as in the app.
    """
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            from PySide6.QtCore import QCoreApplication, QDeadlineTimer

            deadline = QDeadlineTimer(5000)
            while any(not t.done() for t in pending) and not deadline.hasExpired():
                QCoreApplication.processEvents()
        # Not loop.stop(): it calls QApplication.exit(), which would end the next test's waits at once.
        loop._QEventLoop__is_running = False  # type: ignore[attr-defined]
        with contextlib.suppress(TypeError, RuntimeError):
            qapp.aboutToQuit.disconnect(loop._after_run_forever)
        loop._after_run_forever()
        asyncio.events._set_running_loop(None)
        loop.close()
        # Collect this test's garbage here, on the GUI thread. Left to chance, a collection may run on a worker
        # thread (one opening a source, say) in a later test, and a Qt object (a QTimer) destroyed there leaves
        # its timer registered with the GUI thread: the next timer event then crashes the process.
        gc.collect()


def run_async(qtbot: Any, loop: asyncio.AbstractEventLoop, coro: Any, timeout: float = 30.0) -> Any:
    """Run ``coro`` as a task on the qasync loop and wait (processing Qt events) for its result."""
    task = loop.create_task(coro)
    qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
    return task.result()


@pytest.fixture
def run(qtbot: Any, qloop: asyncio.AbstractEventLoop) -> Callable[..., Any]:
    return lambda coro, timeout=30.0: run_async(qtbot, qloop, coro, timeout)


# -- a scripted engine: the boundary for controller tests (the controller and session are under test) ------


class FakeEngine(Engine):
    """Names the audio it hears: every chunk updates an interim; every ``per_final`` chunks a final whose text
    lists the chunk start times in ms (``"c0 c50 …"``), so a test sees exactly which audio was captioned."""

    id = "fake"
    name = "Fake engine"
    capabilities = Capabilities(
        sample_rate=16000, interim_results=True, word_boost=True, live_update=True, silence_threshold=True
    )
    per_final = 8
    instances: ClassVar[list[FakeEngine]] = []
    fail_with: ClassVar[EngineFailure | None] = None
    fail_after_chunks = 20

    def __init__(self, options: EngineOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials)
        self.updates: list[EngineOptions] = []
        self.received: list[AudioChunk] = []
        type(self).instances.append(self)

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        yield Status(engine=self.id, state=EngineState.LISTENING, message="ready")
        pending: list[AudioChunk] = []
        line = 0
        async for chunk in audio:
            self.received.append(chunk)
            pending.append(chunk)
            failure = type(self).fail_with
            if failure is not None and len(self.received) >= self.fail_after_chunks:
                type(self).fail_with = None
                raise failure
            text = " ".join(f"c{round(c.start * 1000)}" for c in pending)
            yield Interim(line_id=str(line), text=text, engine=self.id, start=pending[0].start, end=chunk.end)
            if len(pending) >= self.per_final:
                yield Final(line_id=str(line), text=text, engine=self.id, start=pending[0].start, end=chunk.end)
                pending, line = [], line + 1
        if pending:
            text = " ".join(f"c{round(c.start * 1000)}" for c in pending)
            yield Final(line_id=str(line), text=text, engine=self.id, start=pending[0].start, end=pending[-1].end)

    async def update(self, options: EngineOptions) -> bool:
        self.updates.append(options)
        return self.capabilities.live_update


class RestartingEngine(FakeEngine):
    """Cannot apply options live: the session must restart it seamlessly."""

    id = "restarting"
    name = "Restarting engine"
    capabilities = Capabilities(
        sample_rate=16000, interim_results=True, word_boost=True, live_update=False, silence_threshold=True
    )


@pytest.fixture
def fake_engines() -> Iterator[dict[str, type[Engine]]]:
    FakeEngine.instances = []
    RestartingEngine.instances = []
    FakeEngine.fail_with = None
    RestartingEngine.fail_with = None
    yield {"fake": FakeEngine, "restarting": RestartingEngine}
    FakeEngine.fail_with = None
    RestartingEngine.fail_with = None
