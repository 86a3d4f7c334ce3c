"""Uhlive Stream H2B, the pure part: session parameters, shared session state, event parsing and results.

Owns everything of the H2B engine that does no I/O: its advanced options (:data:`H2B_OPTIONS`), the
``SET-PARAMS`` values built from the engine options, the :class:`SessionState` shared by the audio
sender and the event reader (with the mapping of server timestamps to source time), the tolerant
parse of server messages through the SDK's sans-IO :class:`~uhlive.stream.recognition.Recognizer`,
and the mapping of a ``RECOGNITION-COMPLETE`` to a caption :class:`~captioner.captions.events.Final`
(or an :class:`EngineFailure`). The websocket runner and the engine class live in
:mod:`captioner.engines.uhlive.h2b`. Protocol facts: ``docs/protocols/uhlive.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from captioner.captions.events import Final
from captioner.engines.base import EngineFailure, EngineOptions
from captioner.engines.options import OptionSpec
from captioner.engines.timeline import AudioTimeline
from captioner.engines.uhlive.common import OWNER, split_language
from captioner.engines.wire.framer import Frame
from uhlive.stream.recognition import CompletionCause, RecognitionComplete, Recognizer
from uhlive.stream.recognition.events import EVENT_MAP, Event

log = logging.getLogger(__name__)

GRAMMAR = "builtin:speech/transcribe"
DEFAULT_SILENCE_MS = 800
SPEAKING = "…"
"""Text of the interim line shown between START-OF-INPUT and the result."""
UNCLEAR = "(unclear)"
"""Text of a line whose speech the service heard but could not match with enough confidence (NoMatch)."""
REPLAY_FRAMES = 20
"""Frames kept for :meth:`SessionState.replay` (2 s of audio: more than any round trip worth replaying)."""
REPLAY_MARGIN = 0.02
"""Seconds replayed beyond the measured round trip (the answer's own time on the server, scheduling)."""
REPLAY_FLOOR = 0.5
"""The most silence :func:`replay_floor` sends again (s)."""
MIN_UNCLEAR = 0.25
"""Seconds of speech (audio sent from START-OF-INPUT to the result, less the ending silence) below which a
no-match is taken for a click or a fragment of a word (say, replayed after a reconnect): no line."""

NO_INPUT_TIMEOUT = OptionSpec(
    "no_input_timeout",
    "Wait for speech (ms)",
    "int",
    default="30000",
    minimum=1000,
    maximum=600_000,
    help="How long one recognition waits for speech before it quietly starts again. Silences of any "
    "length are fine; this only sets how often that happens.",
)
RECOGNITION_TIMEOUT = OptionSpec(
    "recognition_timeout",
    "Longest line (ms)",
    "int",
    default="30000",
    minimum=2000,
    maximum=600_000,
    help="The longest one caption line may last: after this the server ends the line even if the "
    "speaker has not paused.",
)
CONFIDENCE_THRESHOLD = OptionSpec(
    "confidence_threshold",
    "Confidence needed",
    "float",
    minimum=0.0,
    maximum=1.0,
    help="How sure the service must be of what was said (0–1; its default is 0.5). Below it a line shows "
    '"(unclear)". Lower shows more guesses; the vendor suggests 0.35–0.4 for short answers.',
)
H2B_OPTIONS = (NO_INPUT_TIMEOUT, RECOGNITION_TIMEOUT, CONFIDENCE_THRESHOLD)
"""The H2B advanced options (the settings panel's fields and what ``SET-PARAMS`` gets), limits written once."""

_ENDED_MID_SPEECH = {CompletionCause.SuccessMaxtime, CompletionCause.PartialMatchMaxtime}


def replay_floor(cause: CompletionCause | None, silence: float) -> float:
    """The least audio (s) to send again into the next recognition after one that ended with ``cause``.

    A recognition that ended on ``silence`` seconds of silence (a line complete, no input, no match) ended
    on audio that is silence: sending half of it again (at most :data:`REPLAY_FLOOR`) cannot repeat a word,
    and it covers a round trip that grew since it was last measured (a link that became slow mid-session),
    which would otherwise cut the start of the next line. A recognition cut at its time limit ended in speech:
    only the measured round trip goes again."""
    if cause in _ENDED_MID_SPEECH:
        return 0.0
    return min(REPLAY_FLOOR, silence / 2)


_QUIET = {CompletionCause.NoInputTimeout, CompletionCause.NoMatch, CompletionCause.NoMatchMaxtime}
_NO_MATCH = {CompletionCause.NoMatch, CompletionCause.NoMatchMaxtime}
_REFUSED = {CompletionCause.LanguageUnsupported}
_BROKEN = {CompletionCause.GramDefinitionFailure, CompletionCause.GramLoadFailure}


@dataclass
class SessionState:
    """Shared by the audio sender and the event reader (one event loop, no locks needed)."""

    armed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while a RECOGNIZE has been written and its recognition has not completed."""
    in_progress: bool = False
    """The server said RECOGNITION-IN-PROGRESS (only then may STOP be sent)."""
    speech_from: float = 0.0
    """``sent_until`` when the server said START-OF-INPUT."""
    rtt: float = 0.0
    """The network's round trip (s), as measured from our commands to their answers (the largest lately)."""
    recent: deque[tuple[float, Frame, bytes]] = field(default_factory=lambda: deque(maxlen=REPLAY_FRAMES))
    """The last frames sent, with the monotonic time each went out (for :meth:`replay`)."""
    replayed_seconds: float = 0.0
    recognize_at: float = 0.0
    """When the last RECOGNIZE went out (monotonic)."""
    audio_done: asyncio.Event = field(default_factory=asyncio.Event)
    speech_open: bool = False
    audio_start: float | None = None
    wall_start: float = 0.0
    sent_until: float = 0.0
    bytes_sent: int = 0
    pad_seconds: float = 0.0
    timeline: AudioTimeline = field(default_factory=AudioTimeline)
    """Where the audio sent sits on the source timeline (across pauses skipped to catch up)."""

    def sending(self, frame: Frame) -> None:
        """Before ``frame`` goes out: where its audio sits on the source timeline (and when audio began)."""
        if self.audio_start is None:
            self.audio_start, self.wall_start = frame.start, time.time()
        self.timeline.extend(frame.segments or ((frame.start, frame.duration),))

    def sent(self, frame: Frame, pcm: bytes) -> None:
        """``frame`` went out: the source time the server has audio up to."""
        self.recent.append((time.monotonic(), frame, pcm))
        end = self.timeline.source_end
        self.sent_until = end if end is not None else frame.start + frame.duration

    def measured(self, round_trip: float) -> None:
        """A command's answer came ``round_trip`` seconds after the command went out."""
        self.rtt = max(round_trip, self.rtt * 0.9)

    def replay(self, floor: float = 0.0) -> list[tuple[Frame, bytes]]:
        """The frames to send again right after the next RECOGNIZE, now that a result arrived.

        The server ended the recognition half a round trip ago and starts the next one half a round trip
        from now: what it receives meanwhile is not transcribed. That is the audio sent in the last round
        trip (plus one frame for timing), which goes again into the next recognition; its segments are
        added to the timeline again, since the server counts them twice. At least ``floor`` seconds go again
        (:func:`replay_floor`): the round trip is measured only at commands, and may have grown since.
        """
        window = max(self.rtt + REPLAY_MARGIN if self.rtt > 0 else 0.0, floor)
        cutoff = time.monotonic() - window
        frames = [(frame, pcm) for at, frame, pcm in self.recent if at >= cutoff] if window > 0 else []
        self.recent.clear()
        for frame, _pcm in frames:
            self.timeline.extend(frame.segments or ((frame.start, frame.duration),))
            self.bytes_sent += len(_pcm)
            self.replayed_seconds += frame.duration
        return frames

    def to_source(self, epoch_ms: object, lo: float, *, end: bool = False) -> float | None:
        """Source time of a server timestamp (epoch ms of the audio stream: wall clock at 1x)."""
        if self.audio_start is None or not isinstance(epoch_ms, int | float) or isinstance(epoch_ms, bool):
            return None
        t = self.timeline.to_source(float(epoch_ms) / 1000.0 - self.wall_start, end=end)
        if t is None:
            return None
        return round(min(max(t, lo, self.audio_start), self.sent_until), 3)


def session_params(options: EngineOptions) -> dict[str, Any]:
    """The ``SET-PARAMS`` values for ``options``; :class:`ValueError` if they are out of range."""
    lang, _country = split_language(options.language)  # checks that Uhlive offers it
    region = (options.language or "").replace("_", "-").partition("-")[2]
    extra: Mapping[str, str] = options.extra
    silence = options.silence_ms if options.silence_ms is not None else DEFAULT_SILENCE_MS
    if not 100 <= silence <= 20_000:
        raise ValueError("the Uhlive H2B silence threshold must be between 100 and 20000 ms")
    language = extra.get("speech_language") or (f"{lang}-{region.upper()}" if region else lang)
    params: dict[str, Any] = {
        "speech_language": language,
        "speech_complete_timeout": silence,
        **{spec.key: spec.integer(extra, OWNER, int(spec.default)) for spec in (NO_INPUT_TIMEOUT, RECOGNITION_TIMEOUT)},
    }
    threshold = CONFIDENCE_THRESHOLD.number(extra, OWNER, None)
    if threshold is not None:
        params["confidence_threshold"] = threshold  # not set: the service's own (0.5)
    return params


def recognition_final(
    event: RecognitionComplete,
    raw: str | bytes,
    state: SessionState,
    lo: float,
    shown: str | None,
    *,
    next_id: str,
    engine_id: str,
    silence: float = 0.0,
) -> Final | None:
    """The caption line of a completed recognition (``None``: a quiet re-arm with nothing on screen).

    ``shown`` is the line id of the "…" interim on screen, if any; ``next_id`` the line id otherwise.
    ``silence`` is the silence (s) that ends a recognition: a no-match whose speech lasted less than
    :data:`MIN_UNCLEAR` besides it was a click or a fragment, not words, and makes no line.
    Raises :class:`EngineFailure` for a refused language, a grammar error or a recognition error.
    """
    cause = event.completion_cause
    if cause in _REFUSED:
        raise EngineFailure(f"Uhlive refused the language: {describe(event)}", retryable=False, refused=True)
    if cause in _BROKEN:
        raise EngineFailure(f"Uhlive H2B grammar error: {describe(event)}", retryable=False)
    if cause == CompletionCause.Error:
        raise EngineFailure(f"Uhlive H2B recognition error: {describe(event)}", retryable=True)
    body = event.body
    text = " ".join(body.asr.transcript.split()) if body is not None and body.asr is not None else ""
    line_id = shown if shown is not None else next_id
    if cause in _NO_MATCH:
        # Speech the service could not match with enough confidence: an honest "(unclear)" where speech
        # was heard (never its low-confidence guess); nothing for silence or a click.
        heard = state.sent_until - state.speech_from - silence
        text = UNCLEAR if shown is not None and heard >= MIN_UNCLEAR else ""
    if not text:
        if cause not in _QUIET and cause is not None:
            log.info("Uhlive H2B recognition ended without text (%s)", cause.value)
        # A quiet re-arm; close the "…" line if one was shown.
        return Final(line_id=line_id, text="", engine=engine_id, start=None, end=None) if shown is not None else None
    start = end = None
    with contextlib.suppress(*MALFORMED, AttributeError):
        asr = json.loads(raw)["body"]["asr"]
        start = state.to_source(asr.get("start"), lo)
        end = state.to_source(asr.get("end"), lo, end=True)
    if end is None:
        end = state.sent_until if state.audio_start is not None else None
    if start is None and state.audio_start is not None:
        start = lo
    return Final(line_id=line_id, text=text, engine=engine_id, start=start, end=end)


MALFORMED = (ValueError, KeyError, TypeError, OverflowError, OSError)
"""What the SDK raises on a message it cannot parse (times out of range: ``OverflowError``, ``OSError``)."""


def parse_event(recognizer: Recognizer, raw: str | bytes) -> Event | None:
    """The SDK's parse of ``raw``; unknown or malformed events are logged and skipped (``None``)."""
    if isinstance(raw, bytes):
        log.debug("skipping a binary frame from the server (%d bytes)", len(raw))
        return None
    try:
        data = json.loads(raw)
        name = data["event"]
    except (ValueError, KeyError, TypeError):
        log.warning("skipping a malformed Uhlive H2B message")
        return None
    if name not in EVENT_MAP:
        log.info("skipping unknown Uhlive H2B event %r", name)
        return None
    try:
        return recognizer.receive(raw)
    except MALFORMED as exc:
        if name == "RECOGNITION-COMPLETE" and isinstance(data, dict):
            # e.g. a completion cause this SDK does not know: keep the protocol state right.
            log.warning("Uhlive H2B result with an unknown completion cause (%s)", exc.__class__.__name__)
            data["completion_cause"] = None
            with contextlib.suppress(*MALFORMED):
                return recognizer.receive(json.dumps(data))
        log.warning("skipping a malformed Uhlive H2B %r event (%s)", name, exc.__class__.__name__)
        return None


def describe(event: Event) -> str:
    """A short account of ``event`` for messages: its kind, completion cause and reason."""
    parts = [type(event).__name__]
    if event.completion_cause is not None:
        parts.append(event.completion_cause.value)
    if event.completion_reason:
        parts.append(str(event.completion_reason)[:200])
    return ": ".join(parts)
