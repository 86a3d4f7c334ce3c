"""The duplicate guard of meeting mode: a "You" line that only repeats what the others said is dropped.

Echo cancellation removes the speakers' sound from the microphone, but not always all of it (the first seconds
while it adapts, a loud or distorting speaker). What leaks through is recognised as the user's own words,
repeating an "Others" line. :class:`DuplicateGuard` sees every event of both sessions before the transcript:

* a "You" final whose words are mostly (:attr:`GuardPolicy.min_overlap`, in order: longest common
  subsequence) the words of the "Others" lines spoken at the same time (their times overlap, give or take
  :attr:`GuardPolicy.slack` seconds for the echo's delay) is dropped: the transcript gets an empty final for
  it, which closes its interim;
* a "You" final spoken while the system audio was silent (no sound, so no echo) is committed at once;
* otherwise it is held until the "Others" line it might repeat is final (no "Others" line still open over
  its time and :attr:`GuardPolicy.min_hold` seconds passed), at most :attr:`GuardPolicy.max_hold`
  seconds; its interim stays shown meanwhile;
* a "You" interim of three words or more that so far repeats the others (their open lines included) is not
  shown, so that an echo does not flash up before its final is dropped.

Both speakers' times must be on one timeline (:class:`~captioner.audio.shared_clock.SharedClockSource`). The
guard is sans-IO: the meeting calls :meth:`DuplicateGuard.due` on a timer and applies what it returns.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from captioner.audio.base import AudioChunk
from captioner.captions.events import CaptionEvent, Final, Interim

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def common_words(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of ``a`` and ``b``."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardPolicy:
    """When a "You" final counts as a repeat, and how long it may be held (seconds)."""

    min_overlap: float = 0.6
    """Share of its words, in order, found in the overlapping "Others" lines."""
    slack: float = 1.0
    """How far apart in time two lines may be and still overlap (the echo's delay, segmentation)."""
    min_hold: float = 0.5
    max_hold: float = 3.0
    keep_seconds: float = 120.0
    """How long "Others" finals are remembered."""


@dataclass(slots=True, kw_only=True)
class _OthersLine:
    start: float
    end: float
    words: list[str]


@dataclass(slots=True, kw_only=True)
class _Held:
    final: Final
    since: float


class DuplicateGuard:
    """Drops "You" finals that repeat "Others" lines spoken at the same time; see the module docstring.

    ``reference_audible(start, end)`` tells whether the system audio made a sound in that span of the shared
    timeline (``None``: assume it did).
    """

    def __init__(
        self,
        *,
        reference_audible: Callable[[float, float], bool] | None = None,
        policy: GuardPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reference_audible = reference_audible
        self.policy = policy or GuardPolicy()
        self.clock = clock
        self._others: deque[_OthersLine] = deque()
        self._others_live: dict[str, _OthersLine] = {}
        self._held: dict[str, _Held] = {}
        self._dropped: set[str] = set()
        self.dropped: list[Final] = []
        """Every "You" final dropped as a duplicate (for tests and the log)."""

    # -- the two streams ---------------------------------------------------------------------------
    def others(self, event: CaptionEvent) -> CaptionEvent:
        """Record an "Others" event (it goes on to the transcript unchanged)."""
        if isinstance(event, Interim | Final):
            line = _OthersLine(start=_start(event), end=_end(event), words=words(event.text))
            if isinstance(event, Interim):
                self._others_live[event.line_id] = line
            else:
                self._others_live.pop(event.line_id, None)
                self._others.append(line)
                while self._others and self._others[0].end < line.end - self.policy.keep_seconds:
                    self._others.popleft()
        return event

    def you(self, event: CaptionEvent) -> CaptionEvent | None:
        """A "You" event: the event to apply now, an empty final (dropped), or ``None`` (held back)."""
        if not isinstance(event, Interim | Final):
            return event
        if event.line_id in self._dropped:
            return None
        if isinstance(event, Interim):
            held = event.line_id in self._held
            return None if held or self._echoing(event) else event
        if event.line_id in self._held:
            self._held[event.line_id].final = event  # a newer version of a held line
            return None
        verdict = self._judge(event, held_for=0.0)
        if verdict is None:
            self._held[event.line_id] = _Held(final=event, since=self.clock())
        return verdict

    def due(self) -> list[Final]:
        """Held finals decided by now: each to commit, or as an empty final when dropped."""
        now = self.clock()
        out = []
        for line_id, held in list(self._held.items()):
            verdict = self._judge(held.final, held_for=now - held.since)
            if verdict is not None:
                del self._held[line_id]
                out.append(verdict)
        return out

    def flush(self) -> list[Final]:
        """Decide every held final now (the meeting ends)."""
        out = [self._decide(held.final, last=True) for held in self._held.values()]
        self._held.clear()
        return out

    # -- deciding ----------------------------------------------------------------------------------
    def _judge(self, final: Final, *, held_for: float) -> Final | None:
        if not words(final.text):
            return final
        start, end = _start(final), _end(final)
        if self._repeats(final, include_live=False):
            return self._drop(final)
        if self.reference_audible is not None and not self.reference_audible(start - self.policy.slack, end):
            return final
        open_lines = any(self._overlaps(line, start, end) for line in self._others_live.values())
        if held_for >= self.policy.max_hold or (not open_lines and held_for >= self.policy.min_hold):
            return self._decide(final, last=held_for >= self.policy.max_hold)
        return None

    def _decide(self, final: Final, *, last: bool) -> Final:
        return self._drop(final) if self._repeats(final, include_live=last) else final

    def _echoing(self, interim: Interim) -> bool:
        """An interim of at least three words that so far repeats the others: not shown (it would flicker)."""
        return len(words(interim.text)) >= 3 and self._repeats(interim, include_live=True)

    def _overlaps(self, line: _OthersLine, start: float, end: float) -> bool:
        return line.start <= end + self.policy.slack and line.end >= start - self.policy.slack

    def _repeats(self, final: Final | Interim, *, include_live: bool) -> bool:
        mine = words(final.text)
        start, end = _start(final), _end(final)
        lines = list(self._others) + (list(self._others_live.values()) if include_live else [])
        near = sorted((line for line in lines if self._overlaps(line, start, end)), key=lambda line: line.start)
        theirs = [w for line in near for w in line.words]
        return common_words(mine, theirs) >= self.policy.min_overlap * len(mine)

    def _drop(self, final: Final) -> Final:
        log.debug("dropped 'You' line %s, a repeat of the others: %r", final.line_id, final.text)
        self._dropped.add(final.line_id)
        self.dropped.append(final)
        return dataclasses.replace(final, text="")


class SoundLog:
    """When the system audio made a sound, on the shared timeline: feeds ``reference_audible``."""

    def __init__(self, *, silent_dbfs: float = -70.0, keep_seconds: float = 300.0) -> None:
        self.silent_dbfs = silent_dbfs
        self.keep_seconds = keep_seconds
        self._spans: deque[list[float]] = deque()  # [start, end], merged when contiguous

    def add(self, chunk: AudioChunk) -> None:
        if chunk.rms_dbfs() <= self.silent_dbfs:
            return
        if self._spans and chunk.start - self._spans[-1][1] < 0.2:
            self._spans[-1][1] = chunk.end
        else:
            self._spans.append([chunk.start, chunk.end])
        while self._spans and self._spans[0][1] < chunk.end - self.keep_seconds:
            self._spans.popleft()

    def audible(self, start: float, end: float) -> bool:
        return any(s <= end and e >= start for s, e in self._spans)


def _start(event: Interim | Final) -> float:
    return event.start if event.start is not None else event.end if event.end is not None else 0.0


def _end(event: Interim | Final) -> float:
    return event.end if event.end is not None else _start(event)
