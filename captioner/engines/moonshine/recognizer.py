"""The Moonshine engine's recogniser: PCM in, caption events out (sans-IO; the engine runs it in its threads).

:class:`Recognizer` wires the parts: 32 ms frames go through the Silero VAD
(:mod:`~captioner.engines.moonshine.vad`) into the :mod:`~captioner.engines.moonshine.segmenter`; each
segment is one caption line (ids from the engine's counter) with a ``SpeechStarted`` when it opens and a
``Final`` when it closes, decoded whole by :mod:`~captioner.engines.moonshine.decoder` with the word boost
tree (:mod:`~captioner.engines.moonshine.biasing`). Interims come from re-decoding the growing segment:
:meth:`Recognizer.interim_job` says when one is due (the first once 400 ms of speech are in, then no sooner
than max(400 ms, 3 × the last interim's decode time) of audio later, only with new voiced audio, at most
one at a time, and not when the line is about to end anyway) and :meth:`Recognizer.run_interim` decodes it
in a second thread; a segment that closes cancels the interim in flight, so a final never waits for one.
Audio cut off mid-speech (an interim, the end of input) gets 200 ms of silence appended, and an interim
that ends by repeating its last phrase loses the copy: the model tends to invent both on truncated audio.

Hallucination guard: only VAD-voiced segments are decoded; a segment with less than 200 ms of voiced audio
(shorter than any spoken word) gives no text; neither does text without a letter or digit, nor a lone filler
word ("the", "um"…) in a segment with little speech or at the very end of the input (where the model tends
to invent one); the decoder's repetition guard and token budget stop loops. Live setting changes apply
from the next segment. Feed, finish and interim_job are called from one thread; run_interim from another.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, Final, Interim, SpeechStarted
from captioner.engines.moonshine.biasing import BiasTrie
from captioner.engines.moonshine.decoder import Cancel, MoonshineDecoder
from captioner.engines.moonshine.segmenter import Closed, Opened, Segmenter, SegmentEvent
from captioner.engines.moonshine.settings import MoonshineSettings
from captioner.engines.moonshine.tokenizer import Tokenizer, clean_text, drop_repeated_tail
from captioner.engines.moonshine.vad import FRAME, SAMPLE_RATE, SileroVad

MIN_VOICED_MS = 200.0
FILLER_MAX_VOICED_MS = 500.0
FIRST_INTERIM_MS = 400
TAIL_PAD_S = 0.2
"""Silence added after audio that stops mid-speech (interims, the end of input): fewer invented repeats."""
MIN_INTERIM_GAP_MS = 400
FILLERS = frozenset({"the", "a", "an", "and", "uh", "um", "hmm", "mm", "you"})


def is_filler(text: str) -> bool:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return len(words) == 1 and words[0] in FILLERS


def _padded(audio: np.ndarray) -> np.ndarray:
    return np.concatenate((audio, np.zeros(int(TAIL_PAD_S * SAMPLE_RATE), dtype=np.float32)))


@dataclass
class _Line:
    line_id: str
    start: int
    speech_at: int
    interims: int = 0
    last_text: str = ""
    next_interim_at: int = 0
    voiced_at_interim: float = 0.0


@dataclass(frozen=True, slots=True)
class InterimJob:
    """One interim decode: the open line's audio so far."""

    line_id: str
    audio: np.ndarray
    start: float
    end: float
    cancel: Cancel


@dataclass
class RecognizerStats:
    """What the recogniser did (benchmarks, tests and the real-time guard read it)."""

    audio_s: float = 0.0
    final_decode_s: float = 0.0
    interim_decode_s: float = 0.0
    vad_s: float = 0.0
    finals: int = 0
    interims: int = 0
    interims_cancelled: int = 0
    last_interim_decode_s: float = 0.0


class Recognizer:
    """VAD + segmenter + decoder: PCM in, caption events out; see the module docstring."""

    def __init__(
        self,
        settings: MoonshineSettings,
        decoder: MoonshineDecoder,
        tokenizer: Tokenizer,
        engine_id: str,
        line_ids: Iterator[int],
        vad: SileroVad | None = None,
    ) -> None:
        self.settings = settings
        self.decoder = decoder
        self.tokenizer = tokenizer
        self.engine_id = engine_id
        self.vad = vad or SileroVad()
        self.segmenter = Segmenter(settings.silence_ms, max_s=settings.max_segment_s)
        self.bias = BiasTrie(tokenizer, settings.boost, settings.boost_score)
        self.stats = RecognizerStats()
        self.interims_allowed = True
        """Cleared by the real-time guard to drop interims."""
        self._line_ids = line_ids
        self._line: _Line | None = None
        self._job: InterimJob | None = None
        self._lock = threading.Lock()
        self._pending: MoonshineSettings | None = None
        self._rest = np.zeros(0, dtype=np.float32)
        self._t0: float | None = None  # source time of segmenter sample 0
        self._expected: float | None = None  # source time where the next chunk should start

    # -- options ------------------------------------------------------------------------------------
    def request_update(self, settings: MoonshineSettings) -> None:
        """Apply ``settings`` from the next segment on (thread-safe)."""
        with self._lock:
            self._pending = settings

    def _apply_pending(self) -> None:
        with self._lock:
            new, self._pending = self._pending, None
        if new is None:
            return
        if (new.boost, new.boost_score) != (self.settings.boost, self.settings.boost_score):
            self.bias = BiasTrie(self.tokenizer, new.boost, new.boost_score)
        self.segmenter.silence_ms = new.silence_ms
        self.segmenter.max_s = new.max_segment_s
        self.settings = new

    # -- audio in ------------------------------------------------------------------------------------
    def feed(self, chunk: AudioChunk) -> list[EngineEvent]:
        """Consume one chunk of 16 kHz PCM16; the events it produced (finals are decoded here)."""
        out: list[EngineEvent] = []
        if self._expected is not None and abs(chunk.start - self._expected) > 0.02:
            self._restart(out)  # a jump in the source timeline: close the line and start afresh
        if self._t0 is None:
            self._t0 = chunk.start
        self._expected = chunk.end
        self.stats.audio_s += chunk.duration
        samples = np.frombuffer(chunk.pcm, dtype="<i2").astype(np.float32) / 32768.0
        buf = np.concatenate((self._rest, samples)) if len(self._rest) else samples
        n = len(buf) // FRAME
        for i in range(n):
            frame = buf[i * FRAME : (i + 1) * FRAME]
            t = time.perf_counter()
            prob = self.vad(frame)
            self.stats.vad_s += time.perf_counter() - t
            for ev in self.segmenter.push(frame, prob):
                self._segment_event(ev, out)
        self._rest = buf[n * FRAME :].copy()
        return out

    def finish(self) -> list[EngineEvent]:
        """The input ended: finalise the line in progress (never drop the last words)."""
        out: list[EngineEvent] = []
        for ev in self.segmenter.flush(self._rest):
            self._segment_event(ev, out)
        self._rest = np.zeros(0, dtype=np.float32)
        return out

    def _restart(self, out: list[EngineEvent]) -> None:
        for ev in self.segmenter.flush(self._rest):
            self._segment_event(ev, out)
        self.segmenter.reset()
        self.vad.reset()
        self._rest = np.zeros(0, dtype=np.float32)
        self._t0 = None

    def _time(self, sample: int) -> float:
        assert self._t0 is not None
        return round(self._t0 + sample / SAMPLE_RATE, 3)

    # -- segments ------------------------------------------------------------------------------------
    def _segment_event(self, ev: SegmentEvent, out: list[EngineEvent]) -> None:
        if isinstance(ev, Opened):
            self._apply_pending()
            line = _Line(line_id=str(next(self._line_ids)), start=ev.start, speech_at=ev.speech_at)
            line.next_interim_at = ev.speech_at - ev.start + FIRST_INTERIM_MS * SAMPLE_RATE // 1000
            with self._lock:
                self._line = line
            out.append(SpeechStarted(engine=self.engine_id, at=self._time(ev.speech_at), line_id=line.line_id))
            return
        with self._lock:
            closing, self._line = self._line, None
            job = self._job
        if job is not None:
            job.cancel.cancel()
        if closing is None:
            return
        text = self._final_text(ev)
        if text or closing.interims:
            # An empty final closes a line whose interims turned out to be noise.
            start, end = self._time(ev.speech_start), self._time(ev.speech_end)
            out.append(Final(line_id=closing.line_id, text=text, engine=self.engine_id, start=start, end=end))
            self.stats.finals += 1
        if ev.reason != "split":
            self._apply_pending()

    def _final_text(self, seg: Closed) -> str:
        if seg.voiced_ms < MIN_VOICED_MS:
            return ""
        audio = seg.audio if seg.reason != "end" else _padded(seg.audio)
        t = time.perf_counter()
        decoded = self.decoder.transcribe(audio, bias=self.bias)
        self.stats.final_decode_s += time.perf_counter() - t
        text = clean_text(self.tokenizer.decode(decoded.tokens))
        if is_filler(text) and (seg.reason == "end" or seg.voiced_ms < FILLER_MAX_VOICED_MS):
            return ""
        return text

    # -- interims ------------------------------------------------------------------------------------
    def interim_job(self) -> InterimJob | None:
        """The interim decode due now, if any (see the module docstring); call from the feeding thread."""
        line = self._line
        seg = self.segmenter
        if line is None or self._job is not None or not (self.settings.interim and self.interims_allowed):
            return None
        current = seg.audio()
        if current is None or seg.voiced_ms < MIN_VOICED_MS or seg.voiced_ms <= line.voiced_at_interim:
            return None
        audio, start = current
        if len(audio) < line.next_interim_at:
            return None
        silent = seg.silence_run_ms
        if silent and silent + 1000 * self.stats.last_interim_decode_s >= seg.silence_ms:
            return None  # the speaker paused: if the pause goes on, the final comes before this interim would
        gap = max(MIN_INTERIM_GAP_MS / 1000, 3 * self.stats.last_interim_decode_s)
        line.next_interim_at = len(audio) + int(gap * SAMPLE_RATE)
        line.voiced_at_interim = seg.voiced_ms
        job = InterimJob(
            line_id=line.line_id,
            audio=audio,
            start=self._time(line.speech_at),
            end=self._time(start + len(audio)),
            cancel=Cancel(),
        )
        with self._lock:
            self._job = job
        return job

    def cancel_interim(self) -> None:
        """Cancel the interim decode in flight, if any (thread-safe)."""
        with self._lock:
            job = self._job
        if job is not None:
            job.cancel.cancel()

    def run_interim(self, job: InterimJob) -> list[EngineEvent]:
        """Decode ``job`` (in the interim thread); its ``Interim``, unless cancelled, stale or unchanged."""
        t = time.perf_counter()
        decoded = self.decoder.transcribe(_padded(job.audio), bias=self.bias, cancel=job.cancel)
        spent = time.perf_counter() - t
        text = drop_repeated_tail(clean_text(self.tokenizer.decode(decoded.tokens)))
        with self._lock:
            if self._job is job:
                self._job = None
            self.stats.interim_decode_s += spent
            if decoded.stop == "cancelled" or job.cancel.cancelled:
                self.stats.interims_cancelled += 1
                return []
            self.stats.last_interim_decode_s = spent
            line = self._line
            if line is None or line.line_id != job.line_id:
                return []
            line.next_interim_at = max(line.next_interim_at, len(job.audio) + int(3 * spent * SAMPLE_RATE))
            if not text or text == line.last_text:
                return []
            line.last_text = text
            line.interims += 1
            self.stats.interims += 1
        return [Interim(line_id=job.line_id, text=text, engine=self.engine_id, start=job.start, end=job.end)]
