"""How a session reconnects: :class:`RetryPolicy`, the backoff between attempts and when to give up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff between reconnect attempts: ``initial``·2ⁿ up to ``maximum`` seconds."""

    initial: float = 0.5
    maximum: float = 30.0
    max_attempts: int | None = None
    """Consecutive failed attempts before giving up (``None``: never give up)."""
    healthy_after: float = 20.0
    """An engine session that ran this long resets the backoff."""

    def delay(self, attempt: int) -> float:
        return float(min(self.maximum, self.initial * (2 ** max(0, attempt - 1))))
