"""Test audio for the Uhlive fakes: pure tones the fake servers "recognise".

A burst of a known pitch is an utterance whose text is ``PHRASES[pitch]`` (the pitch is measured
from zero crossings), so the text of a caption proves which audio reached the server, and its
times prove where that audio sat on the timeline. A quiet burst is recognised with a low
confidence (:meth:`ToneASR.confidence`), below H2B's ``confidence_threshold``.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np

RATE = 8000
BPS = RATE * 2
WINDOW = 160  # 20 ms
PHRASES = {
    400: "hello world",
    700: "good morning everyone",
    1000: "see you tomorrow then",
    1300: "thank you very much",
}
SPEECH_RMS = 1500.0
MIN_SPEECH = RATE // 10
"""Less loud audio than this (100 ms) is noise, not words: no transcript (H2B: NoMatch)."""


def tone_wav(
    path: Path, pattern: list[tuple[int, float]], rate: int = 16000, *, quiet: frozenset[int] | set[int] = frozenset()
) -> Path:
    """Write a WAV of tone bursts: ``(pitch, seconds)``, pitch 0 = silence; bursts at the indexes in ``quiet``
    are a third as loud (recognised with a low confidence)."""
    parts = []
    for index, (pitch, seconds) in enumerate(pattern):
        n = round(seconds * rate)
        if pitch:
            t = np.arange(n) / rate
            parts.append((0.1 if index in quiet else 0.3) * np.sin(2 * np.pi * pitch * t))
        else:
            parts.append(np.zeros(n))
    pcm = (np.concatenate(parts) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


def burst_times(pattern: list[tuple[int, float]]) -> list[tuple[str, float, float]]:
    """``(text, start, end)`` of every burst of ``pattern`` on the source timeline."""
    out, t = [], 0.0
    for pitch, seconds in pattern:
        if pitch:
            out.append((PHRASES[pitch], t, t + seconds))
        t += seconds
    return out


class ToneASR:
    """Windows of 20 ms: speech when loud; the pitch of an utterance picks its phrase."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.pos = 0  # samples consumed (windows only)
        self.crossings = 0
        self.speech_samples = 0
        self.loudness = 0.0
        """The RMS of the last window."""

    def windows(self, pcm: bytes) -> Iterator[tuple[int, bool, int]]:
        """``(window start sample, is speech, zero crossings)`` for each complete window."""
        self._buf.extend(pcm)
        while len(self._buf) >= WINDOW * 2:
            a = np.frombuffer(bytes(self._buf[: WINDOW * 2]), dtype="<i2").astype(np.float64)
            del self._buf[: WINDOW * 2]
            start = self.pos
            self.pos += WINDOW
            self.loudness = float(np.sqrt(np.mean(a * a)))
            loud = self.loudness > SPEECH_RMS
            zc = int(np.count_nonzero(np.diff(np.signbit(a))))
            yield start, loud, zc

    @staticmethod
    def confidence(rms_sum: float, windows: int) -> float:
        """The confidence of an utterance: its mean loudness (a 0.3 tone: about 0.87; a 0.1 tone: about 0.29)."""
        return round(min(0.95, rms_sum / max(1, windows) / 8000.0), 3)

    @staticmethod
    def phrase(crossings: int, samples: int) -> str:
        if samples <= 0:
            return ""
        freq = crossings / 2 / (samples / RATE)
        pitch = min(PHRASES, key=lambda p: abs(p - freq))
        return PHRASES[pitch]
