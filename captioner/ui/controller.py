"""The one bridge between the caption session (asyncio) and the Qt widgets.

:class:`CaptionController` builds a :class:`~captioner.session.session.Session` from the
settings (audio source, engine from the registry, credentials from the keyring
or environment), runs it as a task on the qasync loop, and re-emits what
happens as Qt signals. Widgets never touch audio or engines.

* Word boost, silence threshold, language, endpoint: ``Session.update_options``
  (applied live when the engine can, otherwise a seamless restart: no audio lost).
* Engine, source or device: the session is stopped (its last words flushed) and
  a new one started on the same :class:`~captioner.captions.transcript.Transcript`.
* Every failure becomes an ``error`` signal with what to do next; the app lives on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal

from captioner import paths
from captioner import secrets as secret_store
from captioner.audio.base import AudioError, AudioSource
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
from captioner.captions.transcript import Transcript
from captioner.engines import registry
from captioner.engines.base import Engine, EngineFailure, EngineOptions, EngineUnavailable
from captioner.session.session import RetryPolicy, Session
from captioner.settings import Settings

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 15.0

SourceOpener = Callable[[str, int, str | None, bool], AudioSource]
"""(spec, sample_rate, device, realtime) -> source; the default is :func:`captioner.audio.open_source`."""


class SetupError(Exception):
    """Captioning cannot start with these settings; the message says what to do."""


def engine_options(settings: Settings) -> EngineOptions:
    """The engine options the settings ask for."""
    es = settings.engine_settings()
    return EngineOptions(
        language=es.language or None,
        word_boost=tuple(settings.word_boost),
        silence_ms=settings.silence_ms,
        endpoint=es.endpoint or None,
        extra=dict(es.extra),
    )


class CaptionController(QObject):
    """Owns the running session; emits its changes and events as Qt signals."""

    change = Signal(object)  # captioner.captions.transcript.Change
    event = Signal(object)  # type: ignore[assignment]  # every CaptionEvent (shadows QObject.event; Qt still dispatches)
    state_changed = Signal(str, str)  # state (idle/connecting/listening/reconnecting/error/stopped), text
    level = Signal(float)  # dBFS
    lag = Signal(float)  # seconds captions are behind the audio
    error = Signal(str)  # a failure the user must act on, with what to do
    notice = Signal(str)  # a passing note (word boost unsupported, dropped audio…)
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
        self.transcript = transcript if transcript is not None else Transcript(autosave=paths.new_autosave_path())
        self.source_override = source
        self.realtime = realtime
        self._engines = dict(engines or {})
        self._opener = opener
        self._retry = retry
        self._session: Session | None = None
        self._task: asyncio.Task[None] | None = None
        self._runs = 0
        self._state = ("idle", "Not captioning")
        self._dropped_seen = 0
        self._pending: set[asyncio.Task[Any]] = set()
        self.transcript.subscribe(self.change.emit)

    # -- state ---------------------------------------------------------------------------------
    @property
    def session(self) -> Session | None:
        return self._session

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

    def _engine_class(self, engine_id: str) -> type[Engine]:
        if engine_id in self._engines:
            return self._engines[engine_id]
        try:
            info = registry.get(engine_id)
        except KeyError as exc:
            raise SetupError(f"{exc.args[0]}. Pick an engine in Settings.") from None
        try:
            cls = info.load()
        except EngineUnavailable as exc:
            raise SetupError(f"{info.name} cannot run here: {exc}. Pick another engine in Settings.") from None
        ok, why = info.availability()
        if not ok:
            raise SetupError(f"{info.name} cannot run here: {why}. Pick another engine in Settings.")
        return cls

    def _open(self, spec: str, rate: int, device: str | None, realtime: bool) -> AudioSource:
        if self._opener is not None:
            return self._opener(spec, rate, device, realtime)
        from captioner.audio import open_source

        return open_source(spec, rate, device=device, realtime=realtime)

    def _build(self) -> Session:
        s = self.settings
        cls = self._engine_class(s.engine)
        caps = cls.capabilities
        credentials = secret_store.resolve(s.engine)
        if caps.needs_credentials and not secret_store.has_credentials(credentials):
            info = registry.ENGINES.get(s.engine)
            name = info.name if info else s.engine
            env = " and ".join(info.credential_env) if info and info.credential_env else ""
            raise SetupError(
                f"{name} needs an API key or credentials: enter them in Settings (kept in the system keyring)"
                + (f", or set {env}" if env else "")
                + "."
            )
        options = engine_options(s)
        try:
            probe = cls(options, credentials)  # bad options fail here, before audio is opened
        except (EngineFailure, ValueError) as exc:
            raise SetupError(f"{getattr(exc, 'message', exc)}. Check the engine settings.") from None
        spec = self.source_override or s.source
        realtime = self.realtime or caps.realtime_input
        try:
            source = self._open(spec, caps.sample_rate, s.device or None, realtime)
        except AudioError as exc:
            raise SetupError(f"{exc}. {_audio_hint(spec)}") from None
        self._runs += 1
        first = [probe]

        def factory(opts: EngineOptions) -> Engine:
            return first.pop() if first and opts is options else cls(opts, credentials)

        is_file = spec not in ("mic", "system")
        retry = self._retry or RetryPolicy(max_attempts=5 if is_file else None)
        # One transcript across sessions (engine/source changes): the run number keeps line ids unique.
        return Session(
            source,
            factory,
            options,
            transcript=self.transcript,
            on_event=self._on_event,
            retry=retry,
            id_prefix=f"r{self._runs}.",
        )

    # -- control -------------------------------------------------------------------------------
    def start(self) -> bool:
        """Start captioning (no-op if running). False, with an ``error`` signal, if it cannot start."""
        if self.running:
            return True
        try:
            session = self._build()
        except SetupError as exc:
            self._fail(str(exc))
            return False
        except Exception as exc:  # never let a surprise kill the app
            log.exception("cannot start captioning")
            self._fail(f"cannot start captioning: {exc}")
            return False
        self._session = session
        self._dropped_seen = 0
        self._set_state("connecting", "Starting…")
        self._task = asyncio.ensure_future(self._run(session))
        self.running_changed.emit(True)
        return True

    async def stop(self) -> None:
        """Stop captioning; the engine finalises the last words before this returns."""
        task, session = self._task, self._session
        if task is None or task.done() or session is None:
            return
        await session.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT_S)
        except TimeoutError:
            log.warning("the engine did not finish within %.0f s; cancelling", STOP_TIMEOUT_S)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def restart(self) -> bool:
        await self.stop()
        return self.start()

    async def shutdown(self) -> None:
        """Quit: stop (flushing the last caption) and close the transcript's autosave."""
        await self.stop()
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
            if self._state[0] == "error" and _pipeline_key(old) != _pipeline_key(settings):
                self.start()  # the user is fixing what failed: try again
            return
        if _pipeline_key(old) != _pipeline_key(settings):
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

    async def _run(self, session: Session) -> None:
        failed = False
        try:
            await session.run()
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
            self._fail(f"{exc}. {_audio_hint(self.source_override or self.settings.source)}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failed = True
            log.exception("captioning stopped by an unexpected error")
            self._fail(f"captioning stopped: {exc.__class__.__name__}: {exc}. Start again from the tray menu.")
        finally:
            if self._session is session:
                self._session = None
            if not failed:
                self._set_state("stopped", "Stopped")
            self.running_changed.emit(False)

    def _fail(self, message: str) -> None:
        self._set_state("error", message)
        self.error.emit(message)

    # -- events from the session ----------------------------------------------------------------
    def _on_event(self, event: CaptionEvent) -> None:
        if isinstance(event, AudioLevel):
            self.level.emit(event.rms_dbfs)
            self.lag.emit(event.lag)
            if event.dropped_blocks > self._dropped_seen:
                n = event.dropped_blocks - self._dropped_seen
                self._dropped_seen = event.dropped_blocks
                self.notice.emit(f"{n} audio block(s) dropped: the computer is too busy")
            return
        self.event.emit(event)
        if isinstance(event, Status):
            name = self._engine_name()
            if event.state is EngineState.LISTENING:
                self._set_state("listening", f"Listening · {name}")
            elif event.state is EngineState.CONNECTING:
                self._set_state("connecting", f"Connecting · {name}")
            elif event.state is EngineState.RECONNECTING:
                self._set_state("reconnecting", f"Reconnecting · {event.message}")
            elif event.state is EngineState.DEGRADED:
                self._set_state("degraded", f"{name}: {event.message}")
        elif isinstance(event, EngineError):
            if event.retryable:
                self._set_state("reconnecting", f"{event.message} (retrying)")
        elif isinstance(event, Notice):
            self.notice.emit(event.message)
        elif isinstance(event, Interim | Final | SpeechStarted) and self._state[0] in ("connecting", "reconnecting"):
            self._set_state("listening", f"Listening · {self._engine_name()}")

    def _engine_name(self) -> str:
        engine_id = self.settings.engine
        if engine_id in self._engines:
            return self._engines[engine_id].name or engine_id
        info = registry.ENGINES.get(engine_id)
        return info.name if info else engine_id


def _pipeline_key(s: Settings) -> tuple[str, str, str]:
    """What needs a new session (not just new options) when it changes."""
    return (s.engine, s.source, s.device)


def _audio_hint(spec: str) -> str:
    if spec == "mic":
        return "Check that a microphone is connected and allowed, or pick another device in Settings."
    if spec == "system":
        return "Pick a system-audio source in Settings (on Linux: a monitor of your output)."
    return "Check the file."
