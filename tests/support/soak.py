"""The soak harness: the real desktop app captioning a looped recording, sampled at a fixed interval.

:func:`run_soak` builds the app as :func:`captioner.app.main` does (a ``QApplication``, the qasync loop
under ``asyncio.Runner``, :class:`~captioner.ui.desktop.DesktopApp` run until Quit), with the overlay and the
transcript window open and the default engine captioning a :class:`~tests.support.looped_source.LoopedWavSource`
at 1×. It measures, per interval: the process's RSS, CPU (all threads, % of one core), open file
descriptors, the Qt objects reachable from the app (a traversal of every top-level widget, the application
and the app's own QObjects, each counted once), asyncio tasks and threads; the caption lag of every final
(the wall clock when it reached the views against the audio time its line ended); and event-loop stalls,
from a heartbeat timer's lateness. Model loading (start to the first "listening") is kept apart: its
stalls are reported on their own. The result is plain data (:class:`Sample`), so the benchmark prints it
and the CI test asserts on it.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.support.looped_source import LoopedWavSource, looped_opener
from tests.support.stall_trace import StallTracer

HEARTBEAT_MS = 20
"""The heartbeat timer's interval: a stall is how much later than this a beat comes."""
STALL_MS = 100.0
"""A beat later than this is counted as a stall."""


@dataclass(kw_only=True)
class Sample:
    """One interval of the soak (``t`` seconds after the engine started listening; 0 is the end of loading)."""

    t: float
    rss_mb: float
    cpu_pct: float
    fds: int
    qt_objects: int
    tasks: int
    threads: int
    finals: int
    lag_median: float | None
    lag_max: float | None
    stall_max_ms: float
    stalls_over: int
    load1: float


@dataclass(kw_only=True)
class SoakResult:
    """Everything measured: the samples, the loading phase and what the app said meanwhile."""

    samples: list[Sample]
    load_s: float
    load_stall_max_ms: float
    passes: int
    finals: int
    lags: list[tuple[float, float]] = field(default_factory=list)
    """(time since listening, lag) of every final."""
    engines: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    stall_sites: list[tuple[str, str, int]] = field(default_factory=list)
    """(phase, where the GUI thread was, stalls): phase ``loading`` or ``captioning``."""
    starved: dict[str, int] = field(default_factory=dict)
    """phase → times no Python ran for over 100 ms (the GIL held by native code, or no CPU for the process)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SoakResult:
        data = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        samples = [Sample(**s) for s in data.pop("samples")]
        lags = [(float(a), float(b)) for a, b in data.pop("lags")]
        sites = [(str(p), str(w), int(n)) for p, w, n in data.pop("stall_sites", [])]
        return cls(samples=samples, lags=lags, stall_sites=sites, **data)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def qt_object_count(roots: list[Any]) -> int:
    """Distinct QObjects reachable from ``roots``, every top-level widget and every widget (by C++ address)."""
    import shiboken6
    from PySide6.QtCore import QObject
    from PySide6.QtWidgets import QApplication

    seen: set[int] = set()
    for root in (*roots, *QApplication.topLevelWidgets()):
        for obj in (root, *root.findChildren(QObject)):  # findChildren is recursive: every descendant
            if shiboken6.isValid(obj):
                seen.add(shiboken6.getCppPointer(obj)[0])
    for widget in QApplication.allWidgets():  # and any widget that is nobody's descendant
        seen.add(shiboken6.getCppPointer(widget)[0])
    return len(seen)


class Heartbeat:
    """A precise Qt timer; records how late each beat is, into the current interval."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._beat)
        self.last = 0.0
        self.max_ms = 0.0
        self.over = 0

    def start(self) -> None:
        self.last = time.monotonic()
        self.timer.start()

    def _beat(self) -> None:
        now = time.monotonic()
        late = (now - self.last) * 1000 - HEARTBEAT_MS
        self.last = now
        self.max_ms = max(self.max_ms, late)
        if late > STALL_MS:
            self.over += 1

    def take(self) -> tuple[float, int]:
        """The interval's largest lateness (ms) and its count of stalls; starts a new interval."""
        got = (max(0.0, self.max_ms), self.over)
        self.max_ms, self.over = 0.0, 0
        return got


async def _soak(
    qapp: Any,
    wav: Path,
    duration_s: float,
    sample_s: float,
    load_timeout_s: float,
    on_sample: Callable[[Sample], None],
) -> SoakResult:
    from captioner.captions.events import Final
    from captioner.settings import Settings
    from captioner.ui.desktop import DesktopApp

    settings = Settings().with_changes(autostart_captions=True, offer_last_transcript=False)
    opened: list[LoopedWavSource] = []
    app = DesktopApp(settings, source=str(wav), realtime=True, opener=looped_opener(opened), persist=False)
    beat = Heartbeat()
    listening = asyncio.Event()
    states: list[str] = []
    notices: list[str] = []
    lags: list[tuple[float, float]] = []
    engines: set[str] = set()
    interval_lags: list[float] = []
    t_listen = [0.0]

    def on_state(state: str, message: str) -> None:
        states.append(f"{state}: {message}")
        if state == "listening" and not listening.is_set():
            t_listen[0] = time.monotonic()
            listening.set()

    def on_event(event: object) -> None:
        if isinstance(event, Final) and event.end is not None and opened and opened[-1].t0 is not None:
            now = time.monotonic()
            lag = now - (opened[-1].t0 + event.end)
            engines.add(event.engine)
            if listening.is_set():
                lags.append((now - t_listen[0], lag))
                interval_lags.append(lag)

    app.controller.state_changed.connect(on_state)
    app.controller.caption_event.connect(on_event)
    app.controller.notice.connect(notices.append)
    beat.start()
    tracer = StallTracer(lambda: beat.last, HEARTBEAT_MS + STALL_MS)
    tracer.start()
    started = time.monotonic()
    runner = asyncio.ensure_future(app.run())
    await asyncio.sleep(0)
    app.open_transcript()
    try:
        await asyncio.wait_for(listening.wait(), load_timeout_s)
    except TimeoutError:
        app.request_quit()
        await runner
        tracer.stop()
        raise RuntimeError(f"the engine was not listening after {load_timeout_s:.0f} s: {states[-3:]}") from None
    load_s = time.monotonic() - started
    load_stall, _ = beat.take()
    tracer.phase = "captioning"
    interval_lags.clear()
    roots = [qapp, app.controller, app.feed, app.tray, app.shortcut]
    samples: list[Sample] = []
    cpu0, wall0 = cpu_seconds(), time.monotonic()

    def sample(t: float) -> None:
        nonlocal cpu0, wall0
        cpu, wall = cpu_seconds(), time.monotonic()
        stall_max, over = beat.take()
        finals = len(interval_lags)
        samples.append(
            Sample(
                t=round(t, 1),
                rss_mb=round(rss_mb(), 1),
                cpu_pct=round(100 * (cpu - cpu0) / max(1e-9, wall - wall0), 1),
                fds=open_fds(),
                qt_objects=qt_object_count(roots),
                tasks=len(asyncio.all_tasks()),
                threads=threading.active_count(),
                finals=finals,
                lag_median=round(statistics.median(interval_lags), 2) if interval_lags else None,
                lag_max=round(max(interval_lags), 2) if interval_lags else None,
                stall_max_ms=round(stall_max, 1),
                stalls_over=over,
                load1=round(os.getloadavg()[0], 2),
            )
        )
        interval_lags.clear()
        cpu0, wall0 = cpu, wall
        on_sample(samples[-1])

    sample(0.0)
    n = max(1, round(duration_s / sample_s))
    for k in range(1, n + 1):
        await asyncio.sleep(max(0.0, t_listen[0] + k * sample_s - time.monotonic()))
        sample(time.monotonic() - t_listen[0])
        if runner.done():
            break
    beat.timer.stop()
    tracer.stop()
    app.request_quit()
    await runner
    return SoakResult(
        samples=samples,
        load_s=round(load_s, 1),
        load_stall_max_ms=round(load_stall, 1),
        passes=opened[-1].passes if opened else 0,
        finals=len(lags),
        lags=[(round(a, 2), round(b, 3)) for a, b in lags],
        engines=sorted(engines),
        states=states,
        notices=notices,
        stall_sites=[(phase, where, n) for (phase, where), n in tracer.sites.most_common()],
        starved=dict(tracer.starved),
    )


def run_soak(
    wav: Path,
    *,
    duration_s: float,
    sample_s: float,
    load_timeout_s: float = 300.0,
    on_sample: Callable[[Sample], None] = lambda _s: None,
) -> SoakResult:
    """Run the app offscreen for ``duration_s`` after the engine is listening, sampling every ``sample_s``
    (``on_sample`` sees each sample as it is taken)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    qapp = existing if isinstance(existing, QApplication) else QApplication(["captioner-soak"])
    qapp.setQuitOnLastWindowClosed(False)
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
        return runner.run(_soak(qapp, wav, duration_s, sample_s, load_timeout_s, on_sample))
