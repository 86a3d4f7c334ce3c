"""Uhlive Stream Conversation, the pure part: options, the Phoenix message filter, times and captions.

Owns everything of the Conversation engine that does no I/O: its advanced options
(:data:`MODEL_OPTION`, :data:`COUNTRY_OPTION`), :func:`phoenix_frame` (which server
messages are ours for the SDK to parse: a Phoenix v2 array on our topic; a heartbeat
reply on ``phoenix`` would trip the SDK's topic assertion), :class:`Timeline`
(server times, ms after the join's ``origin``, → source seconds) and :func:`caption`
(a transcript event of our speaker → :class:`Interim` / :class:`Final`); :func:`decode` and
:func:`line` are one received message, step by step, as the runner takes it. The websocket
runner and the engine class live in :mod:`captioner.engines.uhlive.conversation`.
Protocol facts: ``docs/protocols/uhlive.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import dataclass, field

from captioner.captions.events import Final, Interim
from captioner.engines.options import OptionSpec
from captioner.engines.timeline import AudioTimeline
from uhlive.stream.conversation import Conversation
from uhlive.stream.conversation.events import (
    AudioSegmentDecoded,
    AudioSegmentNormalized,
    AudioSpeechDecoded,
    AudioWordsDecoded,
    Event,
)

log = logging.getLogger(__name__)

NO_SILENCE_NOTE = (
    "the Uhlive Conversation API does not expose a silence threshold (the service decides where a line ends)"
)

MODEL_OPTION = OptionSpec(
    "model",
    "Recognition model",
    "text",
    pattern=r"[A-Za-z0-9][A-Za-z0-9_.\-]*",
    pattern_hint="a model name such as fr or en",
    help="The Uhlive model to use. Not set: the model of the chosen language.",
)
COUNTRY_OPTION = OptionSpec(
    "country",
    "Country",
    "text",
    pattern=r"[A-Za-z]{2}",
    pattern_hint="a two-letter country code such as fr, ca or us",
    help="The country whose way of speaking to expect. Not set: from the language (fr: fr, en: us, es: es, de: de).",
)


@dataclass
class Timeline:
    """Maps server times (ms of audio received after ``origin``) to source seconds.

    The audio sent is recorded in an :class:`AudioTimeline`, so times stay on the
    source timeline across pauses the session skipped to catch up.
    """

    origin_ms: int
    sent: AudioTimeline = field(default_factory=AudioTimeline)

    def to_source(self, ms: object, *, end: bool = False) -> float | None:
        if not isinstance(ms, int | float) or isinstance(ms, bool):
            return None
        try:
            sent = (float(ms) - self.origin_ms) / 1000.0
        except OverflowError:  # an integer beyond any float
            return None
        if not math.isfinite(sent):
            return None
        t = self.sent.to_source(sent, end=end)
        return None if t is None else round(t, 3)


def caption(event: AudioSpeechDecoded, timeline: Timeline, *, speaker: str, engine_id: str) -> Interim | Final | None:
    """The caption event of one of *our* transcripts (``None`` for another participant's)."""
    if event.speaker != speaker:
        return None  # another participant of the conversation
    line_id = str(event.id)
    text = " ".join(str(event.value).split())
    start, end = timeline.to_source(event.start), timeline.to_source(event.end, end=True)
    if isinstance(event, AudioWordsDecoded):
        return Interim(line_id=line_id, text=text, engine=engine_id, start=start, end=end)
    if isinstance(event, AudioSegmentNormalized):
        return Final(line_id=line_id, text=text, engine=engine_id, start=start, end=end, formatted=True)
    if isinstance(event, AudioSegmentDecoded):
        return Final(line_id=line_id, text=text, engine=engine_id, start=start, end=end, formatted=False)
    return None


@dataclass
class SendState:
    """Shared by the audio sender and the reader of one conversation."""

    bytes_sent: int = 0
    leave_deadline: float | None = None

    def __post_init__(self) -> None:
        self.leaving = asyncio.Event()


def phoenix_frame(raw: str | bytes, topic: str) -> list[object] | None:
    """The Phoenix v2 array of ``raw`` if it is ours to parse; ``None`` (logged) otherwise."""
    if isinstance(raw, bytes):
        log.debug("skipping a binary frame from the server (%d bytes)", len(raw))
        return None
    try:
        msg = json.loads(raw)
    except ValueError:
        log.warning("skipping a message that is not JSON")
        return None
    if not (isinstance(msg, list) and len(msg) == 5 and isinstance(msg[3], str) and isinstance(msg[4], dict)):
        log.warning("skipping a message that is not a Phoenix v2 array")
        return None
    if msg[2] != topic:
        log.debug("skipping %r on topic %r", msg[3], msg[2])
        return None
    return msg


MALFORMED = (KeyError, TypeError, ValueError, AttributeError, AssertionError, IndexError)
"""What the SDK raises on a message it cannot parse."""


def decode(raw: str | bytes, conversation: Conversation) -> tuple[str, Event] | None:
    """One server message parsed by the SDK: ``(event name, event)``, or ``None`` for a message to skip (logged).

    The SDK's :class:`~uhlive.stream.conversation.error.UhliveError` (an error reply, a crashed channel) is raised
    for the caller to report; nothing else is.
    """
    msg = phoenix_frame(raw, conversation.topic)
    if msg is None:
        return None
    name = str(msg[3])
    try:
        return name, conversation.receive(raw)
    except MALFORMED as exc:
        log.warning("skipping a malformed Uhlive %r event (%s)", name, exc.__class__.__name__)
        return None


def line(event: Event, timeline: Timeline, *, speaker: str, engine_id: str) -> Interim | Final | None:
    """The caption of a parsed event: :func:`caption` for a transcript, ``None`` otherwise or when malformed."""
    if not isinstance(event, AudioSpeechDecoded):
        return None
    try:
        return caption(event, timeline, speaker=speaker, engine_id=engine_id)
    except MALFORMED as exc:
        log.warning("skipping a malformed Uhlive transcript (%s)", exc.__class__.__name__)
        return None
