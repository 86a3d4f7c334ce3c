"""Where the audio sent on one connection sits on the source timeline.

Cloud services report times in "audio received on this connection" (AssemblyAI:
ms since the first sample it got; Uhlive: ms after the conversation origin).
When the session skips long pauses to catch up after a reconnect, that audio
is no longer contiguous on the source timeline, so ``first_start + ms`` is
wrong after the first skip. An :class:`AudioTimeline` records each piece of
audio as it is sent (merging contiguous pieces into runs) and maps "seconds
sent" back to source seconds, across the gaps.

Boundaries: a time exactly at the join of two runs is ambiguous (the end of
the audio before a gap, or the start of the audio after it). ``to_source``
maps it to the start of the later run, ``to_source(..., end=True)`` to the end
of the earlier one, so a word that ends just before a skipped pause keeps its
end and one that starts just after it keeps its start.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

TOLERANCE = 1e-4
"""Pieces closer than this (seconds) on the source timeline are contiguous (rounding of sample counts)."""


class AudioTimeline:
    """Runs of source time actually sent on one connection, in the order they were sent."""

    def __init__(self) -> None:
        self._sent: list[float] = []  # seconds sent before each run
        self._src: list[float] = []  # source start of each run
        self._dur: list[float] = []  # length of each run
        self.sent_seconds = 0.0

    def __bool__(self) -> bool:
        return bool(self._src)

    @property
    def runs(self) -> list[tuple[float, float]]:
        """``(source start, source end)`` of each contiguous run."""
        return [(s, s + d) for s, d in zip(self._src, self._dur, strict=True)]

    @property
    def source_start(self) -> float | None:
        return self._src[0] if self._src else None

    @property
    def source_end(self) -> float | None:
        return self._src[-1] + self._dur[-1] if self._src else None

    @property
    def skipped_seconds(self) -> float:
        """Source time jumped over between runs (forward gaps only)."""
        return sum(max(0.0, self._src[i] - (self._src[i - 1] + self._dur[i - 1])) for i in range(1, len(self._src)))

    def add(self, source_start: float, duration: float) -> None:
        """Record ``duration`` seconds of audio from ``source_start``, sent after everything added so far."""
        if duration <= 0:
            return
        if self._src and abs(source_start - (self._src[-1] + self._dur[-1])) <= TOLERANCE:
            self._dur[-1] += duration
        else:
            self._sent.append(self.sent_seconds)
            self._src.append(source_start)
            self._dur.append(duration)
        self.sent_seconds += duration

    def extend(self, pieces: Iterable[tuple[float, float]]) -> None:
        """:meth:`add` each ``(source start, duration)``."""
        for start, duration in pieces:
            self.add(start, duration)

    def to_source(self, sent: float, *, end: bool = False) -> float | None:
        """Source time of the point ``sent`` seconds into the audio sent (``None`` before any audio).

        Clamped to the audio actually sent (a time in padding or before the
        first sample maps to the nearest real sample).
        """
        if not self._src:
            return None
        if sent <= 0.0:
            return self._src[0]
        if sent >= self.sent_seconds:
            return self._src[-1] + self._dur[-1]
        i = max(0, bisect.bisect_right(self._sent, sent) - 1)
        # At (or within rounding of) the join of two runs, pick the side asked for.
        if end and i > 0 and sent - self._sent[i] <= TOLERANCE:
            i -= 1
        elif not end and i + 1 < len(self._sent) and self._sent[i + 1] - sent <= TOLERANCE:
            i += 1
        return self._src[i] + min(max(0.0, sent - self._sent[i]), self._dur[i])

    def to_sent(self, source: float) -> float | None:
        """Seconds sent at source time ``source`` (in a gap: where the next run starts)."""
        if not self._src:
            return None
        for sent, src, dur in zip(self._sent, self._src, self._dur, strict=True):
            if source < src:
                return sent
            if source <= src + dur:
                return sent + (source - src)
        return self.sent_seconds
