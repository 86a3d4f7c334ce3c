"""The autosave file: an append-only JSON-lines file that survives a crash, written without blocking the caller.

Each record is written and flushed to the operating system at once (so a killed process loses nothing that was
shown), and a background thread then ``fsync``s the file so that a power cut loses at most the last moment. The
caller (the transcript, on the event-loop or Qt thread) never waits for the disk. A write error (full disk,
read-only folder) is kept in :attr:`AutosaveFile.error` rather than raised, also when closing: captioning goes
on, and ``on_error`` is told once, in words for the user. Each later record is tried again (space may be freed).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


class AutosaveFile:
    """Appends lines to ``path``; :meth:`close` syncs and closes it."""

    def __init__(self, path: Path, *, on_error: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.on_error = on_error
        """Called once, on the writer's thread, with a message for the user when writing first fails."""
        self.error: OSError | None = None
        self._file: IO[str] | None = None
        self._dirty = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._syncer: threading.Thread | None = None

    def append(self, line: str) -> None:
        """Write one record (a line without its newline)."""
        try:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
                self._syncer = threading.Thread(target=self._sync_loop, name="captioner-autosave", daemon=True)
                self._syncer.start()
            with self._lock:
                self._file.write(line + "\n")
                self._file.flush()
            self._dirty.set()
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        first = self.error is None
        self.error = exc
        if not first:
            return
        why = exc.strerror or str(exc)
        message = f"the transcript cannot be saved ({why}); captions go on. It was to be kept in {self.path}"
        if self.on_error is None:
            log.warning("%s", message)
            return
        log.info("%s", message)
        try:
            self.on_error(message)
        except Exception:  # a view's failure must not stop the captions
            log.exception("autosave error handler failed")

    def _sync_loop(self) -> None:
        while True:
            self._dirty.wait()
            self._dirty.clear()
            with self._lock:
                f = self._file
                if f is None:
                    return
                try:
                    os.fsync(f.fileno())
                except (OSError, ValueError) as exc:
                    log.debug("autosave fsync failed: %s", exc)
            if self._closed:
                return

    def close(self) -> None:
        """Sync and close (idempotent)."""
        self._closed = True
        with self._lock:
            f, self._file = self._file, None
            if f is not None:
                try:
                    f.flush()
                    os.fsync(f.fileno())
                except OSError as exc:
                    self._failed(exc)
                finally:
                    try:
                        f.close()  # flushes what a full disk held back: may fail again
                    except OSError as exc:
                        self._failed(exc)
        self._dirty.set()
        if self._syncer is not None:
            self._syncer.join(timeout=1.0)
