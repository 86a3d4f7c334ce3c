"""A live audio level meter, and a monitor that opens an audio source to feed it.

:class:`LevelMonitor` opens the chosen source from a worker thread with the caption controller's opener (the
same way captioning opens it; :func:`captioner.audio.open_source` by default) and, on the running asyncio loop
(the app runs on qasync), emits the level of every chunk; it stops when asked, when the source ends, or on an
error (with a plain-words message).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from typing import Any

from PySide6.QtCore import QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from captioner.audio import AudioError, AudioSource, open_source
from captioner.session.build import SourceOpener

log = logging.getLogger(__name__)

FLOOR_DBFS = -60.0
PEAK_HOLD_S = 1.5


def level_fraction(dbfs: float) -> float:
    """``dbfs`` mapped to 0…1 on a -60…0 dB scale."""
    if math.isnan(dbfs):
        return 0.0
    return min(1.0, max(0.0, (dbfs - FLOOR_DBFS) / -FLOOR_DBFS))


class LevelMeter(QWidget):
    """A horizontal bar: green up to -12 dBFS, amber to -3, red above; with a peak marker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._level = -120.0
        self._peak = -120.0
        self._peak_at = 0.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName("Audio level")
        self.setAccessibleDescription("no sound")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def sizeHint(self) -> QSize:
        return QSize(240, 16)

    def minimumSizeHint(self) -> QSize:
        return QSize(60, 12)

    @property
    def level(self) -> float:
        return self._level

    def set_level(self, dbfs: float) -> None:
        now = time.monotonic()
        self._level = dbfs
        if dbfs >= self._peak or now - self._peak_at > PEAK_HOLD_S:
            self._peak, self._peak_at = dbfs, now
        self.setAccessibleDescription("no sound" if dbfs <= FLOOR_DBFS else f"{dbfs:.0f} dB")
        self.setToolTip(self.accessibleDescription())
        self.update()

    def reset(self) -> None:
        self._peak = -120.0
        self.set_level(-120.0)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(self.palette().mid().color())
        p.setBrush(self.palette().base())
        p.drawRect(r)
        inner = r.adjusted(2, 2, -2, -2)
        frac = level_fraction(self._level)
        if frac > 0:
            color = QColor("#2e7d32" if self._level < -12 else "#f9a825" if self._level < -3 else "#c62828")
            p.fillRect(QRectF(inner.left(), inner.top(), inner.width() * frac, inner.height()), color)
        peak = level_fraction(self._peak)
        if peak > 0:
            x = inner.left() + inner.width() * peak
            p.setPen(self.palette().text().color())
            p.drawLine(int(x), int(inner.top()), int(x), int(inner.bottom()))
        p.end()


class LevelMonitor(QObject):
    """Opens a source and reports its level; one source at a time."""

    level = Signal(float)
    started = Signal(str)
    """The source opened; the argument describes it."""
    stopped = Signal(str)
    """The monitor stopped; the argument is an error message, or ``""`` when stopped normally."""

    def __init__(
        self, parent: QObject | None = None, *, sample_rate: int = 16000, opener: SourceOpener | None = None
    ) -> None:
        super().__init__(parent)
        self.sample_rate = sample_rate
        self.opener = opener
        """How sources are opened: the caption controller's opener, so the test hears what captioning would."""
        self._task: asyncio.Task[None] | None = None
        self._source: AudioSource | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, spec: str, device: str | None = None) -> bool:
        """Monitor ``spec`` (``mic``, ``system`` or a WAV path); ``False`` (and ``stopped``) if it cannot."""
        self.stop()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.stopped.emit("the level test needs the app's event loop, which is not running")
            return False
        self._task = loop.create_task(self._run(spec, device or None))
        return True

    def stop(self) -> None:
        """Stop at once (the source is closed by the task as it unwinds)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()

    async def wait_stopped(self) -> None:
        task = self._task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, spec: str, device: str | None) -> None:
        message = ""
        source: AudioSource | None = None
        try:
            # Off the UI thread: opening a live source may ask the sound server (pactl) and wait for it.
            source = await asyncio.to_thread(self._open, spec, device)
            self._source = source
            self._emit(self.started, source.description or spec)
            async for chunk in source.chunks():
                self._emit(self.level, chunk.rms_dbfs())
        except asyncio.CancelledError:
            pass
        except AudioError as exc:
            message = str(exc)
        except ImportError as exc:
            message = f"this audio source is not available in this build ({exc.name or exc})"
        except Exception as exc:  # never let a device problem escape into Qt
            log.exception("level monitor failed")
            message = f"cannot open the audio source: {exc}"
        finally:
            if source is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(source.close())
            if self._task is asyncio.current_task():
                self._task = None
            if self._task is None:  # not replaced by a newer source: report the stop
                self._source = None
                self._emit(self.level, -120.0)
                self._emit(self.stopped, message)

    def _open(self, spec: str, device: str | None) -> AudioSource:
        if self.opener is not None:
            return self.opener(spec, self.sample_rate, device, True)
        return open_source(spec, self.sample_rate, device=device, realtime=True)

    @staticmethod
    def _emit(signal: Any, value: object) -> None:
        # The owner may already be gone (the dialog closed while the source was shutting down).
        with contextlib.suppress(RuntimeError):
            signal.emit(value)
