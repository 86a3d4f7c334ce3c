"""Catch-up: skip the middle of long pauses until an engine that takes audio at 1× is close to live again.

Only for engines with ``realtime_input`` (the cloud engines): after an outage the
replayed audio would otherwise keep the captions late by the length of the outage
for the rest of the session. Speech is never skipped; of every pause the first
``max(min_keep, engine silence + keep_margin)`` seconds and the last ``lead_in``
seconds are always sent, so the engine still ends its lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from captioner.audio.base import AudioChunk
from captioner.engines.base import Engine
from captioner.session.backlog import Backlog


@dataclass(frozen=True, slots=True)
class CatchUpPolicy:
    """How the session skips long pauses to catch up with live audio (``realtime_input`` engines only)."""

    behind: float = 1.5
    """Start skipping when the engine's input is more than this far (s) behind the newest audio…"""
    target: float | None = None
    """…and go on until it is no more than this behind (default: half of ``behind``)."""
    silence_dbfs: float = -50.0
    """A chunk below this level is silent."""
    noise_margin_db: float = 10.0
    """A chunk within this much of the recent noise floor is silent too (a noisy room)…"""
    max_silence_dbfs: float = -35.0
    """…but never a chunk at or above this level."""
    noise_window: float = 30.0
    """Noise floor: the quietest chunk in this much recent audio (s)."""
    min_keep: float = 1.3
    """Seconds of every pause always sent (AssemblyAI's default ``max_turn_silence`` is 1.28 s)."""
    keep_margin: float = 0.25
    """Added to the engine's :meth:`~captioner.engines.base.Engine.endpoint_silence`."""
    lead_in: float = 0.3
    """Seconds of silence always sent before speech resumes."""
    enabled: bool = True

    def keep(self, engine_silence: float) -> float:
        return max(self.min_keep, engine_silence + self.keep_margin)

    def threshold(self, noise_floor: float) -> float:
        """The silence threshold (dBFS) given the recent noise floor."""
        return min(self.max_silence_dbfs, max(self.silence_dbfs, noise_floor + self.noise_margin_db))


class CatchUp:
    """Decides, chunk by chunk, whether a cursor may skip a chunk of a long pause."""

    def __init__(
        self,
        policy: CatchUpPolicy,
        keep: Callable[[], float],
        on_skipped: Callable[[float, float], None] | None = None,
    ) -> None:
        self.policy = policy
        self.keep = keep
        self.on_skipped = on_skipped
        self.run_start: float | None = None  # source time where the current silent run began
        self.skipping = 0.0  # skipped in the current run
        self.skipped = 0.0  # skipped in total
        self.catching_up = False

    def should_skip(self, backlog: Backlog, seq: int, chunk: AudioChunk) -> bool:
        p = self.policy
        threshold = p.threshold(backlog.noise_floor.value)
        if backlog.level(seq) >= threshold:
            self.run_start = None
            return False
        if self.run_start is None:
            self.run_start = chunk.start
        newest = backlog.newest
        behind = newest.end - chunk.start if newest is not None else 0.0
        target = p.target if p.target is not None else p.behind / 2
        if behind > p.behind:
            self.catching_up = True
        elif behind <= target:
            self.catching_up = False
        if not self.catching_up:
            return False
        if chunk.start - self.run_start < self.keep() - 1e-6:
            return False
        # Keep a lead-in before speech: the next lead_in seconds must be here already, and silent.
        t, s = chunk.end, seq + 1
        while t < chunk.end + p.lead_in - 1e-6:
            nxt = backlog.get(s)
            if nxt is None:
                if backlog.ended:
                    break
                return False
            if backlog.level(s) >= threshold:
                return False
            t, s = nxt.end, s + 1
        self.skipping += chunk.duration
        self.skipped += chunk.duration
        return True

    def sent(self, lag: float) -> None:
        """A chunk was handed to the engine: a run of skipped chunks (if any) has ended."""
        if self.skipping > 0.0:
            skipped, self.skipping = self.skipping, 0.0
            if self.on_skipped is not None:
                self.on_skipped(skipped, lag)


def catch_up_for(
    policy: CatchUpPolicy, engine: Engine, on_skipped: Callable[[float, float], None] | None = None
) -> CatchUp | None:
    """The catch-up of a cursor feeding ``engine``: ``None`` unless enabled and the engine takes audio at 1×."""
    if not (policy.enabled and engine.capabilities.realtime_input):
        return None
    return CatchUp(policy, lambda: policy.keep(engine.endpoint_silence()), on_skipped)
