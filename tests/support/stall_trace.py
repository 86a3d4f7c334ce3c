"""Where the event loop stalls: a watchdog thread that looks at the GUI thread while a heartbeat is overdue.

:class:`StallTracer` polls every 10 ms; when the GUI thread's heartbeat is more than ``threshold_ms`` overdue it
records, once per stall, the innermost Python frames of the GUI thread (what it is busy with, or the Python
call into the C code that is). When the watchdog itself wakes more than ``threshold_ms`` late, nothing in the
process ran Python for that long: the GIL was held by native code that did not release it, or the whole
process was starved of CPU (a busy machine) — counted apart as ``starved``. The soak reports both, so a stall
comes with its cause rather than only its length.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType

POLL_S = 0.01
FRAMES = 4


def _short(path: str) -> str:
    """A file name relative to site-packages or to the checkout, when it is under one."""
    if "site-packages" + os.sep in path:
        return path.split("site-packages" + os.sep, 1)[1]
    for top in ("captioner", "tests", "benchmarks"):
        marker = os.sep + top + os.sep
        if marker in path:
            return top + os.sep + path.rsplit(marker, 1)[1]
    return os.path.basename(path)


def _where(frame: FrameType | None) -> str:
    """The innermost frames of ``frame``'s stack as ``file:line function`` (innermost first; the import system's
    own frames left out, so that an import shows as the statement that runs it)."""
    parts: list[str] = []
    while frame is not None and len(parts) < FRAMES:
        name = frame.f_code.co_filename
        if not name.startswith("<frozen"):
            parts.append(f"{_short(name)}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(parts)


class StallTracer:
    """Watch ``last_beat()`` (the GUI thread's last heartbeat, ``time.monotonic()``) from a daemon thread."""

    def __init__(self, last_beat: Callable[[], float], threshold_ms: float) -> None:
        self._last_beat = last_beat
        self._threshold = threshold_ms / 1000
        self._gui = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="soak-stall-tracer", daemon=True)
        self.phase = "loading"
        self.sites: collections.Counter[tuple[str, str]] = collections.Counter()
        """(phase, where the GUI thread was) → stalls seen there."""
        self.starved: collections.Counter[str] = collections.Counter()
        """phase → times the watchdog itself woke more than the threshold late."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(1.0)

    def _watch(self) -> None:
        traced = 0.0
        due = time.monotonic() + POLL_S
        while not self._stop.wait(POLL_S):
            now = time.monotonic()
            if now - due > self._threshold:
                self.starved[self.phase] += 1
            due = now + POLL_S
            last = self._last_beat()
            if now - last > self._threshold and last != traced:
                traced = last
                self.sites[(self.phase, _where(sys._current_frames().get(self._gui or 0)))] += 1
