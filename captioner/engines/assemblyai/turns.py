"""AssemblyAI Universal-Streaming v3: server messages → caption events (sans-IO).

Owns the meaning of what the server sends on one connection: :class:`TurnTracker`
turns ``Begin`` / ``Turn`` / ``SpeechStarted`` / ``Termination`` / ``Error`` /
``Warning`` JSON into caption events, one caption line per ``turn_order``,
with times mapped back to the source timeline.

Protocol facts (turn semantics, both formatting patterns): ``docs/protocols/assemblyai-v3.md``.
"""

from __future__ import annotations

import json
import logging
import math
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
from captioner.engines.timeline import AudioTimeline

log = logging.getLogger(__name__)


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
    engine (rollover).
    """

    def __init__(self, *, prefix: str = "", offset: float = 0.0, finals_only: bool = False) -> None:
        self.prefix = prefix
        self.offset = offset
        self.timeline = AudioTimeline()
        self.finals_only = finals_only
        self.session: SessionInfo | None = None
        self.terminated = False
        self.usage: Usage | None = None
        self.server_error: str | None = None
        self.server_error_code: int | None = None
        self._committed: dict[int, str] = {}
        self._open_turn: int | None = None
        self.malformed = 0

    @property
    def has_open_turn(self) -> bool:
        return self._open_turn is not None

    def line_id(self, turn_order: int) -> str:
        return f"{self.prefix}{turn_order}"

    def _t(self, ms: object, *, end: bool = False) -> float | None:
        if isinstance(ms, int | float) and not isinstance(ms, bool) and math.isfinite(ms):
            if self.timeline:
                mapped = self.timeline.to_source(float(ms) / 1000.0, end=end)
                assert mapped is not None
                return round(mapped, 3)
            return round(self.offset + float(ms) / 1000.0, 3)
        return None

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
                return [SpeechStarted(engine=ENGINE_ID, at=at)]
            if kind == "Termination":
                return self._termination(msg)
            if kind == "Error" or (kind is None and "error" in msg):
                self.server_error = str(msg.get("error") or "server error")
                code = msg.get("error_code")
                self.server_error_code = code if isinstance(code, int) else None
                log.warning("AssemblyAI server error (code %s): %s", self.server_error_code, self.server_error)
                return []
            if kind == "Warning":
                return [Notice(engine=ENGINE_ID, message=f"AssemblyAI warning: {msg.get('warning', '')}".strip())]
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            self.malformed += 1
            log.warning("AssemblyAI: skipped a malformed %s message (%s)", kind, exc)
            return []
        log.debug("AssemblyAI: ignored message type %r", kind)
        return []

    def _begin(self, msg: dict[str, object]) -> list[EngineEvent]:
        sid = str(msg.get("id", ""))
        exp = msg.get("expires_at")
        expires: float | None = None
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            expires = float(exp)
        elif isinstance(exp, str):
            try:
                dt = datetime.fromisoformat(exp.replace("Z", "+00:00"))
                expires = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
            except ValueError:
                expires = None
        self.session = SessionInfo(sid, expires)
        when = ""
        if expires is not None:
            when = f", expires {time.strftime('%H:%M:%S', time.localtime(expires))}"
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
            audio_seconds=float(audio) if isinstance(audio, int | float) else 0.0,
            session_seconds=float(sess) if isinstance(sess, int | float) else None,
            session_id=self.session.session_id if self.session else None,
        )
        return [self.usage]

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
        end_of_turn = msg.get("end_of_turn") is True
        formatted = msg.get("turn_is_formatted") is True
        line_id = self.line_id(order)
        start = self._t(words[0].get("start")) if words else None
        end = self._t(words[-1].get("end"), end=True) if words else None
        if end_of_turn:
            # Only end_of_turn commits. A second (formatted) end-of-turn message of the same
            # turn_order replaces the text of the committed line: same id, never a new line.
            text = transcript.strip() or " ".join(str(w["text"]) for w in words).strip()
            previous = self._committed.get(order)
            self._committed[order] = text
            if self._open_turn == order:
                self._open_turn = None
            if previous is not None and previous == text:
                return []
            timed = self._words(words)
            return [
                Final(
                    line_id=line_id, text=text, engine=ENGINE_ID, start=start, end=end, formatted=formatted, words=timed
                )
            ]
        if order in self._committed:
            return []  # a late partial of a committed turn: the final wins
        self._open_turn = order
        if self.finals_only:
            return []
        # transcript holds the final words only; words adds the tentative tail.
        # Never append words[-1] to transcript: show transcript + the non-final words after it.
        tail_words: list[str] = []
        for w in reversed(words):
            if w.get("word_is_final") is True:
                break
            tail_words.append(str(w["text"]))
        tail = " ".join(reversed(tail_words)).strip()
        stable = transcript.strip()
        if not stable:
            stable = " ".join(str(w["text"]) for w in words[: len(words) - len(tail_words)]).strip()
        text = f"{stable} {tail}".strip() if tail else stable
        if not text:
            return []
        return [Interim(line_id=line_id, text=text, engine=ENGINE_ID, start=start, end=end, tail=tail)]
