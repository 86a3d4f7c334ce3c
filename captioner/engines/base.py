"""The engine contract.

An engine turns an async stream of :class:`~captioner.audio.base.AudioChunk`
into an async stream of caption events (:data:`~captioner.captions.events.EngineEvent`)::

    engine = SomeEngine(options, credentials)
    async for event in engine.stream(audio_chunks):
        ...

Rules every engine follows:

* It receives its options and credentials through the constructor and never
  reads settings files, keyrings or environment variables itself.
* Audio arrives at ``capabilities.sample_rate`` (the session resamples once).
* ``stream()`` ends when the audio iterator ends *and* every pending caption
  has been finalised (flush the last words; never drop them).
* Times in events are seconds on the source timeline: use ``chunk.start``.
* Line ids are unique within one engine object; the session prefixes them
  per engine session, so a reconnect never collides with an older line.
* Failures are raised as :class:`EngineFailure`. ``retryable=False`` means
  "do not try again with these settings" (bad key, unknown language…);
  the CLI maps it to exit status 3.
* :meth:`Engine.update` applies new options to a running stream when the
  engine can do it without reconnecting; otherwise it returns ``False`` and
  the session restarts the engine seamlessly.

Engine-specific options (:class:`OptionSpec`) and their parsing live in
:mod:`captioner.engines.options`; they are re-exported here for older imports.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent
from captioner.engines.options import FALSE_WORDS, TRUE_WORDS, OptionKind, OptionSpec

__all__ = [
    "FALSE_WORDS",
    "TRUE_WORDS",
    "Capabilities",
    "Credentials",
    "Engine",
    "EngineFailure",
    "EngineOptions",
    "EngineUnavailable",
    "OptionKind",
    "OptionSpec",
    "WordBoostLimits",
    "check_word_boost",
]


class EngineFailure(Exception):
    """An engine session failed.

    ``retryable`` is ``True`` for transient trouble (network drop, server
    error) and ``False`` when retrying cannot help (bad credentials, bad
    options). ``refused`` marks a refusal by the service (CLI exit 3).
    ``fallback`` names a registered engine the session switches to instead of
    retrying this one (e.g. the neural engine cannot keep up or cannot load its
    model: the light ``local`` engine takes over, and the user is told why).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        refused: bool = False,
        code: int | None = None,
        fallback: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.refused = refused
        self.code = code
        self.fallback = fallback


class EngineUnavailable(Exception):
    """The engine cannot be built here (missing package, missing credentials…)."""


@dataclass(frozen=True, slots=True)
class WordBoostLimits:
    """Limits of an engine's word boost list (``None`` = no limit)."""

    max_terms: int | None = None
    max_term_chars: int | None = None


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an engine can do; the settings panel and the CLI read this."""

    sample_rate: int
    interim_results: bool
    word_boost: bool
    live_update: bool
    silence_threshold: bool
    word_boost_limits: WordBoostLimits = field(default_factory=WordBoostLimits)
    languages: tuple[str, ...] = ()
    needs_credentials: bool = False
    realtime_input: bool = False
    """Audio must not arrive faster than real time (cloud engines): files are paced at 1×."""
    notes: str = ""
    """Plain-words notes shown to the user (e.g. why word boost is unsupported)."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """The user's choices, as given to an engine."""

    language: str | None = None
    word_boost: tuple[str, ...] = ()
    silence_ms: int | None = None
    endpoint: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    """Engine-specific advanced options (string values, parsed by the engine)."""

    def replace(self, **changes: object) -> EngineOptions:
        from dataclasses import replace

        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Credentials:
    """Secrets for a cloud engine. Never logged: ``repr`` hides them."""

    api_key: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token: str | None = None
    username: str | None = None
    """With ``password``: an account of the OAuth password grant (Uhlive), with ``client_id``."""
    password: str | None = None

    def secrets(self) -> tuple[str, ...]:
        """The values that must never appear in a log line or a message (the ids and user name are not secret)."""
        return tuple(s for s in (self.api_key, self.client_secret, self.token, self.password) if s)

    def __repr__(self) -> str:
        names = ("api_key", "client_id", "client_secret", "token", "username", "password")
        present = [k for k in names if getattr(self, k)]
        return f"Credentials(<{', '.join(present) or 'empty'}>)"


class Engine(abc.ABC):
    """Base class of every engine. Subclasses set ``id``, ``name`` and ``capabilities``."""

    id: str = ""
    name: str = ""
    capabilities: Capabilities
    advanced_options: ClassVar[tuple[OptionSpec, ...]] = ()
    """Engine-specific options a user may set (the settings panel shows them; keys as ``--option``)."""

    def __init__(self, options: EngineOptions, credentials: Credentials | None = None) -> None:
        self.options = options
        self.credentials = credentials or Credentials()

    @classmethod
    def requires_credentials(cls, options: EngineOptions) -> bool:
        """Whether these options need credentials (default: ``capabilities.needs_credentials``)."""
        return cls.capabilities.needs_credentials

    def carry_over(self, previous: Engine) -> None:
        """Called by the session before this engine replaces ``previous`` of the same class (a reconnect or a
        seamless restart): take over what must outlive one engine object (e.g. speaker labels). Default: nothing."""
        return None

    @abc.abstractmethod
    def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        """Consume ``audio`` and yield caption events until it ends and all is flushed.

        Raises :class:`EngineFailure` on failure.
        """

    async def update(self, options: EngineOptions) -> bool:
        """Apply ``options`` to the running stream if possible.

        Return ``True`` when applied live, ``False`` when the caller must
        restart the engine (the default).
        """
        return False

    def endpoint_silence(self) -> float:
        """Seconds of silence after which this engine ends a caption line, with its current options.

        When the session skips long pauses to catch up after a reconnect (engines
        with ``realtime_input``), it still sends at least this much of every pause,
        so that lines end where the speaker paused. Default: the silence setting, or 1 s.
        """
        ms = self.options.silence_ms
        return ms / 1000.0 if ms else 1.0

    def validate(self) -> list[str]:
        """Problems with the options as given, as user-facing warnings (not fatal).

        The default checks word boost against :attr:`capabilities`.
        """
        return check_word_boost(self.capabilities, self.options.word_boost)[1]


def check_word_boost(caps: Capabilities, terms: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """Split ``terms`` into what ``caps`` accepts and plain-words warnings about the rest."""
    if not terms:
        return (), []
    if not caps.word_boost:
        return (), [
            f"word boost is not supported by this engine; {len(terms)} term(s) ignored"
            + (f" ({caps.notes})" if caps.notes else "")
        ]
    limits = caps.word_boost_limits
    kept: list[str] = []
    warnings: list[str] = []
    for term in terms:
        t = term.strip()
        if not t:
            continue
        if limits.max_term_chars is not None and len(t) > limits.max_term_chars:
            warnings.append(f"word boost term too long (over {limits.max_term_chars} characters), ignored: {t!r}")
            continue
        if t not in kept:
            kept.append(t)
    if limits.max_terms is not None and len(kept) > limits.max_terms:
        dropped = kept[limits.max_terms :]
        kept = kept[: limits.max_terms]
        warnings.append(
            f"word boost is limited to {limits.max_terms} terms; ignored {len(dropped)}: {', '.join(dropped)}"
        )
    return tuple(kept), warnings
