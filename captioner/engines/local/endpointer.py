"""The local engine's endpointer: where an utterance starts and ends, from voice activity alone.

PocketSphinx's WebRTC-style :class:`pocketsphinx.Vad` classifies 30 ms frames. Speech starts when most of
the last 300 ms is voiced; the ~500 ms before it are handed over with the start (pre-roll), so that no
onset is clipped. It ends when ``silence_ms`` of (nearly) unvoiced audio follow, or, for very long speech,
at a short pause after ``max_utterance_s`` and in any case at twice that.

Sans-IO: frames in, one decision per frame out; it never touches the decoder and makes no caption events.
Not thread-safe; use from one thread.
"""

from __future__ import annotations

import collections
import enum
from dataclasses import dataclass


class Verdict(enum.Enum):
    """What a frame outside a :class:`SpeechStart` means."""

    SILENCE = "silence"
    """No speech: the frame is held as pre-roll."""
    SPEECH = "speech"
    """The frame belongs to the utterance in progress."""
    END = "end"
    """The frame belongs to the utterance in progress, and ends it."""


@dataclass(frozen=True, slots=True)
class SpeechStart:
    """Speech started with this frame: the utterance begins with ``frames`` (pre-roll, this frame last)."""

    frames: tuple[bytes, ...]
    t0: float
    """Source time of the first sample of ``frames``."""
    speech_at: float
    """Source time of the first voiced frame of the start window."""


class Endpointer:
    """Voice-activity endpointer over fixed frames of :attr:`frame_bytes` bytes of PCM16 mono."""

    FRAME_SAMPLES = 480  # 30 ms at 16 kHz (the Vad frame)
    START_WINDOW = 10  # frames (300 ms) looked at to decide that speech started
    START_VOICED = 7  # of which this many must be voiced
    PREROLL_FRAMES = 17  # ~500 ms of audio fed before the detected start

    def __init__(self, vad_mode: int, sample_rate: int) -> None:
        from pocketsphinx import Vad

        self.sample_rate = sample_rate
        self.vad = Vad(vad_mode, sample_rate, self.FRAME_SAMPLES / sample_rate)
        self.frame_bytes = int(self.vad.frame_bytes)
        self.frame_samples = self.frame_bytes // 2
        self._idle: collections.deque[tuple[bytes, float, bool]] = collections.deque(maxlen=self.PREROLL_FRAMES)
        # The utterance in progress (None between utterances): voicing of its last frames, its current
        # run of unvoiced frames, and its length in samples (pre-roll included).
        self._trailing: collections.deque[bool] | None = None
        self._silent_run = 0
        self._samples = 0

    @property
    def in_speech(self) -> bool:
        return self._trailing is not None

    def push(self, frame: bytes, t: float, silence_ms: int, max_utterance_s: float) -> SpeechStart | Verdict:
        """Classify one frame that starts at source time ``t``."""
        voiced = bool(self.vad.is_speech(frame))
        trailing = self._trailing
        if trailing is None:
            self._idle.append((frame, t, voiced))
            window = list(self._idle)[-self.START_WINDOW :]
            if len(window) == self.START_WINDOW and sum(v for _, _, v in window) >= self.START_VOICED:
                return self._start(window)
            return Verdict.SILENCE
        self._samples += len(frame) // 2
        n_sil = max(1, round(silence_ms / 1000 * self.sample_rate / self.frame_samples))
        trailing.append(voiced)
        while len(trailing) > n_sil:
            trailing.popleft()
        self._silent_run = 0 if voiced else self._silent_run + 1
        duration = self._samples / self.sample_rate
        ended = len(trailing) == n_sil and sum(trailing) <= n_sil // 10
        # Very long speech: cut at a short pause after max_utterance_s, and in any case at twice that.
        if not ended and duration >= max_utterance_s and self._silent_run >= 5:
            ended = True
        if not ended and duration >= 2 * max_utterance_s:
            ended = True
        if ended:
            self.end_speech()
            return Verdict.END
        return Verdict.SPEECH

    def end_speech(self) -> None:
        """The utterance in progress is over (whoever decided it); look for the next start."""
        self._trailing = None
        self._silent_run = 0
        self._samples = 0

    def reset(self) -> None:
        """Forget everything, pre-roll included (a jump in the source timeline, skipped audio)."""
        self.end_speech()
        self._idle.clear()

    def _start(self, window: list[tuple[bytes, float, bool]]) -> SpeechStart:
        frames = list(self._idle)
        self._idle.clear()
        first_voiced = next((t for _, t, v in window if v), window[0][1])
        self._trailing = collections.deque()
        self._silent_run = 0
        self._samples = sum(len(f) // 2 for f, _, _ in frames)
        return SpeechStart(tuple(f for f, _, _ in frames), frames[0][1], first_voiced)
