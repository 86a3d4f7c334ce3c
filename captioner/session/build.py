"""Building a captioning session from what the user asked for: the one place the CLI, the desktop app and the
self-test set one up.

:func:`prepare` does every check that can fail before audio is opened, in this order: the engine is registered
and loads, it is usable here (or its registered fallback takes over, and the user is told why), the credentials
it needs are present (argument, else keyring, else environment: :mod:`captioner.secrets`), and the options are
valid (a probe engine is built from them; the session's first engine session reuses it). The :class:`Plan` it
returns then opens the source (live sources may ask the sound server, so callers on a UI thread open it from a
worker thread) and makes the :class:`~captioner.session.session.Session`, with the retry policy for the kind of
source (files give up after a few failures; live sources never do) and the realtime rule (engines that take
audio at 1× only get files paced at 1×). Every failure is a :class:`SetupError` whose ``problem`` says what kind
it is, so each front end can add its own hint (:func:`app_hint`) to one shared message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from captioner import secrets
from captioner.audio.base import AudioError, AudioSource
from captioner.captions.events import CaptionEvent
from captioner.captions.transcript import Transcript
from captioner.engines import registry
from captioner.engines.base import Credentials, Engine, EngineFailure, EngineOptions, EngineUnavailable
from captioner.session.session import EventFilter, RetryPolicy, Session

Problem = Literal["engine", "credentials", "options", "audio"]
SourceOpener = Callable[[str, int, str | None, bool], AudioSource]
"""(spec, sample_rate, device, realtime) -> source; the default is :func:`captioner.audio.open_source`."""

FILE_MAX_RETRIES = 5
"""A file gives up after this many failed reconnects in a row; a live source never gives up."""


class SetupError(Exception):
    """Captioning cannot start as asked; ``message`` says why in plain words, ``problem`` what kind of trouble."""

    def __init__(self, message: str, *, problem: Problem, source: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.problem = problem
        self.source = source


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRequest:
    """What to caption and how, as the user asked (CLI flags or the settings)."""

    engine: str
    source: str = "mic"
    """``mic``, ``system``, ``both`` (or ``mic+system``: meeting mode, :mod:`~captioner.session.meeting`) or the
    path of a WAV file."""
    device: str | None = None
    options: EngineOptions = field(default_factory=EngineOptions)
    api_key: str | None = None
    """A key given explicitly (``--api-key``); else the keyring, else the environment."""
    realtime: bool = True
    """Pace a file at 1× (engines with ``realtime_input`` are always paced)."""
    max_retries: int | None = None
    """Failed reconnects in a row before giving up; ``None``: the default for the kind of source."""
    retry: RetryPolicy | None = None
    """A whole retry policy (tests); overrides ``max_retries``."""
    speaker: str | None = None
    """Who speaks on this source (``"You"``, ``"Others"``): the speaker of its lines (see :class:`Session`)."""

    @property
    def is_file(self) -> bool:
        return self.source not in LIVE_SOURCES


LIVE_SOURCES = frozenset({"mic", "system", "both", "mic+system"})


def audio_hint(source: str) -> str:
    """What to do when ``source`` cannot be opened."""
    if source == "mic":
        return "Check that a microphone is connected and allowed, or pick another device in Settings."
    if source == "system":
        return "Pick a system-audio source in Settings (on Linux: a monitor of your output)."
    if source in LIVE_SOURCES:
        return "Check the microphone and the system-audio source in Settings."
    return "Check the file."


def app_hint(error: SetupError) -> str:
    """The desktop app's version of ``error``: the message and what to do next in the app."""
    hints: dict[Problem, str] = {
        "engine": "Pick another engine in Settings.",
        "options": "Check the engine settings.",
        "audio": audio_hint(error.source),
        "credentials": "",
    }
    hint = hints[error.problem]
    return f"{error.message}. {hint}" if hint else error.message


def engine_class(engine_id: str, overrides: Mapping[str, type[Engine]] | None = None) -> type[Engine]:
    """The class of ``engine_id`` (``overrides`` first: tests and benchmarks register their own)."""
    if overrides and engine_id in overrides:
        return overrides[engine_id]
    try:
        info = registry.get(engine_id)
    except KeyError as exc:
        raise SetupError(str(exc.args[0]), problem="engine") from None
    try:
        cls = info.load()
    except EngineUnavailable as exc:
        raise SetupError(f"{info.name} is not usable here: {exc}", problem="engine") from None
    ok, why = info.availability()
    if not ok:
        raise SetupError(f"{info.name} is not usable here: {why}", problem="engine")
    return cls


def engine_name(engine_id: str, overrides: Mapping[str, type[Engine]] | None = None) -> str:
    """The display name of ``engine_id`` (its id when unknown)."""
    if overrides and engine_id in overrides:
        return overrides[engine_id].name or engine_id
    info = registry.ENGINES.get(engine_id)
    return info.name if info else engine_id


@dataclass(slots=True)
class Plan:
    """A checked request: the engine class, credentials, a probe engine and the source still to open."""

    request: SessionRequest
    engine_cls: type[Engine]
    credentials: Credentials
    probe: Engine | None
    overrides: Mapping[str, type[Engine]] | None = None
    notices: list[str] = field(default_factory=list)
    """What the user should be told at the start (e.g. the light engine took over, and why)."""

    @property
    def realtime(self) -> bool:
        return self.request.realtime or self.engine_cls.capabilities.realtime_input

    @property
    def speaker(self) -> str | None:
        return self.request.speaker

    def open_source(self, opener: SourceOpener | None = None) -> AudioSource:
        """Open the audio source at the engine's rate; :class:`SetupError` (``audio``) when it cannot."""
        req = self.request
        rate = self.engine_cls.capabilities.sample_rate
        try:
            if opener is not None:
                return opener(req.source, rate, req.device, self.realtime)
            from captioner.audio import open_source

            return open_source(req.source, rate, device=req.device, realtime=self.realtime)
        except AudioError as exc:
            raise SetupError(str(exc), problem="audio", source=req.source) from None

    def factory(self) -> Callable[[EngineOptions], Engine]:
        """Makes the engine of every engine session; the first one, with the request's options, is the probe."""
        first = [self.probe] if self.probe is not None else []
        options, cls, credentials = self.request.options, self.engine_cls, self.credentials

        def make(opts: EngineOptions) -> Engine:
            if first and opts is options:
                return first.pop()
            return cls(opts, credentials)

        return make

    def fallback(self, engine_id: str, options: EngineOptions) -> Engine:
        """Build the engine an engine failure names as its fallback (the light offline engine, say)."""
        try:
            cls = engine_class(engine_id, self.overrides)
        except SetupError as exc:
            raise EngineFailure(exc.message, retryable=False) from None
        return cls(options, secrets.resolve(engine_id))

    def retry_policy(self) -> RetryPolicy:
        req = self.request
        if req.retry is not None:
            return req.retry
        if req.max_retries is not None:
            return RetryPolicy(max_attempts=req.max_retries)
        return RetryPolicy(max_attempts=FILE_MAX_RETRIES if req.is_file else None)

    def session(
        self,
        source: AudioSource,
        *,
        transcript: Transcript | None = None,
        on_event: Callable[[CaptionEvent], None] | None = None,
        event_filter: EventFilter | None = None,
    ) -> Session:
        """The session that captions ``source`` into ``transcript`` (``event_filter``: see :class:`Session`)."""
        return Session(
            source,
            self.factory(),
            self.request.options,
            transcript=transcript,
            on_event=on_event,
            retry=self.retry_policy(),
            fallback=self.fallback,
            notices=tuple(self.notices),
            speaker=self.speaker,
            event_filter=event_filter,
        )


def prepare(
    request: SessionRequest,
    *,
    audience: secrets.Audience = "cli",
    overrides: Mapping[str, type[Engine]] | None = None,
) -> Plan:
    """Check ``request`` (engine, availability, credentials, options) before any audio is opened."""
    notices: list[str] = []
    try:
        cls = engine_class(request.engine, overrides)
    except SetupError as exc:
        info = registry.ENGINES.get(request.engine)
        if exc.problem != "engine" or info is None or info.fallback is None:
            raise
        cls = engine_class(info.fallback, overrides)
        notices.append(f"{exc.message}; using {engine_name(info.fallback, overrides)} instead")
        request = _with_engine(request, info.fallback)
    credentials = secrets.resolve(request.engine, request.api_key)
    if cls.requires_credentials(request.options) and not secrets.has_credentials(credentials):
        raise SetupError(secrets.describe_missing(request.engine, audience), problem="credentials")
    try:
        probe = cls(request.options, credentials)  # bad options fail here, before audio is opened
    except EngineFailure as exc:
        raise SetupError(exc.message, problem="options") from None
    except ValueError as exc:
        raise SetupError(str(exc), problem="options") from None
    return Plan(request, cls, credentials, probe, overrides, notices)


def _with_engine(request: SessionRequest, engine_id: str) -> SessionRequest:
    from dataclasses import replace

    return replace(request, engine=engine_id)
