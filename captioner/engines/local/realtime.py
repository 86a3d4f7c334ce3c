"""The local engine's real-time guard: is decoding keeping up with the audio, and if not, what to do.

It watches two figures: the lag (the wall clock against the audio position decoded, from each chunk's
capture time) and a moving average of the real-time factor (decoding time / audio time). When one exceeds
its budget the recogniser switches to the cheaper decoder (:meth:`RealtimeGuard.behind` gives the reason);
when the lag exceeds ``max_lag_ms`` even so, audio is skipped rather than queued without bound
(:meth:`RealtimeGuard.skip`), until the lag is back under half a second.

Audio that arrives well ahead of the wall clock comes from a file read as fast as we decode: there is no
real time to keep up with, so the guard stands down (:attr:`RealtimeGuard.paced` is false).

Measures and decides only: it builds no decoder and makes no caption events.
"""

from __future__ import annotations

import time

from captioner.audio.base import AudioChunk


class RealtimeGuard:
    """Lag and real-time factor of one recogniser, and the skip and degrade decisions drawn from them."""

    def __init__(self) -> None:
        self._anchor: float | None = None  # max(captured_at - end) over chunks: wall clock of audio time 0
        self._min_anchor: float | None = None
        self.paced = True
        self.rtf = 0.0
        self.lag = 0.0
        self.max_lag_seen = 0.0
        self.skipped = 0.0
        """Seconds of audio skipped in the current run of skipping (0.0 when not skipping)."""

    def skip(self, chunk: AudioChunk, max_lag_ms: int) -> bool:
        """Note the arrival of ``chunk``; whether to skip it because decoding is too far behind."""
        anchor = chunk.captured_at - chunk.end
        self._anchor = anchor if self._anchor is None else max(self._anchor, anchor)
        self._min_anchor = anchor if self._min_anchor is None else min(self._min_anchor, anchor)
        self.paced = self._anchor - self._min_anchor < 2.0
        lag = self._lag_at(chunk.end)
        if (max_lag_ms and lag * 1000 > max_lag_ms) or (self.skipped and lag > 0.5):
            self.skipped += chunk.duration
            self.lag = lag
            return True
        return False

    def caught_up(self) -> float:
        """End a run of skipping: the seconds of audio it skipped (0.0 if there was none)."""
        skipped, self.skipped = self.skipped, 0.0
        return skipped

    def decoded(self, chunk: AudioChunk, spent: float) -> None:
        """``chunk`` was decoded in ``spent`` seconds: update the real-time factor and the lag."""
        if chunk.duration > 0:
            alpha = min(1.0, chunk.duration / 3.0)  # ~3 s time constant
            self.rtf += alpha * (spent / chunk.duration - self.rtf)
        self.lag = self._lag_at(chunk.end)
        self.max_lag_seen = max(self.max_lag_seen, self.lag)

    def behind(self, rtf_budget: float, lag_budget_ms: int, in_speech: bool) -> str | None:
        """Why decoding should switch to the cheaper mode, or None while it keeps up (or is not paced)."""
        if not self.paced:
            return None
        if self.rtf > rtf_budget and in_speech:
            return f"decoding is too slow for real time (real-time factor {self.rtf:.2f})"
        if self.lag * 1000 > lag_budget_ms:
            return f"decoding fell {self.lag:.1f} s behind real time"
        return None

    def _lag_at(self, end: float) -> float:
        assert self._anchor is not None
        return max(0.0, time.monotonic() - (self._anchor + end)) if self.paced else 0.0
