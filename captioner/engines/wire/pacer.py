"""Sending audio no faster than real time: the two pacing rules of the cloud services.

Owns :class:`Pacer`. Cloud services take audio at 1× only, also when the
session replays buffered audio after a reconnect, so the sender waits before
each frame until the audio already sent has "played". The vendors count
differently, hence two policies:

* :meth:`Pacer.cumulative` (AssemblyAI): the service compares the total audio
  received with the time the session has been open ("Audio Transmission Rate
  Exceeded: Received X sec. audio in Y sec", close 3007). A frame may leave as
  soon as the session has lasted as long as the audio sent before it, counted
  from the moment the session began. After a stall (a live source that paused),
  the audio that piled up may go out at once: the total is still within the rule,
  and the captions catch up sooner.
* :meth:`Pacer.steady` (Uhlive): the services limit the rate of a connection
  (about 20 kB/s for Conversation, where 8 kHz PCM16 needs 16 kB/s), so a burst
  after a stall would exceed it. The clock is re-anchored when a frame is more
  than ``slack`` late, so that no stretch of sending runs faster than real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from captioner.engines.wire.framer import Frame


def now() -> float:
    """The clock every pacer counts on: the running event loop's (monotonic; a simulated clock in tests)."""
    return asyncio.get_running_loop().time()


class Pacer:
    """Holds frames back so that audio never goes out faster than real time (see the module for the policies)."""

    def __init__(self, anchor: float | None = None, *, resync_after: float | None = None) -> None:
        self.anchor = anchor
        """The event loop's time from which audio may flow (``None``: from the first frame)."""
        self.resync_after = resync_after
        """Re-anchor when a frame is this late (s); ``None``: never (the cumulative rule)."""
        self.sent_seconds = 0.0

    @classmethod
    def cumulative(cls, anchor: float) -> Pacer:
        """Total audio sent ≤ time since ``anchor`` (AssemblyAI: since the session began), on the loop's clock."""
        return cls(anchor)

    @classmethod
    def steady(cls, slack: float = 0.5) -> Pacer:
        """Real time from the first frame, re-anchored after a stall of more than ``slack`` (Uhlive)."""
        return cls(resync_after=slack)

    async def wait(self) -> None:
        """Sleep until the next frame may leave."""
        t = now()
        if self.anchor is None:
            self.anchor = t
            return
        due = self.anchor + self.sent_seconds
        if t < due:
            await asyncio.sleep(due - t)
        elif self.resync_after is not None and t - due > self.resync_after:
            self.anchor = t - self.sent_seconds

    def sent(self, seconds: float) -> None:
        """Record ``seconds`` of audio sent."""
        self.sent_seconds += seconds


async def paced(frames: AsyncIterator[Frame], pacer: Pacer) -> AsyncIterator[Frame]:
    """``frames``, each released when ``pacer`` allows it (and counted as sent)."""
    async for frame in frames:
        await pacer.wait()
        pacer.sent(frame.duration)
        yield frame
