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
"""

from __future__ import annotations

import abc
import math
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent


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


OptionKind = Literal["choice", "bool", "float", "int", "text"]
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One engine-specific advanced option: ``--option KEY=VALUE`` in the CLI, ``EngineSettings.extra[KEY]`` in the app.

    Values are strings, as the engine parses them; ``""`` means "not set" (the
    engine's own default). ``default`` is what the engine does when it is not
    set, for display only. The settings panel builds its fields from these.
    """

    key: str
    label: str
    kind: OptionKind
    choices: tuple[str, ...] = ()
    default: str = ""
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    pattern: str = ""
    """``text`` only: a regular expression the whole value must match (e.g. a URL)."""
    pattern_hint: str = ""
    """``text`` only: what the pattern asks for, in plain words ("an http(s) URL")."""

    def check(self, raw: str) -> str:
        """``raw`` normalised (``""`` = not set), or ``ValueError`` with a plain-words message."""
        value = raw.strip()
        if not value:
            return ""
        name = self.label or self.key
        if self.kind == "bool":
            v = value.lower()
            if v in TRUE_WORDS:
                return "true"
            if v in FALSE_WORDS:
                return "false"
            raise ValueError(f"{name} must be on or off (true or false), not {value!r}")
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"{name} must be one of {', '.join(self.choices)}, not {value!r}")
            return value
        if self.kind in ("int", "float"):
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            whole = self.kind == "int"
            if not math.isfinite(number) or (whole and number != int(number)):
                raise ValueError(f"{name} must be {'a whole number' if whole else 'a number'}, not {value!r}")
            lo, hi = self.minimum, self.maximum
            if (lo is not None and number < lo) or (hi is not None and number > hi):
                raise ValueError(f"{name} must be {self.range_text()}, not {value!r}")
            return str(int(number)) if whole else f"{number:g}"
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise ValueError(f"{name} must be {self.pattern_hint or 'in the form ' + self.pattern}, not {value!r}")
        return value

    def range_text(self) -> str:
        """``"between 0 and 1"``, ``"at least 5"``… (empty without limits)."""
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"between {lo:g} and {hi:g}"
        if lo is not None:
            return f"at least {lo:g}"
        if hi is not None:
            return f"at most {hi:g}"
        return ""


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

    def __repr__(self) -> str:
        present = [k for k in ("api_key", "client_id", "client_secret", "token") if getattr(self, k)]
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
