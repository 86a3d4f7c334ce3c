"""Cycles are collected on the GUI thread only while the guard runs: a worker thread never destroys a Qt object."""

from __future__ import annotations

import gc
import threading
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer

from captioner.ui.gc_guard import MainThreadCollector


class Holder:
    """A cycle holding a Qt object (as a closed window's QTimer in a cycle would be)."""

    def __init__(self, where: list[QThread | None]) -> None:
        self.me = self
        self.timer = QTimer()
        self.timer.destroyed.connect(lambda *_: where.append(QThread.currentThread()))


def test_garbage_made_anywhere_is_collected_on_the_gui_thread(qtbot: Any) -> None:
    guard = MainThreadCollector()
    destroyed_in: list[QThread | None] = []
    guard.start()
    try:
        assert not gc.isenabled()
        Holder(destroyed_in)  # now only reachable through its own cycle

        def churn() -> None:  # a worker thread making enough cyclic garbage to cross the collection thresholds
            for _ in range(50_000):
                cycle: list[object] = []
                cycle.append(cycle)

        worker = threading.Thread(target=churn)
        worker.start()
        worker.join()
        assert destroyed_in == []  # no collection ran in the worker
        qtbot.waitUntil(lambda: bool(destroyed_in), timeout=5000)
        assert destroyed_in[0] is QObject().thread()  # the GUI thread collected it
    finally:
        guard.stop()
    assert gc.isenabled()
