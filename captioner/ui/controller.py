"""The one bridge between the caption session (asyncio) and the Qt widgets.

:class:`CaptionController` builds a :class:`~captioner.session.session.Session` from the
settings (audio source, engine from the registry, credentials from the keyring
or environment), runs it as a task on the qasync loop, and re-emits what
happens as Qt signals. Widgets never touch audio or engines.

* Word boost, silence threshold, language, endpoint: ``Session.update_options`` (live, or a seamless restart).
* Engine, source or device: the session is stopped (its last words flushed) and a new one started on the same
  :class:`~captioner.captions.transcript.Transcript`.
* Source "both" (meeting mode, :mod:`captioner.ui.meeting_runner`): two sessions, "You" and "Others", on that
  one transcript; the state text names a source that stopped, lags or reconnects while the other goes on.
* Every failure becomes an ``error`` signal with what to do next; the app lives on. While a cloud engine
  reconnects, its reason ("cannot reach AssemblyAI at …: its name could not be looked up …") is in the state text,
  whole, and a ``trouble`` signal (one per distinct reason) asks for a notification.
* The state text names the source and the engine ("Listening · Microphone · Local (offline)").
* Quitting takes well under a second in every state (:data:`QUIT_TIMEOUT_S`): what the engine has not
  finalised by then is committed as it stands, so the transcript keeps every word shown.
* The ``change`` signal carries what views show: with ``filter_profanity`` on, profane words masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from captioner import paths
from captioner.audio.base import AudioError
from captioner.captions.events import (
    AudioLevel,
    CaptionEvent,
    EngineError,
    EngineState,
    Final,
    Interim,
    Notice,
    SpeechStarted,
    Status,
)
from captioner.captions.profanity import mask_change, mask_event
from captioner.captions.transcript import Change, Transcript
from captioner.engines.base import Engine, EngineFailure
from captioner.session.build import (
    Plan,
    SessionRequest,
    SetupError,
    SourceOpener,
    app_hint,
    audio_hint,
    engine_name,
)
from captioner.session.meeting import MeetingPlan
from captioner.session.session import RetryPolicy, Session
from captioner.settings import Settings
from captioner.ui import status_text
from captioner.ui.controller_setup import engine_options, open_live, pipeline_key, prepare_any
from captioner.ui.meeting_runner import MeetingFailed, MeetingRunner

if TYPE_CHECKING:
    from captioner.ui.settings.level_meter import LevelMonitor

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 3.0  # stop or restart: how long the engine may take to finalise its last words
QUIT_TIMEOUT_S = 0.5  # quit: the same, with the whole quit kept well under a second


class CaptionController(QObject):
    """Owns the running session; emits its changes and events as Qt signals."""

    change = Signal(object)  # captioner.captions.transcript.Change
    caption_event = Signal(object)  # every caption event but audio levels (for views of events: the caption feed)
    state_changed = Signal(str, str)  # state (idle/connecting/listening/reconnecting/error/stopped), text
    level = Signal(float)  # dBFS
    lag = Signal(float)  # seconds captions are behind the audio
    error = Signal(str)  # a failure the user must act on, with what to do
    notice = Signal(str)  # a passing note (word boost unsupported, dropped audio…)
    trouble = Signal(str)  # captions are interrupted but the session keeps trying: why (once per reason)
    warning = Signal(str)  # captions go on, but something the user relies on does not (the autosave): once
    running_changed = Signal(bool)

    def __init__(
        self,
        settings: Settings,
        *,
        transcript: Transcript | None = None,
        source: str | None = None,
        realtime: bool = True,
        engines: Mapping[str, type[Engine]] | None = None,
        opener: SourceOpener | None = None,
        retry: RetryPolicy | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings
        self.transcript = transcript or Transcript(autosave=paths.new_autosave_path(), many_runs=True)
        self.source_override = source
        self.realtime = realtime
        self._engines = dict(engines or {})
        self._opener = opener
        self._retry = retry
        self._session: Session | MeetingRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop_requested = False
        self._state = ("idle", "Not captioning")
        self._dropped_seen: dict[str | None, int] = {}  # per source (meeting mode has two)
        self.waiting_for_key = False
        """Captions could not start because the engine's key or credentials are missing."""
        self._reason = ""  # why the engine is reconnecting ('' while all is well)
        self._troubled = ""  # the reason last sent as ``trouble``
        self._monitor_mic = ""  # description of the monitor that the "microphone" records, if it is one
        self._pending: set[asyncio.Task[Any]] = set()
        self.transcript.subscribe(self._emit_change)
        self.transcript.on_autosave_error = lambda message: self.warning.emit(status_text.sentence(message) + ".")

    # -- state ---------------------------------------------------------------------------------
    @property
    def session(self) -> Session | None:
        return self._session if isinstance(self._session, Session) else None

    @property
    def meeting(self) -> MeetingRunner | None:
        """The running meeting (source "both"), else ``None``."""
        return self._session if isinstance(self._session, MeetingRunner) else None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def state(self) -> tuple[str, str]:
        return self._state

    def _set_state(self, state: str, message: str) -> None:
        if (state, message) != self._state:
            self._state = (state, message)
            self.state_changed.emit(state, message)

    def _request(self) -> SessionRequest:
        s = self.settings
        return SessionRequest(
            engine=s.engine,
            source=self.source_override or s.source,
            device=s.device or None,
            options=engine_options(s),
            realtime=self.realtime,
            retry=self._retry,
        )

    def level_monitor(self) -> LevelMonitor:
        """A level monitor for the settings panel that opens sources the way captioning does."""
        from captioner.ui.settings.level_meter import LevelMonitor

        return LevelMonitor(self, opener=self._opener)

    # -- control -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start captioning (no-op if running). False, with an ``error`` signal, if it cannot start.

        The checks that need no audio run here; a live source is opened by the task, off the UI thread
        (it may ask the sound server), and a failure to open it arrives as an ``error`` signal too.
        """
        if self.running:
            return True
        request = self._request()
        try:
            plan = prepare_any(request, self._engines)
            if isinstance(plan, Plan) and request.is_file:
                self._session = plan.session(
                    plan.open_source(self._opener), transcript=self.transcript, on_event=self._on_event
                )
        except SetupError as exc:
            self._fail(app_hint(exc), waiting_for_key=exc.problem == "credentials")
            return False
        except Exception as exc:  # never let a surprise kill the app
            log.exception("cannot start captioning")
            self._fail(f"cannot start captioning: {exc}")
            return False
        self._dropped_seen = {}
        self._reason = self._troubled = self._monitor_mic = ""
        self._set_state("connecting", "Starting…")
        self._task = asyncio.ensure_future(self._run(plan))
        self.running_changed.emit(True)
        return True

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop captioning; the engine finalises the last words before this returns.

        An engine that takes longer than ``timeout`` (connecting to a server that does not answer, say) is
        cancelled, and the lines it had not finalised are committed as they stand.
        """
        task, session = self._task, self._session
        if task is None or task.done():
            return
        if session is None:  # still opening the source
            self._stop_requested = True
        else:
            await session.stop()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if done:
            return
        log.info("the engine did not finish within %.1f s; cancelling it", timeout)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._commit_live()

    def _commit_live(self) -> None:
        """Commit the lines still being spoken as they stand (the engine was cancelled before finalising)."""
        for line in self.transcript.live:
            self.transcript.apply(
                Final(line_id=line.line_id, text=line.text, engine=line.engine, start=line.start, end=line.end)
            )

    async def restart(self) -> bool:
        await self.stop()
        return self.start()

    async def shutdown(self) -> None:
        """Quit: stop (flushing the last caption) and close the transcript's autosave, in under a second."""
        await self.stop(QUIT_TIMEOUT_S)
        for t in list(self._pending):
            t.cancel()
        self.transcript.close()

    def toggle(self) -> None:
        """Start or stop (for a menu item)."""
        if self.running:
            self._spawn(self.stop())
        else:
            self.start()

    def apply_settings(self, settings: Settings) -> None:
        """New settings: update the running session live, or restart it, as little as needed."""
        old, self.settings = self.settings, settings
        if not self.running:
            if self._state[0] == "error" and pipeline_key(old) != pipeline_key(settings):
                self.start()  # the user is fixing what failed: try again
            return
        if pipeline_key(old) != pipeline_key(settings):
            self._spawn(self.restart())
            return
        options = engine_options(settings)
        session = self._session
        if session is not None and options != session.options:
            self._spawn(session.update_options(options))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _run(self, plan: Plan | MeetingPlan) -> None:
        failed = False
        session = self._session
        try:
            if session is None:  # a live source: opened here, off the UI thread
                session, monitor = await open_live(
                    plan, self._opener, transcript=self.transcript, on_event=self._on_event
                )
                self._session = session
                self._note_monitor(monitor)
                options = engine_options(self.settings)  # settings edited while the source was opening
                if options != session.options:
                    await session.update_options(options)
            if self._stop_requested:
                await session.stop()
            await session.run()
        except SetupError as exc:
            failed = True
            self._fail(app_hint(exc))
        except EngineFailure as exc:
            failed = True
            hint = (
                "Check the key or credentials in Settings."
                if exc.refused
                else "Check the engine settings, then start again."
            )
            self._fail(f"{exc.message}. {hint}")
        except AudioError as exc:
            failed = True
            self._fail(f"{exc}. {audio_hint(self._request().source)}")
        except MeetingFailed as exc:
            failed = True
            self._fail(f"{exc}. {audio_hint('both')}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failed = True
            log.exception("captioning stopped by an unexpected error")
            self._fail(f"captioning stopped: {exc.__class__.__name__}: {exc}. Start again from the tray menu.")
        finally:
            if session is not None and self._session is session:
                self._session = None
            self._stop_requested = False
            if not failed:
                self._set_state("stopped", "Stopped")
            self.running_changed.emit(False)

    def _note_monitor(self, monitor: str) -> None:
        """The "microphone" turned out to be ``monitor`` (a monitor of the speakers): say so."""
        self._monitor_mic = monitor
        if monitor:
            self.notice.emit(status_text.monitor_notice(monitor))

    def _fail(self, message: str, *, waiting_for_key: bool = False) -> None:
        self.waiting_for_key = waiting_for_key
        self._set_state("error", message)
        self.error.emit(message)

    # -- events from the session ----------------------------------------------------------------
    def _emit_change(self, change: Change) -> None:
        """Views get the text as shown: profanity masked when the setting says so (the transcript keeps it)."""
        self.change.emit(mask_change(change) if self.settings.filter_profanity else change)

    def _on_event(self, event: CaptionEvent) -> None:
        if isinstance(event, AudioLevel):
            self._on_level(event)
            return
        self.caption_event.emit(mask_event(event) if self.settings.filter_profanity else event)
        back = self.meeting is None or self.meeting.back(event)  # meeting mode: not while the other reconnects
        if isinstance(event, Status):
            if event.state is EngineState.LISTENING:
                self._listening(back)
            elif event.state is EngineState.CONNECTING:
                # A restart for new settings (the old engine captions on meanwhile) is not a new connection;
                # a new attempt after a failure keeps saying what failed.
                if event.progress is not None:  # a first-use step, e.g. preparing the speech model once
                    self._set_state("connecting", f"{event.message[:1].upper()}{event.message[1:]} · {self._where()}")
                elif self._reason:
                    self._set_state("reconnecting", status_text.reconnecting(self._reason, "trying again now"))
                elif self._state[0] != "listening":
                    self._set_state("connecting", f"Connecting · {self._where()}")
            elif event.state is EngineState.RECONNECTING:
                self._set_state("reconnecting", status_text.reconnecting(self._reason, event.message))
            elif event.state is EngineState.DEGRADED:
                self._set_state("degraded", f"{self._engine_name()}: {event.message}")
        elif isinstance(event, EngineError):
            meeting = self.meeting
            if meeting is not None and meeting.on_error(event):  # one source stopped, the other goes on
                self._set_state("degraded", meeting.failure_text())
                self.trouble.emit(meeting.failure_text())
            elif event.retryable:
                reason = self._reason = meeting.named(event) if meeting is not None else event.message
                self._set_state("reconnecting", status_text.reconnecting(reason, "retrying"))
                if reason != self._troubled:
                    self._troubled = reason
                    self.trouble.emit(status_text.interrupted(reason))
        elif isinstance(event, Notice):
            self.notice.emit(event.message)
        elif (
            isinstance(event, Interim | Final | SpeechStarted)
            and self._state[0] in ("connecting", "reconnecting")
            and not getattr(self._session, "device_lost", False)  # the engine ending a line brings no device back
        ):
            self._listening(back)

    def _on_level(self, event: AudioLevel) -> None:
        meeting = self.meeting
        level, lag = (event.rms_dbfs, event.lag) if meeting is None else meeting.on_level(event)
        self.level.emit(level)
        self.lag.emit(lag)
        if meeting is not None and self._state[0] == "listening" and meeting.lag_news():
            self._listening()  # the lag of each source, when notable
        seen = self._dropped_seen.get(event.speaker, 0)
        if event.dropped_blocks > seen:
            self._dropped_seen[event.speaker] = event.dropped_blocks
            self.notice.emit(f"{event.dropped_blocks - seen} audio block(s) dropped: the computer is too busy")

    def _listening(self, back: bool = True) -> None:
        if not back:  # meeting mode: a source still reconnecting stays shown
            return
        self._reason = self._troubled = ""
        meeting = self.meeting
        if meeting is not None and meeting.stopped:
            self._set_state("degraded", meeting.failure_text())
        else:
            lag = meeting.lag_text() if meeting is not None else ""
            self._set_state("listening", f"Listening · {self._where()}{lag}")

    def source_label(self) -> str:
        """The source in words: Microphone, System audio, or the file's name."""
        return status_text.source_label(self.source_override or self.settings.source, self._monitor_mic)

    def _where(self) -> str:
        return f"{self.source_label()} · {self._engine_name()}"

    def _engine_name(self) -> str:
        """The engine that runs now (which may be a fallback of the one chosen), else the chosen one."""
        session = self._session
        engine = session.engine if session is not None else None
        if engine is not None:
            return engine.name or engine.id
        return engine_name(self.settings.engine, self._engines)
