"""The embedded offline engine ``local``: PocketSphinx 5 with its bundled en-US model.

How it works (details and measured figures in ``docs/local-engine.md``):

* A voice-activity endpointer (PocketSphinx's WebRTC-style :class:`pocketsphinx.Vad`,
  30 ms frames) decides where an utterance starts and ends. Speech starts when
  most of the last 300 ms is voiced (the 500 ms before it are fed too, so no
  onset is clipped); it ends when ``silence_ms`` of (nearly) unvoiced audio
  follow. Each utterance is one caption line (ids ``"0"``, ``"1"``, …).
* While speech goes on, the partial hypothesis is published as an
  :class:`~captioner.captions.events.Interim` every ``interim_ms`` of audio, if
  its text changed; the end of the utterance gives a
  :class:`~captioner.captions.events.Final` with word-segment times.
* Decoding runs in one worker thread (``pocketsphinx`` is not thread-safe and
  holds the GIL while it decodes, so audio is fed in 30 ms calls to let the
  event loop run between them).
* Word boost: each word of each term gets a fresh decoder word (a token
  ``<word>__boost``) with its dictionary pronunciations (all variants) or,
  for unknown words, a rule-based letter-to-sound pronunciation, and a
  unigram in the language model with a raised weight. The caption shows the
  word as the user typed it.
* Real-time guard: lag (wall clock vs. the audio position decoded) and the
  real-time factor are watched; when decoding falls behind, a cheaper decoder
  (narrower beams, fewer HMMs per frame, no lattice pass) is built on the side
  and swapped in between utterances, and a ``DEGRADED`` status says so. If
  lag still exceeds ``max_lag_ms``, audio is skipped (and said so) rather than
  queued without bound.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import re
import threading
import time
from collections.abc import AsyncIterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, EngineState, Final, Interim, Notice, SpeechStarted, Status
from captioner.engines.base import Capabilities, Credentials, Engine, EngineFailure, EngineOptions, WordBoostLimits
from captioner.engines.local_g2p import letter_to_sound

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
FRAME_RATE = 100  # PocketSphinx feature frames per second
DEFAULT_SILENCE_MS = 600
MIN_SILENCE_MS = 90
BOOST_SUFFIX = "__boost"

#: Decoder settings for normal operation (measured on the real-speech fixtures, see docs/local-engine.md):
#: the forward-flat second pass costs time and did not lower WER on our fixtures, so it is off.
NORMAL_CONFIG: dict[str, Any] = {"fwdflat": False, "bestpath": True, "maxhmmpf": 10000, "topn": 2}
#: The cheaper mode used when decoding falls behind real time (~2-3x faster, less accurate).
FAST_CONFIG: dict[str, Any] = {
    "fwdflat": False,
    "bestpath": False,
    "beam": 1e-40,
    "wbeam": 1e-24,
    "pbeam": 1e-40,
    "maxhmmpf": 5000,
    "topn": 2,
}


def _model_dir() -> Path:
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us"


def _parse_float(extra: Mapping[str, str], key: str, default: float, lo: float, hi: float) -> float:
    raw = extra.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"local engine option {key} must be a number, got {raw!r}") from None
    if not (lo <= value <= hi) or math.isnan(value):
        raise ValueError(f"local engine option {key} must be between {lo:g} and {hi:g}, got {raw!r}")
    return value


KNOWN_EXTRA = (
    "boost_weight",
    "interim_ms",
    "rtf_budget",
    "lag_budget_ms",
    "max_lag_ms",
    "vad_mode",
    "max_utterance_s",
    "mode",
)


@dataclass(frozen=True, slots=True)
class LocalSettings:
    """The engine's options, parsed and validated."""

    silence_ms: int = DEFAULT_SILENCE_MS
    boost: tuple[str, ...] = ()
    boost_weight: float = 500.0
    """Unigram weight of a boosted word, relative to a uniform unigram (1 / vocabulary size)."""
    interim_ms: int = 250
    rtf_budget: float = 0.9
    """Degrade when decoding time / audio time (moving average) exceeds this."""
    lag_budget_ms: int = 1500
    """Degrade when decoded audio is this far behind the wall clock."""
    max_lag_ms: int = 6000
    """Skip audio (not queue it) when lag exceeds this even so."""
    vad_mode: int = 0
    max_utterance_s: float = 15.0
    fast: bool = False
    """Start in the cheaper mode (``mode=fast``)."""

    @classmethod
    def from_options(cls, options: EngineOptions) -> LocalSettings:
        lang = (options.language or "en").lower()
        if lang.split("-")[0].split("_")[0] != "en":
            raise ValueError(f"the local engine only knows English (en), not {options.language!r}")
        extra = options.extra
        unknown = [k for k in extra if k not in KNOWN_EXTRA]
        if unknown:
            raise ValueError(f"unknown local engine option(s): {', '.join(unknown)}; known: {', '.join(KNOWN_EXTRA)}")
        mode = extra.get("mode", "normal").strip().lower() or "normal"
        if mode not in ("normal", "fast"):
            raise ValueError(f"local engine option mode must be normal or fast, got {mode!r}")
        silence = DEFAULT_SILENCE_MS if options.silence_ms is None else int(options.silence_ms)
        return cls(
            silence_ms=max(MIN_SILENCE_MS, silence),
            boost=tuple(t.strip() for t in options.word_boost if t.strip()),
            boost_weight=_parse_float(extra, "boost_weight", 500.0, 1.0, 1e6),
            interim_ms=int(_parse_float(extra, "interim_ms", 250, 30, 10_000)),
            rtf_budget=_parse_float(extra, "rtf_budget", 0.9, 0.0, 100.0),
            lag_budget_ms=int(_parse_float(extra, "lag_budget_ms", 1500, 0, 600_000)),
            max_lag_ms=int(_parse_float(extra, "max_lag_ms", 6000, 0, 600_000)),
            vad_mode=int(_parse_float(extra, "vad_mode", 0, 0, 3)),
            max_utterance_s=_parse_float(extra, "max_utterance_s", 15.0, 1.0, 600.0),
            fast=mode == "fast",
        )


# -- word boost ------------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[A-Za-z0-9']+")


@dataclass(frozen=True, slots=True)
class BoostedWord:
    """One boosted word as added to the decoder."""

    display: str
    token: str
    pronunciations: tuple[str, ...]
    source: str  # "dictionary" or "letter-to-sound"


def boost_words(terms: tuple[str, ...]) -> list[str]:
    """The distinct words of ``terms`` (multi-word terms are boosted word by word)."""
    out: list[str] = []
    seen: set[str] = set()
    for term in terms:
        for w in _WORD_RE.findall(term):
            w = w.strip("'")
            if w and w.lower() not in seen:
                seen.add(w.lower())
                out.append(w)
    return out


def _pronunciations(decoder: Any, word: str) -> tuple[tuple[str, ...], str]:
    lower = word.lower()
    prons: list[str] = []
    k = 1
    while True:
        p = decoder.lookup_word(lower if k == 1 else f"{lower}({k})")
        if not p:
            break
        prons.append(p)
        k += 1
    if prons:
        return tuple(prons), "dictionary"
    lts = letter_to_sound(word)
    return ((lts,) if lts else ()), "letter-to-sound"


def apply_boost(decoder: Any, words: list[str], weight: float) -> list[BoostedWord]:
    """Add ``words`` to ``decoder``: dictionary entries and raised LM unigrams. Between utterances only."""
    lm = decoder.get_lm()
    added: list[BoostedWord] = []
    entries: list[tuple[str, str]] = []
    for word in words:
        token = re.sub(r"[^a-z0-9']", "", word.lower()) + BOOST_SUFFIX
        if decoder.lookup_word(token) or any(b.token == token for b in added):
            continue  # already boosted
        prons, source = _pronunciations(decoder, word)
        if not prons:
            continue
        # The LM unigram first: the decoder's add_word would otherwise add it with a uniform weight.
        if lm is not None:
            lm.add_word(token, float(weight))
        entries.extend((token if i == 0 else f"{token}({i + 1})", pron) for i, pron in enumerate(prons))
        added.append(BoostedWord(word, token, prons, source))
    for i, (name, pron) in enumerate(entries):
        # Rebuild the search (lexicon tree) once, with the last word.
        decoder.add_word(name, pron, i == len(entries) - 1)
    return added


# -- the recogniser (runs only in the decoder thread) ----------------------------------------------


def build_decoder(fast: bool, boost: list[str], weight: float) -> tuple[Any, list[BoostedWord]]:
    from pocketsphinx import Decoder

    cfg = dict(FAST_CONFIG if fast else NORMAL_CONFIG)
    decoder = Decoder(loglevel="FATAL", mmap=False, samprate=SAMPLE_RATE, **cfg)
    added = apply_boost(decoder, boost, weight) if boost else []
    return decoder, added


@dataclass
class _Utterance:
    line_id: str
    t0: float  # source time of the first sample fed to the decoder
    speech_at: float
    fed_samples: int = 0
    last_interim_samples: int = 0
    last_text: str = ""
    interims: int = 0
    trailing: collections.deque[bool] = field(default_factory=collections.deque)
    silent_run: int = 0


class Recognizer:
    """Endpointer + PocketSphinx decoder: PCM in, caption events out. Not thread-safe; use from one thread."""

    FRAME_SAMPLES = 480  # 30 ms at 16 kHz (the Vad frame)
    START_WINDOW = 10  # frames (300 ms) looked at to decide that speech started
    START_VOICED = 7  # of which this many must be voiced
    PREROLL_FRAMES = 17  # ~500 ms of audio fed before the detected start

    def __init__(self, settings: LocalSettings, engine_id: str = "local") -> None:
        from pocketsphinx import Vad

        self.engine_id = engine_id
        self.settings = settings
        self.vad = Vad(settings.vad_mode, SAMPLE_RATE, self.FRAME_SAMPLES / SAMPLE_RATE)
        self.frame_bytes = int(self.vad.frame_bytes)
        self.frame_samples = self.frame_bytes // 2
        self.fast = settings.fast
        self.decoder, added = build_decoder(self.fast, boost_words(settings.boost), settings.boost_weight)
        self.boosted: dict[str, BoostedWord] = {b.token: b for b in added}
        self._next_id = 0
        self._buf = b""
        self._buf_start: float | None = None  # source time of self._buf[0]
        self._idle: collections.deque[tuple[bytes, float, bool]] = collections.deque(maxlen=self.PREROLL_FRAMES)
        self._utt: _Utterance | None = None
        # Real-time guard.
        self._anchor: float | None = None  # max(captured_at - end) over chunks: wall clock of audio time 0
        self._min_anchor: float | None = None
        self.paced = True
        self._rtf = 0.0
        self.lag = 0.0
        self.max_lag_seen = 0.0
        self._degrade_requested = False
        self._pending_decoder: tuple[Any, list[BoostedWord]] | None = None
        self._builder: threading.Thread | None = None
        self._skipping = 0.0
        self._pending_settings: LocalSettings | None = None
        self._lock = threading.Lock()

    # -- options ------------------------------------------------------------------------------------
    def request_update(self, settings: LocalSettings) -> None:
        """Apply ``settings`` at the next utterance boundary (thread-safe)."""
        with self._lock:
            self._pending_settings = settings

    def _apply_pending(self, out: list[EngineEvent]) -> None:
        with self._lock:
            new, self._pending_settings = self._pending_settings, None
        if new is None:
            return
        words = [w for w in boost_words(new.boost) if not self._is_boosted(w)]
        if words:
            for b in apply_boost(self.decoder, words, new.boost_weight):
                self.boosted[b.token] = b
        self.settings = replace(new, fast=self.fast)

    def _is_boosted(self, word: str) -> bool:
        return re.sub(r"[^a-z0-9']", "", word.lower()) + BOOST_SUFFIX in self.boosted

    # -- audio in ------------------------------------------------------------------------------------
    def feed(self, chunk: AudioChunk) -> list[EngineEvent]:
        """Consume one chunk; return the events it produced."""
        out: list[EngineEvent] = []
        t_begin = time.perf_counter()
        anchor = chunk.captured_at - chunk.end
        self._anchor = anchor if self._anchor is None else max(self._anchor, anchor)
        self._min_anchor = anchor if self._min_anchor is None else min(self._min_anchor, anchor)
        # Audio that arrived well ahead of the wall clock comes from a file read as fast as we
        # decode: there is no real time to keep up with, so the guard stands down.
        self.paced = self._anchor - self._min_anchor < 2.0
        lag = max(0.0, time.monotonic() - (self._anchor + chunk.end)) if self.paced else 0.0
        s = self.settings
        # Too far behind even so: skip this audio rather than queue it.
        if (s.max_lag_ms and lag * 1000 > s.max_lag_ms) or (self._skipping and lag > 0.5):
            if not self._skipping:
                self._end_utterance(out)
                self._buf, self._buf_start = b"", None
                self._idle.clear()
            self._skipping += chunk.duration
            self.lag = lag
            return out
        if self._skipping:
            out.append(
                Status(
                    self.engine_id,
                    EngineState.DEGRADED,
                    f"decoding fell {s.max_lag_ms / 1000:.1f} s behind real time: "
                    f"skipped {self._skipping:.1f} s of audio to catch up",
                )
            )
            self._skipping = 0.0
            self._request_degrade(out, "decoding fell behind real time")
        if (
            self._buf_start is not None
            and abs(chunk.start - (self._buf_start + len(self._buf) / 2 / SAMPLE_RATE)) > 0.02
        ):
            # A jump in the source timeline: close the line in progress and start afresh.
            self._end_utterance(out)
            self._buf, self._buf_start = b"", None
            self._idle.clear()
        if self._buf_start is None:
            self._buf_start = chunk.start
        self._buf += chunk.pcm
        fb = self.frame_bytes
        n = len(self._buf) // fb
        for i in range(n):
            frame = self._buf[i * fb : (i + 1) * fb]
            t = self._buf_start + i * self.frame_samples / SAMPLE_RATE
            self._frame(frame, t, out)
        if n:
            self._buf_start += n * self.frame_samples / SAMPLE_RATE
            self._buf = self._buf[n * fb :]
        # Real-time guard: moving average of the real-time factor, and the lag after this chunk.
        spent = time.perf_counter() - t_begin
        if chunk.duration > 0:
            alpha = min(1.0, chunk.duration / 3.0)  # ~3 s time constant
            self._rtf += alpha * (spent / chunk.duration - self._rtf)
        self.lag = max(0.0, time.monotonic() - (self._anchor + chunk.end)) if self.paced else 0.0
        self.max_lag_seen = max(self.max_lag_seen, self.lag)
        if self.paced and not self.fast and not self._degrade_requested:
            if self._rtf > s.rtf_budget and self._utt is not None:
                self._request_degrade(out, f"decoding is too slow for real time (real-time factor {self._rtf:.2f})")
            elif self.lag * 1000 > s.lag_budget_ms:
                self._request_degrade(out, f"decoding fell {self.lag:.1f} s behind real time")
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
    def _request_degrade(self, out: list[EngineEvent], why: str) -> None:
        if self.fast or self._degrade_requested:
            return
        self._degrade_requested = True
        out.append(
            Status(
                self.engine_id,
                EngineState.DEGRADED,
                f"{why}: switching to a faster, less accurate decoding mode",
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
            missing = [b.display for t, b in self.boosted.items() if t not in {a.token for a in added}]
            if missing:
                added += apply_boost(self.decoder, missing, self.settings.boost_weight)
            self.boosted = {b.token: b for b in added}
            self.fast = True
            self.settings = replace(self.settings, fast=True)
            out.append(Status(self.engine_id, EngineState.DEGRADED, "now decoding in the faster mode"))
        self._apply_pending(out)

    def _frame(self, frame: bytes, t: float, out: list[EngineEvent]) -> None:
        voiced = bool(self.vad.is_speech(frame))
        utt = self._utt
        if utt is None:
            self._idle.append((frame, t, voiced))
            window = list(self._idle)[-self.START_WINDOW :]
            if len(window) == self.START_WINDOW and sum(v for _, _, v in window) >= self.START_VOICED:
                self._start_utterance(window, out)
            return
        self._feed_decoder(frame)
        utt.fed_samples += len(frame) // 2
        s = self.settings
        n_sil = max(1, round(s.silence_ms / 1000 * SAMPLE_RATE / self.frame_samples))
        utt.trailing.append(voiced)
        while len(utt.trailing) > n_sil:
            utt.trailing.popleft()
        utt.silent_run = 0 if voiced else utt.silent_run + 1
        duration = utt.fed_samples / SAMPLE_RATE
        ended = len(utt.trailing) == n_sil and sum(utt.trailing) <= n_sil // 10
        # Very long speech: cut at a short pause after max_utterance_s, and in any case at twice that.
        if not ended and duration >= s.max_utterance_s and utt.silent_run >= 5:
            ended = True
        if not ended and duration >= 2 * s.max_utterance_s:
            ended = True
        if ended:
            self._end_utterance(out)
            return
        # Until the first words show, look every 3 frames (90 ms); then every interim_ms.
        step = s.interim_ms if utt.interims else min(s.interim_ms, 90)
        if utt.fed_samples - utt.last_interim_samples >= step * SAMPLE_RATE // 1000:
            utt.last_interim_samples = utt.fed_samples
            text, start, end = self._words(utt)
            if text and text != utt.last_text:
                utt.last_text = text
                utt.interims += 1
                out.append(Interim(utt.line_id, text, self.engine_id, start, end))

    def _feed_decoder(self, frame: bytes) -> None:
        self.decoder.process_raw(frame, False, False)

    def _start_utterance(self, window: list[tuple[bytes, float, bool]], out: list[EngineEvent]) -> None:
        self._between_utterances(out)
        frames = list(self._idle)
        self._idle.clear()
        first_voiced = next((t for _, t, v in window if v), window[0][1])
        line_id = str(self._next_id)
        self._next_id += 1
        utt = _Utterance(line_id, frames[0][1], first_voiced)
        self._utt = utt
        out.append(SpeechStarted(self.engine_id, round(first_voiced, 3), line_id))
        self.decoder.start_utt()
        for frame, _t, _v in frames:
            self._feed_decoder(frame)
            utt.fed_samples += len(frame) // 2
        utt.last_interim_samples = utt.fed_samples

    def _end_utterance(self, out: list[EngineEvent]) -> None:
        utt = self._utt
        if utt is None:
            return
        self._utt = None
        self.decoder.end_utt()
        text, start, end = self._words(utt)
        if text or utt.interims:
            # An empty final closes an interim that turned out to be noise.
            out.append(Final(utt.line_id, text, self.engine_id, start, end))
        self._between_utterances(out)

    def _words(self, utt: _Utterance) -> tuple[str, float | None, float | None]:
        words: list[str] = []
        start: float | None = None
        end: float | None = None
        for seg in self.decoder.seg():
            w = seg.word
            if not w or w[0] in "<[+":
                continue
            w = re.sub(r"\(\d+\)$", "", w)
            if w.endswith(BOOST_SUFFIX):
                b = self.boosted.get(w)
                w = b.display if b is not None else w[: -len(BOOST_SUFFIX)]
            words.append(w)
            ws = utt.t0 + seg.start_frame / FRAME_RATE
            we = utt.t0 + (seg.end_frame + 1) / FRAME_RATE
            start = ws if start is None else start
            end = we
        return " ".join(words), (None if start is None else round(start, 3)), (None if end is None else round(end, 3))

    @property
    def rtf(self) -> float:
        return self._rtf

    @property
    def in_speech(self) -> bool:
        return self._utt is not None


# -- the engine ------------------------------------------------------------------------------------


class LocalEngine(Engine):
    """PocketSphinx, offline, English; see the module docstring."""

    id = "local"
    name = "Local (offline)"
    capabilities = Capabilities(
        sample_rate=SAMPLE_RATE,
        interim_results=True,
        word_boost=True,
        live_update=True,
        silence_threshold=True,
        word_boost_limits=WordBoostLimits(max_terms=500, max_term_chars=100),
        languages=("en",),
        notes="offline PocketSphinx (US English); word boost adds words to the vocabulary and raises their weight",
    )

    _availability: ClassVar[tuple[bool, str] | None] = None

    def __init__(self, options: EngineOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials)
        self.settings = LocalSettings.from_options(options)  # ValueError → CLI exit 2
        self._recognizer: Recognizer | None = None

    @classmethod
    def check_available(cls) -> tuple[bool, str]:
        """Whether pocketsphinx imports and its bundled en-US model loads (cached per process)."""
        if cls._availability is None:
            cls._availability = cls._probe()
        return cls._availability

    @staticmethod
    def _probe() -> tuple[bool, str]:
        try:
            import pocketsphinx  # noqa: F401
        except ImportError:
            return False, "the Python package 'pocketsphinx' is not installed"
        model = _model_dir()
        needed = [model / "en-us" / "mdef", model / "en-us.lm.bin", model / "cmudict-en-us.dict"]
        missing = [str(p) for p in needed if not p.exists()]
        if missing:
            return False, f"the PocketSphinx en-US model is incomplete (missing {', '.join(missing)})"
        try:
            from pocketsphinx import Decoder

            Decoder(loglevel="FATAL", mmap=True)
        except Exception as exc:
            return False, f"the PocketSphinx en-US model does not load: {exc}"
        return True, "ready (offline, bundled en-US model)"

    @property
    def recognizer(self) -> Recognizer | None:
        """The running recogniser (for tests and benchmarks)."""
        return self._recognizer

    async def update(self, options: EngineOptions) -> bool:
        """Silence threshold and added boost words apply live (at the next utterance); anything else restarts."""
        try:
            new = LocalSettings.from_options(options)
        except ValueError:
            return False
        old = self.settings
        if replace(new, silence_ms=old.silence_ms, boost=old.boost) != old:
            return False  # advanced options: restart
        if {w.lower() for w in boost_words(old.boost)} - {w.lower() for w in boost_words(new.boost)}:
            return False  # a boosted word cannot be taken out of a running decoder
        self.settings = new
        self.options = options
        if self._recognizer is not None:
            self._recognizer.request_update(new)
        return True

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="captioner-local")
        try:
            try:
                rec = await loop.run_in_executor(executor, Recognizer, self.settings, self.id)
            except Exception as exc:
                raise EngineFailure(f"cannot load the PocketSphinx model: {exc}", retryable=False) from exc
            self._recognizer = rec
            lts = [b.display for b in rec.boosted.values() if b.source == "letter-to-sound"]
            if lts:
                yield Notice(self.id, f"word boost: guessed the pronunciation of {', '.join(lts)} (not in dictionary)")
            mode = "fast mode" if rec.fast else "PocketSphinx"
            yield Status(self.id, EngineState.LISTENING, f"listening (offline, {mode})")
            async for chunk in audio:
                if chunk.sample_rate != SAMPLE_RATE:
                    raise EngineFailure(
                        f"the local engine needs {SAMPLE_RATE} Hz audio, got {chunk.sample_rate} Hz", retryable=False
                    )
                try:
                    events = await loop.run_in_executor(executor, rec.feed, chunk)
                except RuntimeError as exc:  # PocketSphinx reports decoding errors this way
                    raise EngineFailure(f"PocketSphinx failed: {exc}", retryable=True) from exc
                for ev in events:
                    yield ev
            try:
                events = await loop.run_in_executor(executor, rec.finish)
            except RuntimeError as exc:
                raise EngineFailure(f"PocketSphinx failed: {exc}", retryable=True) from exc
            for ev in events:
                yield ev
        finally:
            executor.shutdown(wait=False)
