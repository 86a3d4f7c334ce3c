"""Python's garbage collection on the Qt (GUI) thread only.

Python collects reference cycles in whatever thread happens to allocate when a threshold is crossed: with
worker threads (opening a sound device, resolving a host, a model loading) that may be a worker, and a Qt
object found in a cycle there — a ``QTimer`` of a closed window, say — is then destroyed off the thread that
owns it, which leaves its timer registered with the GUI thread and crashes the process at the next timer event
(seen as a segmentation fault in the test suite). So automatic collection is switched off while the app runs
and a light timer on the GUI thread collects instead, by generation, as soon as Python's own thresholds say so
(the well-known recipe for PyQt/PySide applications).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_MS = 500


class MainThreadCollector(QObject):
    """While alive (and started), cycles are collected on the GUI thread only."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)
        self._was_enabled = gc.isenabled()

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()

    def check(self) -> None:
        """Collect the generations whose counts passed their thresholds (as Python itself would)."""
        thresholds = gc.get_threshold()
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return
