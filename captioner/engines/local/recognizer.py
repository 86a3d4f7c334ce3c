"""The local engine's recogniser: PCM in, caption events out (sans-IO, runs in the decoder thread).

:class:`Recognizer` wires the parts together. It cuts the audio into endpointer frames
(:mod:`~captioner.engines.local.endpointer`), feeds the frames of each utterance to the PocketSphinx
decoder (:mod:`~captioner.engines.local.decoder`) and turns its hypotheses into events: one caption line
per utterance (ids ``"0"``, ``"1"``, …), an :class:`~captioner.captions.events.Interim` every
``interim_ms`` of audio if its text changed, and a :class:`~captioner.captions.events.Final` with
word-segment times at the end. An utterance whose words are only ones that never stand alone (a lone "the":
a breath or a click the language model filled in) makes no caption. Between utterances it applies live
setting changes and swaps in the cheaper decoder that the real-time guard
(:mod:`~captioner.engines.local.realtime`) asked for; that decoder is built on the side, in a thread of
its own.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, EngineState, Final, Interim, SpeechStarted, Status
from captioner.engines.local.decoder import (
    SAMPLE_RATE,
    BoostedWord,
    apply_boost,
    boost_token,
    boost_words,
    build_decoder,
    hypothesis,
    lm_filler_only,
)
from captioner.engines.local.endpointer import Endpointer, SpeechStart, Verdict
from captioner.engines.local.realtime import RealtimeGuard
from captioner.engines.local.settings import LocalSettings

log = logging.getLogger(__name__)


@dataclass
class _Utterance:
    line_id: str
    t0: float  # source time of the first sample fed to the decoder
    fed_samples: int = 0
    last_interim_samples: int = 0
    last_text: str = ""
    interims: int = 0


class Recognizer:
    """Endpointer + PocketSphinx decoder: PCM in, caption events out. Not thread-safe; use from one thread."""

    def __init__(self, settings: LocalSettings, engine_id: str = "local") -> None:
        self.engine_id = engine_id
        self.settings = settings
        self.endpointer = Endpointer(settings.vad_mode, SAMPLE_RATE)
        self.guard = RealtimeGuard()
        self.decoder, added = build_decoder(settings.fast, boost_words(settings.boost), settings.boost_weight)
        self.boosted: dict[str, BoostedWord] = {b.token: b for b in added}
        self._next_id = 0
        self._buf = b""
        self._buf_start: float | None = None  # source time of self._buf[0]
        self._utt: _Utterance | None = None
        # Switching to the fast decoder: requested once, built on the side, swapped in between utterances.
        self._degrade_requested = False
        self._pending_decoder: tuple[Any, list[BoostedWord]] | None = None
        self._builder: threading.Thread | None = None
        self._pending_settings: LocalSettings | None = None
        self._lock = threading.Lock()

    @property
    def fast(self) -> bool:
        """Whether the decoder runs in the cheaper mode (from the start, or since the guard switched)."""
        return self.settings.fast

    @property
    def in_speech(self) -> bool:
        return self._utt is not None

    @property
    def rtf(self) -> float:
        return self.guard.rtf

    @property
    def lag(self) -> float:
        return self.guard.lag

    @property
    def max_lag_seen(self) -> float:
        return self.guard.max_lag_seen

    @property
    def paced(self) -> bool:
        return self.guard.paced

    # -- options ------------------------------------------------------------------------------------
    def request_update(self, settings: LocalSettings) -> None:
        """Apply ``settings`` at the next utterance boundary (thread-safe)."""
        with self._lock:
            self._pending_settings = settings

    def _apply_pending(self) -> None:
        with self._lock:
            new, self._pending_settings = self._pending_settings, None
        if new is None:
            return
        words = [w for w in boost_words(new.boost) if boost_token(w) not in self.boosted]
        if words:
            for b in apply_boost(self.decoder, words, new.boost_weight):
                self.boosted[b.token] = b
        self.settings = replace(new, fast=self.fast)

    # -- audio in ------------------------------------------------------------------------------------
    def feed(self, chunk: AudioChunk) -> list[EngineEvent]:
        """Consume one chunk; return the events it produced."""
        out: list[EngineEvent] = []
        t_begin = time.perf_counter()
        s = self.settings
        # Too far behind real time: skip this audio rather than queue it.
        starts_skipping = not self.guard.skipped
        if self.guard.skip(chunk, s.max_lag_ms):
            if starts_skipping:
                self._restart(out)
            return out
        skipped = self.guard.caught_up()
        if skipped:
            out.append(
                Status(
                    engine=self.engine_id,
                    state=EngineState.DEGRADED,
                    message=f"decoding fell {s.max_lag_ms / 1000:.1f} s behind real time: "
                    f"skipped {skipped:.1f} s of audio to catch up",
                )
            )
            self._request_degrade(out, "decoding fell behind real time")
        if (
            self._buf_start is not None
            and abs(chunk.start - (self._buf_start + len(self._buf) / 2 / SAMPLE_RATE)) > 0.02
        ):
            # A jump in the source timeline: close the line in progress and start afresh.
            self._restart(out)
        if self._buf_start is None:
            self._buf_start = chunk.start
        self._buf += chunk.pcm
        fb, fs = self.endpointer.frame_bytes, self.endpointer.frame_samples
        n = len(self._buf) // fb
        for i in range(n):
            self._frame(self._buf[i * fb : (i + 1) * fb], self._buf_start + i * fs / SAMPLE_RATE, out)
        if n:
            self._buf_start += n * fs / SAMPLE_RATE
            self._buf = self._buf[n * fb :]
        self.guard.decoded(chunk, time.perf_counter() - t_begin)
        if not self.fast and not self._degrade_requested:
            why = self.guard.behind(s.rtf_budget, s.lag_budget_ms, self._utt is not None)
            if why is not None:
                self._request_degrade(out, why)
        return out

    def finish(self) -> list[EngineEvent]:
        """The audio ended: finalise the utterance in progress (never drop the last words)."""
        out: list[EngineEvent] = []
        if self._utt is not None and self._buf:
            self.decoder.process_raw(self._buf)
            self._utt.fed_samples += len(self._buf) // 2
        self._buf, self._buf_start = b"", None
        self._end_utterance(out)
        return out

    # -- internals ------------------------------------------------------------------------------------
    def _restart(self, out: list[EngineEvent]) -> None:
        """Close the line in progress and drop the audio held (partial frame and pre-roll)."""
        self._end_utterance(out)
        self._buf, self._buf_start = b"", None
        self.endpointer.reset()

    def _request_degrade(self, out: list[EngineEvent], why: str) -> None:
        if self.fast or self._degrade_requested:
            return
        self._degrade_requested = True
        out.append(
            Status(
                engine=self.engine_id,
                state=EngineState.DEGRADED,
                message=f"{why}: switching to a faster, less accurate decoding mode",
            )
        )
        words = [b.display for b in self.boosted.values()]
        weight = self.settings.boost_weight

        def build() -> None:
            try:
                self._pending_decoder = build_decoder(True, words, weight)
            except Exception:  # pragma: no cover - the model loaded once already
                log.exception("cannot build the fast decoder")

        self._builder = threading.Thread(target=build, name="captioner-local-fast-build", daemon=True)
        self._builder.start()

    def _between_utterances(self, out: list[EngineEvent]) -> None:
        if self._pending_decoder is not None:
            self.decoder, added = self._pending_decoder
            self._pending_decoder = None
            # Words boosted live while the fast decoder was being built.
            built = {a.token for a in added}
            missing = [b.display for t, b in self.boosted.items() if t not in built]
            if missing:
                added += apply_boost(self.decoder, missing, self.settings.boost_weight)
            self.boosted = {b.token: b for b in added}
            self.settings = replace(self.settings, fast=True)
            out.append(
                Status(engine=self.engine_id, state=EngineState.DEGRADED, message="now decoding in the faster mode")
            )
        self._apply_pending()

    def _frame(self, frame: bytes, t: float, out: list[EngineEvent]) -> None:
        s = self.settings
        verdict = self.endpointer.push(frame, t, s.silence_ms, s.max_utterance_s)
        if isinstance(verdict, SpeechStart):
            self._start_utterance(verdict, out)
            return
        if verdict is Verdict.SILENCE:
            return
        utt = self._utt
        assert utt is not None  # the endpointer is in speech exactly while an utterance is open
        self._feed_decoder(frame)
        utt.fed_samples += len(frame) // 2
        if verdict is Verdict.END:
            self._end_utterance(out)
            return
        # Until the first words show, look every 3 frames (90 ms); then every interim_ms.
        step = s.interim_ms if utt.interims else min(s.interim_ms, 90)
        if utt.fed_samples - utt.last_interim_samples >= step * SAMPLE_RATE // 1000:
            utt.last_interim_samples = utt.fed_samples
            text, words = hypothesis(self.decoder, self.boosted, utt.t0)
            if lm_filler_only(text):
                text = ""  # not shown until a word that can stand alone comes (it may be a noise)
            if text and text != utt.last_text:
                utt.last_text = text
                utt.interims += 1
                start, end = words[0].start, words[-1].end
                out.append(Interim(line_id=utt.line_id, text=text, engine=self.engine_id, start=start, end=end))

    def _feed_decoder(self, frame: bytes) -> None:
        self.decoder.process_raw(frame, False, False)

    def _start_utterance(self, start: SpeechStart, out: list[EngineEvent]) -> None:
        self._between_utterances(out)
        line_id = str(self._next_id)
        self._next_id += 1
        utt = _Utterance(line_id, start.t0)
        self._utt = utt
        out.append(SpeechStarted(engine=self.engine_id, at=round(start.speech_at, 3), line_id=line_id))
        self.decoder.start_utt()
        for frame in start.frames:
            self._feed_decoder(frame)
            utt.fed_samples += len(frame) // 2
        utt.last_interim_samples = utt.fed_samples

    def _end_utterance(self, out: list[EngineEvent]) -> None:
        utt = self._utt
        if utt is None:
            return
        self._utt = None
        self.endpointer.end_speech()
        self.decoder.end_utt()
        text, words = hypothesis(self.decoder, self.boosted, utt.t0)
        if lm_filler_only(text):
            text, words = "", ()  # a non-speech sound the language model filled with its likeliest word
        if text or utt.interims:
            # An empty final closes an interim that turned out to be noise.
            start, end = (words[0].start, words[-1].end) if words else (None, None)
            out.append(Final(line_id=utt.line_id, text=text, engine=self.engine_id, start=start, end=end, words=words))
        self._between_utterances(out)
