"""A simulated clock for asyncio: hours of a live session in seconds, with real sockets.

Owns :class:`VirtualClockLoop`, an asyncio event loop whose :meth:`~VirtualClockLoop.time` is simulated. When
nothing is ready (no socket readable or writable, no callback due), the loop does not sleep until its next
timer: the clock jumps there at once. Everything that waits on the loop's clock (``asyncio.sleep``, timeouts, the
engines' pacers, websockets' pings and close timeouts, the fakes' rate checks) sees time pass at the usual rate
while the process runs as fast as it can, and real sockets on 127.0.0.1 still carry every byte: data written to a
loopback socket is readable at once, so the loop polls the sockets before every jump.

:func:`run` runs a coroutine on such a loop. Only code that reads the loop's clock is simulated (``time.time()``
and ``time.monotonic()`` go on as usual), and threads would see the clock race past them: use it for code that
keeps to the loop.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _Selector(selectors.DefaultSelector):
    """Polls the real sockets; when none is ready, moves the loop's clock instead of waiting."""

    loop: VirtualClockLoop | None = None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if ready or timeout == 0 or self.loop is None:
            return ready
        if timeout is None:
            return list(super().select(None))  # nothing scheduled: only a socket can wake the loop
        self.loop.advance(timeout)
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop on a simulated clock (see the module)."""

    def __init__(self) -> None:
        selector = _Selector()
        super().__init__(selector)
        selector.loop = self
        self._now = time.monotonic()
        self.jumped = 0.0
        """Simulated seconds the clock moved on by itself (time nobody had to wait for)."""

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self.jumped += seconds


def run(main: Coroutine[Any, Any, T]) -> tuple[T, float]:
    """Run ``main`` on a :class:`VirtualClockLoop`; its result and the simulated seconds that passed."""
    loop = VirtualClockLoop()
    start = loop.time()
    try:
        result = loop.run_until_complete(main)
        return result, loop.time() - start
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
