"""Speech segments for the Moonshine engine: VAD frames in, one segment of audio per caption line out.

Sans-IO: :class:`Segmenter` is given 32 ms frames with their Silero speech probability and says where a
segment opens (:class:`Opened`) and closes (:class:`Closed`, with its audio). Speech starts at a frame of
probability ≥ 0.5; it ends after ``silence_ms`` in which no frame reached 0.5 and silence began below 0.35
(Silero's own hysteresis). A segment keeps ``pad_ms`` of audio before its first and after its last voiced
frame, so that word onsets and endings (weak consonants the VAD scores low) are never clipped; the padding
before never reaches back into the previous segment. A segment that reaches ``max_s`` is split at its
quietest pause (lowest VAD probability over ~100 ms, then lowest energy) and the rest carries on as a new
segment: a final never waits for a speaker who does not pause, and re-decoding for interims stays cheap.
Positions are sample counts since the segmenter started (or was reset).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from captioner.engines.moonshine.vad import FRAME, SAMPLE_RATE

START_PROB = 0.5
SILENCE_PROB = 0.35
FRAME_MS = FRAME * 1000 / SAMPLE_RATE
MIN_SPLIT_S = 2.0
"""A split leaves at least this much audio in the closed segment."""


@dataclass(frozen=True, slots=True)
class Opened:
    """A segment opened: its audio starts at sample ``start``; the first voiced frame starts at ``speech_at``."""

    start: int
    speech_at: int


@dataclass(frozen=True, slots=True)
class Closed:
    """A segment closed; ``reason`` is ``"silence"``, ``"split"`` (speech goes on) or ``"end"`` (input ended)."""

    audio: np.ndarray
    start: int
    voiced_ms: float
    reason: str
    speech_start: int
    """Sample position where the first voiced frame starts (``start`` when none is voiced)."""
    speech_end: int
    """Sample position where the last voiced frame ends (``end`` when none is voiced)."""

    @property
    def end(self) -> int:
        return self.start + len(self.audio)


SegmentEvent = Opened | Closed


@dataclass
class _Open:
    start: int
    frames: list[np.ndarray] = field(default_factory=list)
    probs: list[float] = field(default_factory=list)
    voiced: int = 0
    last_voiced: int = -1
    """Index in ``frames`` of the last frame of probability ≥ START_PROB."""
    silent: int = 0
    """Frames since silence began (see the module docstring)."""


class Segmenter:
    """Where segments open and close; see the module docstring. Not thread-safe."""

    def __init__(self, silence_ms: int = 500, pad_ms: int = 300, max_s: float = 8.0) -> None:
        self.silence_ms = silence_ms
        self.pad_ms = pad_ms
        self.max_s = max_s
        self.reset()

    def reset(self) -> None:
        """Forget everything (the timeline starts again at sample 0)."""
        self._pos = 0
        self._preroll: deque[np.ndarray] = deque()
        self._open: _Open | None = None

    @property
    def position(self) -> int:
        """Samples pushed so far."""
        return self._pos

    @property
    def in_speech(self) -> bool:
        return self._open is not None

    @property
    def silence_run_ms(self) -> float:
        """How long the open segment has been silent (0 outside speech)."""
        return self._open.silent * FRAME_MS if self._open else 0.0

    @property
    def voiced_ms(self) -> float:
        """Voiced audio in the open segment."""
        return self._open.voiced * FRAME_MS if self._open else 0.0

    def audio(self) -> tuple[np.ndarray, int] | None:
        """The open segment's audio so far and its start, or ``None`` outside speech."""
        seg = self._open
        if seg is None or not seg.frames:
            return None
        return np.concatenate(seg.frames), seg.start

    def push(self, frame: np.ndarray, prob: float) -> list[SegmentEvent]:
        """One frame of ``FRAME`` samples and its speech probability; the segment events it causes."""
        out: list[SegmentEvent] = []
        pad = self._frames(self.pad_ms)
        seg = self._open
        if seg is None:
            if prob < START_PROB:
                self._preroll.append(frame)
                while len(self._preroll) > pad:
                    self._preroll.popleft()
                self._pos += FRAME
                return out
            before = list(self._preroll)
            self._preroll.clear()
            seg = _Open(start=self._pos - FRAME * len(before), frames=before, probs=[0.0] * len(before))
            self._open = seg
            out.append(Opened(start=seg.start, speech_at=self._pos))
        seg.frames.append(frame)
        seg.probs.append(prob)
        self._pos += FRAME
        if prob >= START_PROB:
            seg.voiced += 1
            seg.last_voiced = len(seg.frames) - 1
            seg.silent = 0
        elif prob < SILENCE_PROB or seg.silent:
            seg.silent += 1
        if seg.silent * FRAME_MS >= self.silence_ms:
            keep = min(len(seg.frames), seg.last_voiced + 1 + pad)
            out.append(self._close(seg, keep, "silence"))
            self._open = None
            self._preroll = deque(seg.frames[keep:][-pad:] if pad else [])
        elif len(seg.frames) * FRAME >= self.max_s * SAMPLE_RATE:
            out.extend(self._split(seg))
        return out

    def flush(self, tail: np.ndarray | None = None) -> list[SegmentEvent]:
        """The input ended: close the open segment with all its audio (and ``tail``, less than a frame)."""
        seg, self._open = self._open, None
        self._preroll.clear()
        if seg is None or not seg.frames:
            return []
        if tail is not None and len(tail):
            seg.frames.append(tail)
            seg.probs.append(0.0)
        return [self._close(seg, len(seg.frames), "end")]

    def _split(self, seg: _Open) -> list[SegmentEvent]:
        cut = self._quietest(seg)
        closed = self._close(seg, cut, "split")
        rest = _Open(start=seg.start + cut * FRAME, frames=seg.frames[cut:], probs=seg.probs[cut:])
        for i, p in enumerate(rest.probs):
            if p >= START_PROB:
                rest.voiced += 1
                rest.last_voiced = i
        rest.silent = seg.silent if rest.voiced else len(rest.frames)
        self._open = rest
        first = next((i for i, p in enumerate(rest.probs) if p >= START_PROB), 0)
        return [closed, Opened(start=rest.start, speech_at=rest.start + first * FRAME)]

    def _quietest(self, seg: _Open) -> int:
        """Frame index to split ``seg`` at: the middle of its quietest ~100 ms after the first MIN_SPLIT_S."""
        probs = np.asarray(seg.probs, dtype=np.float32)
        smooth = np.convolve(probs, np.ones(3, dtype=np.float32) / 3, mode="same")
        energy = np.array([float(np.mean(f * f)) for f in seg.frames], dtype=np.float32)
        lo = min(len(seg.frames) - 1, max(1, self._frames(MIN_SPLIT_S * 1000)))
        candidates = range(lo, len(seg.frames))
        return min(candidates, key=lambda i: (round(float(smooth[i]), 2), float(energy[i])))

    def _close(self, seg: _Open, keep: int, reason: str) -> Closed:
        audio = np.concatenate(seg.frames[:keep]) if keep else np.zeros(0, dtype=np.float32)
        voiced = [i for i, p in enumerate(seg.probs[:keep]) if p >= START_PROB]
        first = seg.start + voiced[0] * FRAME if voiced else seg.start
        last = seg.start + (voiced[-1] + 1) * FRAME if voiced else seg.start + len(audio)
        return Closed(
            audio=audio,
            start=seg.start,
            voiced_ms=len(voiced) * FRAME_MS,
            reason=reason,
            speech_start=first,
            speech_end=last,
        )

    @staticmethod
    def _frames(ms: float) -> int:
        return max(0, round(ms / FRAME_MS))
