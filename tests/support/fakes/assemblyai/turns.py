"""The fake AssemblyAI's turn generator: the script revealed as audio arrives, in the model's shape.

:class:`TurnMaker` runs on one connection. After every audio frame it emits what the real service
would by then (``SpeechStarted``, partial and end-of-turn ``Turn`` messages), counting words and
silences in audio *received* (the service's clock), with times in ms of received audio:

* Universal-Streaming and Whisper: cumulative partials, ``transcript`` = the final words, ``words``
  adding the tentative tail; the end of a turn after ``min_turn_silence``; with ``format_turns`` a
  second formatted end-of-turn message (2025 style, optionally late, i.e. after the next turn's
  first partials) or formatting in place (2026 style). Whisper adds ``[Silence]`` turns in pauses.
* The Universal-3 Pro family: see :mod:`.models`.
* Speaker labels, the ``SpeakerRevision`` sent before ``Termination``, and ``language_code``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.support.fakes.assemblyai.models import FakeModel, SpeakerLabels
from tests.support.fakes.assemblyai.records import ConnRecord, received_at
from tests.support.fakes.assemblyai.script import ScriptTurn, Word

Send = Callable[[dict[str, Any]], Awaitable[None]]
TERMINAL = (".", "?", "!")


@dataclass
class Shape:
    """How the server that owns this connection behaves (the fake's switches)."""

    formatting: str = "two-message"
    final_lag: float = 0.1
    format_lag: float = 0.0
    speech_started: bool = False
    whisper_silence_s: float = 1.0
    empty_force_endpoint: bool = False


class _Turn:
    def __init__(self, script: ScriptTurn, conn_start: float) -> None:
        self.script = script
        self.words = tuple(w for w in script.words if w.start >= conn_start - 1e-6)
        self.order: int | None = None
        self.last: tuple[int, int] = (0, 0)
        self.finished = False
        self.heard: tuple[Word, ...] = ()
        self.paused_at = -1  # U3: the number of words heard when the last pause partial was sent
        self.early = False


class TurnMaker:
    def __init__(
        self,
        script: tuple[ScriptTurn, ...],
        rec: ConnRecord,
        model: FakeModel,
        shape: Shape,
        config: dict[str, Any],
        send: Send,
    ) -> None:
        self.rec, self.model, self.shape, self.config, self.send = rec, model, shape, config, send
        self.script = script
        self.turns = [_Turn(t, 0.0) for t in script]
        self.next_order = 0
        self.labels = SpeakerLabels()
        self.revisions: list[dict[str, Any]] = []
        self.pending: list[tuple[float, dict[str, Any]]] = []  # late formatted messages: (due, message)
        self.quiet_from = 0.0  # Whisper: received seconds since which nothing was said
        self.language = "en"

    def restart_at(self, source_offset: float) -> None:
        """The connection's first frame sits at ``source_offset``: only later words can be heard."""
        self.turns = [_Turn(t, source_offset) for t in self.script]

    # -- message building --------------------------------------------------------------------
    def _ms(self, t: float) -> int:
        return round(received_at(self.rec, t) * 1000)

    def _words(self, st: _Turn, n_final: int, *, formatted: bool, eot: bool, dash: bool = False) -> list[Any]:
        out = []
        for i, w in enumerate(st.heard):
            text = w.fmt if formatted else w.text
            if dash and i == len(st.heard) - 1:
                text = text.rstrip(".,?!") + "—"
            out.append(
                {
                    "start": self._ms(w.start),
                    "end": self._ms(w.end),
                    "text": text,
                    "confidence": 0.93,
                    "word_is_final": eot or i < n_final,
                }
            )
        return out

    def _turn(self, st: _Turn, words: list[Any], transcript: str, *, eot: bool, formatted: bool) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "Turn",
            "turn_order": st.order,
            "turn_is_formatted": formatted,
            "end_of_turn": eot,
            "transcript": transcript,
            "end_of_turn_confidence": (1.0 if self.model.u3 else 0.91) if eot else 0.05,
            "words": words,
            "utterance": transcript if eot else "",
        }
        if eot:
            self._annotate(st, msg)
        return msg

    def _annotate(self, st: _Turn, msg: dict[str, Any]) -> None:
        """Speaker label and detected language, on end-of-turn messages (when asked for)."""
        params = self.rec.params
        if params.get("language_detection") and st.script.language:
            self.language = st.script.language
            msg["language_code"], msg["language_confidence"] = st.script.language, 0.9
        if not params.get("speaker_labels"):
            return
        shown = self.labels.label(st.script.live_speaker or st.script.speaker, st.script.duration)
        true = self.labels.label(st.script.speaker, st.script.duration)
        msg["speaker_label"] = shown
        for w in msg["words"]:
            w["speaker"] = shown
        if shown != true and not any(r["turn_order"] == st.order for r in self.revisions):
            words = [{**w, "speaker": true} for w in msg["words"]]
            self.revisions.append({"turn_order": st.order, "speaker_label": true, "words": words})

    async def _end(self, st: _Turn) -> None:
        st.finished = True
        self.quiet_from = self.rec.audio_seconds
        if st.script.tag:
            await self._tag_turn(st, st.script.tag)
            return
        if self.model.u3:
            words = self._words(st, 0, formatted=True, eot=True)
            await self.send(self._turn(st, words, " ".join(w.fmt for w in st.heard), eot=True, formatted=True))
            return
        fmt = bool(self.rec.params.get("format_turns")) and self.shape.formatting == "in-place"
        words = self._words(st, len(st.heard), formatted=fmt, eot=True)
        msg = self._turn(st, words, " ".join(w["text"] for w in words), eot=True, formatted=fmt)
        await self.send(msg)
        if self.rec.params.get("format_turns") and not fmt:
            second = dict(msg, turn_is_formatted=True, transcript=" ".join(w.fmt for w in st.heard), utterance="")
            self.pending.append((self.rec.audio_seconds + self.shape.format_lag, second))
            await self.flush(self.rec.audio_seconds)

    async def _tag_turn(self, st: _Turn, tag: str) -> None:
        """Whisper's non-speech turn: a bracketed tag in ``utterance``, the bare word in ``transcript``."""
        start = self._ms(st.words[0].start) if st.words else round(self.quiet_from * 1000)
        end = self._ms(st.words[-1].end) if st.words else round(self.rec.audio_seconds * 1000)
        word = {"start": start, "end": end, "text": tag.lower(), "confidence": 0.0, "word_is_final": True}
        msg = self._turn(st, [word], f" {tag.lower()}", eot=True, formatted=False)
        msg["utterance"] = f"[{tag}]"
        await self.send(msg)

    async def flush(self, now_recv: float, *, everything: bool = False) -> None:
        """Send the late formatted messages that are due."""
        due = [p for p in self.pending if everything or p[0] <= now_recv + 1e-9]
        for item in due:
            self.pending.remove(item)
            await self.send(item[1])

    # -- driving -----------------------------------------------------------------------------
    async def advance(self, now_src: float) -> None:
        """After a frame: everything the service would have said by source time ``now_src``."""
        now_recv = self.rec.audio_seconds
        speaking = False
        for st in self.turns:
            if st.finished or not st.words:
                continue
            heard = tuple(w for w in st.words if (w.start + w.end) / 2 <= now_src + 1e-9)
            if not heard:
                break  # this turn has not started yet; later turns neither
            if st.order is None:
                st.order = self.next_order
                self.next_order += 1
                if self.shape.speech_started or self.model.u3:
                    ts = self._ms(heard[0].start)
                    await self.send({"type": "SpeechStarted", "timestamp": ts, "confidence": 0.98})
            st.heard = heard
            done = await (self._u3(st, now_recv, now_src) if self.model.u3 else self._universal(st, now_recv, now_src))
            if not done:
                speaking = True
                break
        if not speaking:
            await self._whisper_silence(now_recv)
        await self.flush(now_recv)

    def _silence(self, st: _Turn, now_recv: float, now_src: float) -> float:
        """Silence since the last word heard (none while the next word is being spoken)."""
        if len(st.heard) < len(st.words) and st.words[len(st.heard)].start <= now_src + 1e-9:
            return 0.0
        return now_recv - received_at(self.rec, st.heard[-1].end)

    async def _universal(self, st: _Turn, now_recv: float, now_src: float) -> bool:
        n_final = sum(1 for w in st.heard if received_at(self.rec, w.end) + self.shape.final_lag <= now_recv + 1e-9)
        if (len(st.heard), n_final) != st.last and not st.script.tag:
            st.last = (len(st.heard), n_final)
            fmt = bool(self.rec.params.get("format_turns")) and self.shape.formatting == "in-place"
            words = self._words(st, n_final, formatted=fmt, eot=False)
            transcript = " ".join(w["text"] for w in words[:n_final])
            await self.send(self._turn(st, words, transcript, eot=False, formatted=fmt))
        silence = int(self.config["min_turn_silence"]) / 1000.0
        if len(st.heard) == len(st.words) and self._silence(st, now_recv, now_src) >= silence - 1e-9:
            await self._end(st)
            return True
        return False

    async def _u3(self, st: _Turn, now_recv: float, now_src: float) -> bool:
        lo, hi = int(self.config["min_turn_silence"]) / 1000.0, int(self.config["max_turn_silence"]) / 1000.0
        silence = self._silence(st, now_recv, now_src)
        complete = len(st.heard) == len(st.words) and st.heard[-1].fmt.endswith(TERMINAL)
        if silence >= lo - 1e-9 and (complete or silence >= hi - 1e-9):
            await self._end(st)
            return True
        spoken = received_at(self.rec, st.heard[-1].end) - received_at(self.rec, st.heard[0].start)
        if not st.early and st.paused_at < 0 and spoken >= 0.75:
            st.early = True  # the early partial of a long stretch of speech
            await self._u3_partial(st, dash=False)
        elif silence >= lo - 1e-9 and st.paused_at != len(st.heard):
            st.paused_at = len(st.heard)  # at most one partial per pause
            await self._u3_partial(st, dash=True)
        return False

    async def _u3_partial(self, st: _Turn, *, dash: bool) -> None:
        words = self._words(st, 0, formatted=True, eot=False, dash=dash)
        await self.send(self._turn(st, words, " ".join(w["text"] for w in words), eot=False, formatted=False))

    async def _whisper_silence(self, now_recv: float) -> None:
        """Whisper: a ``[Silence]`` end-of-turn in a pause with nothing said."""
        if not self.model.whisper or now_recv - self.quiet_from < self.shape.whisper_silence_s - 1e-9:
            return
        start = round(self.quiet_from * 1000)
        order, self.next_order = self.next_order, self.next_order + 1
        words = [
            {"start": start, "end": start + 38, "text": "", "confidence": 0.0, "word_is_final": True},
            {"start": start + 76, "end": start + 387, "text": "silence", "confidence": 0.0, "word_is_final": True},
        ]
        msg = {
            "type": "Turn",
            "turn_order": order,
            "turn_is_formatted": False,
            "end_of_turn": True,
            "transcript": " silence  silence",
            "end_of_turn_confidence": 1.0,
            "words": words,
            "utterance": "[ Silence] [ Silence]",
        }
        if self.rec.params.get("language_detection"):
            msg["language_code"], msg["language_confidence"] = self.language, 0.48
        self.quiet_from = now_recv
        await self.send(msg)

    async def force_endpoint(self) -> None:
        """``ForceEndpoint`` / ``Terminate``: the open turn ends now (or, switched on, an empty end of turn)."""
        ended = False
        for st in self.turns:
            if st.order is not None and not st.finished:
                await self._end(st)
                ended = True
        if not ended and self.shape.empty_force_endpoint:
            order, self.next_order = self.next_order, self.next_order + 1
            empty = {"turn_order": order, "turn_is_formatted": False, "end_of_turn": True, "transcript": ""}
            await self.send({"type": "Turn", **empty, "end_of_turn_confidence": 1.0, "words": [], "utterance": ""})
        await self.flush(self.rec.audio_seconds, everything=True)

    async def terminate(self) -> None:
        """Before ``Termination``: the last turn, then (with speaker labels) one ``SpeakerRevision``."""
        await self.force_endpoint()
        if self.revisions:
            await self.send({"type": "SpeakerRevision", "revisions": self.revisions})
