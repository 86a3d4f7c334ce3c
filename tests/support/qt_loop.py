"""A qasync event loop for Qt tests that stay synchronous: asyncio work runs while Qt processes events.

:func:`running_qt_loop` makes a ``qasync.QEventLoop`` marked as already running on the
QApplication (as in the app, where Qt's event loop drives asyncio): a test waits with
``qtbot.waitUntil``/``waitSignal`` and, while Qt processes events, asyncio tasks and
callbacks run. :func:`run_async` runs one coroutine to completion that way.

Closing such a loop is the delicate part, and is done only here: qasync's own
``stop()`` calls ``QApplication.exit()``, which outside ``exec()`` makes every later
``QEventLoop.exec()`` (so every ``qtbot.waitSignal``) return at once for the rest of
the test session. So the loop is marked stopped by hand (qasync keeps that flag in a
private attribute), its ``aboutToQuit`` hook is disconnected, and asyncio's
after-run clean-up runs, before the loop is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import qasync
from PySide6.QtCore import QCoreApplication, QDeadlineTimer
from pytestqt.qtbot import QtBot

from captioner.ui.gc_guard import MainThreadCollector

T = TypeVar("T")


@contextlib.contextmanager
def running_qt_loop(qapp: QCoreApplication, cancel_timeout_ms: int = 5000) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop marked as running on ``qapp``; on exit, its pending tasks are cancelled (Qt processes
    events for up to ``cancel_timeout_ms`` while they finish) and the loop is closed."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    collector = MainThreadCollector()  # as the app does: cycles collected on the GUI thread only
    collector.start()
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        deadline = QDeadlineTimer(cancel_timeout_ms)
        while any(not t.done() for t in pending) and not deadline.hasExpired():
            QCoreApplication.processEvents()
        _close(qapp, loop)
        collector.stop()
        gc.collect()  # this test's garbage, here on the GUI thread


def _close(qapp: QCoreApplication, loop: Any) -> None:
    # Not loop.stop(): see the module docstring. qasync keeps "running" in a name-mangled attribute.
    loop._QEventLoop__is_running = False
    with contextlib.suppress(TypeError, RuntimeError):
        qapp.aboutToQuit.disconnect(loop._after_run_forever)
    loop._after_run_forever()
    asyncio.events._set_running_loop(None)
    loop.close()


def run_async(qtbot: QtBot, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
    """Run ``coro`` as a task on the qasync loop and wait (processing Qt events) for its result."""
    task = loop.create_task(coro)
    qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
    return task.result()
