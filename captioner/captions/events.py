"""Caption events: the only thing engines hand to the rest of the app.

Every event is a frozen dataclass. Times (``start``/``end``) are seconds on the
*source* timeline (0.0 = first sample the source produced), whatever engine
session produced them, so that a reconnect or an engine restart never shifts a
caption in time. The session then moves them onto its transcript's timeline
(:meth:`~captioner.captions.transcript.Transcript.run_offset`: the same as the
source's for the first session, later for each session that follows).

Every caption line has a stable ``line_id``; a later event with the same id
replaces the earlier one (interim → interim, interim → final, final → a later
formatted final). Ids are unique for the life of a :class:`~captioner.session.session.Session`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class Interim:
    """A caption line still being spoken; replaces any earlier interim of ``line_id``.

    ``text`` is the whole line as it should be shown now. ``tail`` is the
    suffix of ``text`` the engine still considers tentative (``""`` when the
    engine does not say); views may render it differently.
    """

    line_id: str
    text: str
    engine: str
    start: float | None = None
    end: float | None = None
    tail: str = ""
    speaker: str | None = None
    """Who is speaking (see :class:`Final`)."""

    @property
    def stable(self) -> str:
        """The part of ``text`` the engine no longer expects to change."""
        if self.tail and self.text.endswith(self.tail):
            return self.text[: len(self.text) - len(self.tail)].rstrip()
        return self.text


@dataclass(frozen=True, slots=True, kw_only=True)
class Word:
    """One word of a :class:`Final` and when it was said (engines that time words give them)."""

    text: str
    start: float
    end: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Final:
    """A committed caption line. A later ``Final`` with the same id replaces the text."""

    line_id: str
    text: str
    engine: str
    start: float | None = None
    end: float | None = None
    formatted: bool = True
    words: tuple[Word, ...] = field(default=(), compare=False)
    """The words of ``text`` with their times, when the engine gives them (subtitle cues are split on them).
    Timing detail: not compared (two finals with the same text and times are the same caption)."""
    speaker: str | None = None
    """Who spoke: ``"You"`` / ``"Others"`` in meeting mode (microphone / system audio), or a diarising
    engine's label (``"A"``, ``"B"``…); ``None`` when unknown. Views show it only when a transcript has more
    than one speaker."""
    language: str | None = None
    """The language the engine detected for this line (ISO 639-1, e.g. ``"fr"``); ``None`` when the engine
    does not say. Views may show it when it differs from the language the user expects."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechStarted:
    """The engine detected the start of speech (before any words)."""

    engine: str
    at: float | None = None
    line_id: str | None = None


class EngineState(enum.Enum):
    """Life cycle of an engine session, as shown to the user."""

    CONNECTING = "connecting"
    LISTENING = "listening"
    RECONNECTING = "reconnecting"
    DEGRADED = "degraded"  # still captioning, in a cheaper or limited mode
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    """Engine or session state change, with a human-readable message."""

    engine: str
    state: EngineState
    message: str = ""
    progress: float | None = None
    """0…1 while a long first-use step runs (e.g. preparing the speech model): views may draw a bar."""
    speaker: str | None = None
    """The speaker of the source this is about when a transcript has two sources (meeting mode)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineError:
    """Something went wrong. ``retryable`` tells whether the session will try again."""

    engine: str
    message: str
    retryable: bool
    code: int | None = None
    speaker: str | None = None
    """The speaker of the source this is about when a transcript has two sources (meeting mode)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """What one engine session consumed (e.g. AssemblyAI's ``Termination``)."""

    engine: str
    audio_seconds: float
    session_seconds: float | None = None
    session_id: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """A non-fatal notice the user should see (e.g. word boost not supported)."""

    engine: str
    message: str
    speaker: str | None = None
    """The speaker of the source this is about when a transcript has two sources (meeting mode)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioLevel:
    """Audio arriving from the source: level, dropped blocks, and caption lag.

    ``lag`` is how far (seconds) the engine's input is behind the newest audio
    captured; it grows when an engine cannot keep up or while reconnecting.
    """

    rms_dbfs: float
    dropped_blocks: int = 0
    lag: float = 0.0
    speaker: str | None = None
    """The speaker of the source this is about when a transcript has two sources (meeting mode)."""


CaptionEvent = Interim | Final | SpeechStarted | Status | EngineError | Usage | Notice | AudioLevel
"""Everything an engine or a session emits."""

EngineEvent = Interim | Final | SpeechStarted | Status | EngineError | Usage | Notice
"""What engines themselves emit (``AudioLevel`` comes from the session)."""
