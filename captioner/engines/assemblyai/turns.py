"""AssemblyAI Universal-Streaming v3: server messages → caption events (sans-IO).

Owns the meaning of what the server sends on one connection: :class:`TurnTracker`
turns ``Begin`` / ``Turn`` / ``SpeechStarted`` / ``SpeakerRevision`` / ``Termination`` /
``Error`` / ``Warning`` JSON into caption events, one caption line per ``turn_order``,
with times mapped back to the source timeline, the speaker (through the engine's
:class:`~captioner.engines.assemblyai.speakers.SpeakerBook`) and the detected language.

Both partial shapes are handled: Universal-Streaming's (``transcript`` = the final words,
``words`` adding the tentative tail) and the U3 family's (no word final yet, ``transcript``
= the whole partial). Turns that are not speech (Whisper's ``[Silence]``, ``[Music]``…) and
ends of turn without text never become lines; they only close a line already shown.

Protocol facts (turn semantics, both formatting patterns): ``docs/protocols/assemblyai-v3.md``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from captioner.captions.events import (
    EngineEvent,
    EngineState,
    Final,
    Interim,
    Notice,
    SpeechStarted,
    Status,
    Usage,
    Word,
)
from captioner.engines.assemblyai.config import ENGINE_ID
from captioner.engines.assemblyai.speakers import SpeakerBook
from captioner.engines.timeline import AudioTimeline

log = logging.getLogger(__name__)

_TAG = re.compile(r"\[[^\[\]]*\]")


def number(value: object) -> float | None:
    """``value`` as a finite float if it is a JSON number (not a boolean) that fits one, else ``None``."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        result = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return result if math.isfinite(result) else None


def non_speech(utterance: object) -> bool:
    """An utterance made only of bracketed tags (``"[ Silence] [ Silence]"``, ``"[Música]"``)."""
    return isinstance(utterance, str) and "[" in utterance and not _TAG.sub("", utterance).strip()


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: str
    expires_at: float | None
    """Unix time (s) when the server will end the session (3008)."""


class TurnTracker:
    """Turns the server's JSON messages of one connection into caption events.

    Server times are ms of audio received on this connection. ``timeline``
    records where each frame sent sits on the source timeline and maps them
    back (also across pauses the session skipped to catch up); until it holds
    audio, times are shifted by ``offset`` (the source time of the first
    sample). ``prefix`` keeps line ids unique across the connections of one
    engine (rollover); ``speakers`` is the engine's book of speaker labels.
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        offset: float = 0.0,
        finals_only: bool = False,
        speakers: SpeakerBook | None = None,
    ) -> None:
        self.prefix = prefix
        self.offset = offset
        self.timeline = AudioTimeline()
        self.finals_only = finals_only
        self.session: SessionInfo | None = None
        self.terminated = False
        self.usage: Usage | None = None
        self.server_error: str | None = None
        self.server_error_code: int | None = None
        self._committed: dict[int, Final | None] = {}
        """Committed turns: their final line (``None``: a turn that made no line)."""
        self._shown: set[int] = set()
        self._open_turn: int | None = None
        self.malformed = 0
        self.speakers = speakers if speakers is not None else SpeakerBook()
        self.speaker_session = self.speakers.new_session()
        self.shadow = False
        """Hearing audio another session captions (a rollover's warm-up): no caption events, only
        :attr:`shadow_turns`."""
        self.shadow_turns: list[tuple[str, float, float]] = []
        """``(service label, start, end)`` of each turn heard in the shadow."""
        self._seen: set[int] = set()

    @property
    def has_open_turn(self) -> bool:
        return self._open_turn is not None

    def line_id(self, turn_order: int) -> str:
        return f"{self.prefix}{turn_order}"

    def _t(self, ms: object, *, end: bool = False) -> float | None:
        value = number(ms)
        if value is None:
            return None
        if self.timeline:
            mapped = self.timeline.to_source(value / 1000.0, end=end)
            assert mapped is not None
            return round(mapped, 3)
        return round(self.offset + value / 1000.0, 3)

    def _words(self, words: list[dict[str, object]]) -> tuple[Word, ...]:
        """The turn's words with their source times (none if any word has no times)."""
        out = []
        for w in words:
            start, end = self._t(w.get("start")), self._t(w.get("end"), end=True)
            if start is None or end is None:
                return ()
            out.append(Word(text=str(w["text"]), start=start, end=end))
        return tuple(out)

    def receive(self, text: str | bytes) -> list[EngineEvent]:
        """Events for one server message; malformed or unknown messages are logged and skipped."""
        try:
            msg = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            self.malformed += 1
            log.warning("AssemblyAI: skipped a message that is not JSON (%d bytes)", len(text))
            return []
        if not isinstance(msg, dict):
            self.malformed += 1
            log.warning("AssemblyAI: skipped a message that is not a JSON object")
            return []
        kind = msg.get("type")
        try:
            if kind == "Turn":
                return self._turn(msg)
            if kind == "Begin":
                return self._begin(msg)
            if kind == "SpeechStarted":
                at = self._t(msg.get("timestamp"))
                return [] if self.shadow else [SpeechStarted(engine=ENGINE_ID, at=at)]
            if kind == "Termination":
                return self._termination(msg)
            if kind == "SpeakerRevision":
                return self._revision(msg)
            if kind == "Error" or (kind is None and "error" in msg):
                self.server_error = str(msg.get("error") or "server error")
                code = msg.get("error_code")
                self.server_error_code = code if isinstance(code, int) else None
                log.warning("AssemblyAI server error (code %s): %s", self.server_error_code, self.server_error)
                return []
            if kind == "Warning":
                return [Notice(engine=ENGINE_ID, message=f"AssemblyAI warning: {msg.get('warning', '')}".strip())]
        except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
            self.malformed += 1
            log.warning("AssemblyAI: skipped a malformed %s message (%s)", kind, exc)
            return []
        log.debug("AssemblyAI: ignored message type %r", kind)
        return []

    def _begin(self, msg: dict[str, object]) -> list[EngineEvent]:
        sid = str(msg.get("id", ""))
        exp = msg.get("expires_at")
        expires = number(exp)
        if isinstance(exp, str):
            try:
                dt = datetime.fromisoformat(exp.replace("Z", "+00:00"))
                expires = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
            except (ValueError, OverflowError):
                expires = None
        when = ""
        if expires is not None:
            try:
                when = f", expires {time.strftime('%H:%M:%S', time.localtime(expires))}"
            except (OverflowError, OSError, ValueError):  # no date this computer can show: not a real expiry
                expires = None
        self.session = SessionInfo(sid, expires)
        return [
            Status(
                engine=ENGINE_ID, state=EngineState.LISTENING, message=f"connected to AssemblyAI (session {sid}{when})"
            )
        ]

    def _termination(self, msg: dict[str, object]) -> list[EngineEvent]:
        self.terminated = True
        audio = msg.get("audio_duration_seconds")
        sess = msg.get("session_duration_seconds")
        self.usage = Usage(
            engine=ENGINE_ID,
            audio_seconds=number(audio) or 0.0,
            session_seconds=number(sess),
            session_id=self.session.session_id if self.session else None,
        )
        return [self.usage]

    def _speaker(self, raw: object) -> tuple[str | None, list[EngineEvent]]:
        """The display label of a service label, and a notice when labels restarted with this session."""
        label = self.speakers.label(self.speaker_session, raw)
        notice = self.speakers.restart_notice(self.speaker_session)
        return label, [Notice(engine=ENGINE_ID, message=notice)] if notice else []

    def _turn(self, msg: dict[str, object]) -> list[EngineEvent]:
        order = msg["turn_order"]
        if not isinstance(order, int) or isinstance(order, bool):
            raise ValueError("turn_order is not an integer")
        transcript = msg.get("transcript") or ""
        if not isinstance(transcript, str):
            raise ValueError("transcript is not a string")
        raw_words = msg.get("words") or []
        if not isinstance(raw_words, list):
            raise ValueError("words is not a list")
        words = [w for w in raw_words if isinstance(w, dict) and isinstance(w.get("text"), str)]
        line_id = self.line_id(order)
        start = self._t(words[0].get("start")) if words else None
        end = self._t(words[-1].get("end"), end=True) if words else None
        if self.shadow:
            self._shadow_turn(order, msg, transcript, start, end)
            return []
        speaker, notices = self._speaker(msg.get("speaker_label"))
        if msg.get("end_of_turn") is True:
            return [*notices, *self._commit(order, msg, transcript, words, start, end, speaker)]
        if order in self._committed:
            return notices  # a late partial of a committed turn: the final wins
        self._open_turn = order
        if self.finals_only:
            return notices
        text, tail = _partial_text(transcript, words)
        if not text:
            return notices
        self._shown.add(order)
        interim = Interim(
            line_id=line_id, text=text, engine=ENGINE_ID, start=start, end=end, tail=tail, speaker=speaker
        )
        return [*notices, interim]

    def _shadow_turn(
        self, order: int, msg: dict[str, object], transcript: str, start: float | None, end: float | None
    ) -> None:
        self._seen.add(order)
        if msg.get("end_of_turn") is not True:
            if order not in self._committed:
                self._open_turn = order
            return
        if self._open_turn == order:
            self._open_turn = None
        raw = msg.get("speaker_label")
        speech = bool(transcript.strip()) and not non_speech(msg.get("utterance"))
        if not (isinstance(raw, str) and speech and start is not None and end is not None):
            return
        if (raw, start, end) not in self.shadow_turns:  # (not again for the second, formatted message)
            self.shadow_turns.append((raw, start, end))

    def end_shadow(self) -> None:
        """The handover: this session's captions count from now; the turns it heard in the shadow stay unshown."""
        self.shadow = False
        for order in self._seen:
            if order != self._open_turn:
                self._committed.setdefault(order, None)

    def committed_finals(self) -> list[Final]:
        """The lines this session committed, with their current text, times and speaker."""
        return [f for f in self._committed.values() if f is not None]

    def _commit(
        self,
        order: int,
        msg: dict[str, object],
        transcript: str,
        words: list[dict[str, object]],
        start: float | None,
        end: float | None,
        speaker: str | None,
    ) -> list[EngineEvent]:
        """An end of turn: the line's final text (a later formatted one replaces it, same id, never a new line)."""
        if self._open_turn == order:
            self._open_turn = None
        text = transcript.strip() or " ".join(str(w["text"]) for w in words).strip()
        if non_speech(msg.get("utterance")):
            text = ""  # Whisper's [Silence], [Music]…: not a caption
        if order in self._committed and self._committed[order] is None:
            return []  # a turn that made no line (not speech, or nothing said) stays so
        previous = self._committed.get(order)
        language = msg.get("language_code")
        final = Final(
            line_id=self.line_id(order),
            text=text,
            engine=ENGINE_ID,
            start=start,
            end=end,
            formatted=msg.get("turn_is_formatted") is True,
            speaker=speaker if speaker is not None else previous.speaker if previous else None,
            language=language if isinstance(language, str) and language else previous.language if previous else None,
            words=self._words(words),
        )
        if not text:
            # Nothing to show: close the line if one is on screen, else add nothing.
            if previous is not None:
                return []  # a committed line keeps its text
            self._committed[order] = None
            shown = order in self._shown
            self._shown.discard(order)
            return [final] if shown else []
        self._committed[order] = final
        if previous is not None and (previous.text, previous.speaker, previous.language) == (
            final.text,
            final.speaker,
            final.language,
        ):
            return []
        return [final]

    def _revision(self, msg: dict[str, object]) -> list[EngineEvent]:
        """``SpeakerRevision``: earlier turns relabelled; their lines are re-sent with the new speaker."""
        items = msg.get("revisions") or []
        if not isinstance(items, list):
            raise ValueError("revisions is not a list")
        events: list[EngineEvent] = []
        for item in items:
            if not isinstance(item, dict):
                continue
            final = self._committed.get(item.get("turn_order"))  # type: ignore[arg-type]
            speaker, notices = self._speaker(item.get("speaker_label"))
            events.extend(notices)
            if final is None or speaker == final.speaker:
                continue
            revised = dataclasses.replace(final, speaker=speaker)
            self._committed[int(item["turn_order"])] = revised
            events.append(revised)
        return events


def _partial_text(transcript: str, words: list[dict[str, object]]) -> tuple[str, str]:
    """``(text, tentative tail)`` of a partial turn, in either shape.

    Universal-Streaming: ``transcript`` holds the final words only and ``words`` adds the tentative tail
    (never append ``words[-1]`` to ``transcript``: it duplicates the last word). The U3 family: no word is
    final yet and ``transcript`` is the whole partial, all of it tentative. Early partials of either may
    have words but an empty ``transcript``.
    """
    tail_words: list[str] = []
    for w in reversed(words):
        if w.get("word_is_final") is True:
            break
        tail_words.append(str(w["text"]))
    if len(tail_words) == len(words):  # nothing final yet: the whole partial is tentative
        text = transcript.strip() or " ".join(reversed(tail_words)).strip()
        return text, text
    tail = " ".join(reversed(tail_words)).strip()
    stable = transcript.strip() or " ".join(str(w["text"]) for w in words[: len(words) - len(tail_words)]).strip()
    return (f"{stable} {tail}".strip() if tail else stable), tail
