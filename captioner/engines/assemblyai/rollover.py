"""AssemblyAI rollover: the next session before a session's 3-hour limit, and speakers kept across it.

Owns :class:`Rollover`: when the current connection nears its expiry (``Connection.rollover_at``)
it opens the next one in the background, and hands the audio over to it at a frame boundary in the
current session's next pause (between two turns, or after at most :data:`PAUSE_WAIT`), so that no word
is cut in two; the old session is told to finish (``ForceEndpoint`` + ``Terminate``) and its last
caption arrives as usual. No audio gap.

With speaker labels the handover waits: for a **warm-up** the new session hears the same audio as
the old one, in the shadow (its turns make no caption lines), until it has heard the speakers and
pauses; then :func:`map_speakers` matches its labels to the old session's by the time their turns
overlap, so the people keep their letters (the :class:`~captioner.engines.assemblyai.speakers.SpeakerBook`
aliases), and the switch happens in that pause, so no turn is split or doubled. A speaker the new
session did not hear during the warm-up gets a new letter, with the book's notice. Both sessions are
open (and billed) during the warm-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed

from captioner.engines.assemblyai.connection import Connection
from captioner.engines.assemblyai.speakers import SpeakerBook
from captioner.engines.assemblyai.turns import TurnTracker
from captioner.engines.base import EngineFailure
from captioner.engines.wire.framer import Frame

log = logging.getLogger(__name__)

PAUSE_WAIT = 30.0
"""Without speaker labels, the most seconds the handover waits for a pause (the next session is ready by then)."""
RETRY_AFTER = 30.0
"""Seconds before trying again when the next session could not be opened (or died warming up)."""
MATCH_SHARE = 0.5
"""A label of the new session is the old session's speaker when their turns overlap this much of its time."""


def map_speakers(old: TurnTracker, new: TurnTracker, book: SpeakerBook) -> dict[str, str]:
    """Alias the labels the new session gave in the shadow to the old session's speakers (by overlap)."""
    votes: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    totals: dict[str, float] = defaultdict(float)
    lines = [f for f in old.committed_finals() if f.speaker and f.start is not None and f.end is not None]
    for raw, start, end in new.shadow_turns:
        totals[raw] += end - start
        for line in lines:
            assert line.start is not None and line.end is not None and line.speaker is not None
            overlap = min(end, line.end) - max(start, line.start)
            if overlap > 0:
                votes[raw][line.speaker] += overlap
    mapping: dict[str, str] = {}
    ranked = sorted(votes.items(), key=lambda item: -max(item[1].values()))
    for raw, by_speaker in ranked:
        display, amount = max(by_speaker.items(), key=lambda item: item[1])
        if display not in mapping.values() and amount >= MATCH_SHARE * totals[raw]:
            book.alias(new.speaker_session, raw, display)
            mapping[raw] = display
    return mapping


@dataclass
class WarmUp:
    """The next session, hearing the same audio as the current one until the handover."""

    conn: Connection
    started: float
    least: float
    most: float

    def ready(self, now: float) -> bool:
        """Long enough, and in a pause of the new session (or in any case after ``most``)."""
        elapsed = now - self.started
        return (elapsed >= self.least and not self.conn.tracker.has_open_turn) or elapsed >= self.most


class Rollover:
    """The next session of an engine: opened before expiry, warmed up with speaker labels, then switched to."""

    def __init__(
        self,
        open_next: Callable[[int], Coroutine[Any, Any, Connection]],
        speakers: SpeakerBook,
        *,
        warm_up: float,
        announce: Callable[[str], None],
    ) -> None:
        self._open_next = open_next
        self._speakers = speakers
        self._warm_up = warm_up
        self._announce = announce
        self._task: asyncio.Task[Connection] | None = None
        self.warm: WarmUp | None = None
        self.ready: tuple[Connection, float] | None = None
        """The next session, open, and since when: the audio moves to it in the current session's next pause."""

    async def step(self, conn: Connection) -> Connection:
        """Before a frame: the connection that gets it (a new one after a handover)."""
        now = asyncio.get_running_loop().time()
        idle = self._task is None and self.warm is None and self.ready is None
        if idle and now >= conn.rollover_at and not conn.done.is_set():
            log.info("AssemblyAI: session %d nears its time limit; opening the next one", conn.index)
            self._task = asyncio.create_task(self._open_next(conn.index + 1), name="assemblyai-rollover")
        if self._task is not None and self._task.done():
            task, self._task = self._task, None
            try:
                new = task.result()
            except EngineFailure as exc:
                log.warning("AssemblyAI: could not open the next session (%s); trying again", exc.message)
                conn.rollover_at = now + RETRY_AFTER
                return conn
            if self._warm_up <= 0:
                self.ready = (new, now)
                return await self._in_a_pause(conn, now)
            new.tracker.shadow = True
            self.warm = WarmUp(new, now, self._warm_up, self._warm_up * 3)
            log.info("AssemblyAI: session %d hears the audio too, to learn the speakers", new.index)
        if self.ready is not None:
            return await self._in_a_pause(conn, now)
        warm = self.warm
        if warm is not None and warm.conn.done.is_set():
            log.warning("AssemblyAI: the next session ended while warming up; trying again")
            self.warm = None
            conn.rollover_at = now + RETRY_AFTER
        elif warm is not None and warm.ready(now):
            self.warm = None
            mapping = map_speakers(conn.tracker, warm.conn.tracker, self._speakers)
            warm.conn.tracker.end_shadow()
            log.info("AssemblyAI: speakers carried over to the new session: %s", mapping or "none")
            return await self._switch(conn, warm.conn)
        return conn

    async def _in_a_pause(self, conn: Connection, now: float) -> Connection:
        """The next session once the current one is between turns (or after :data:`PAUSE_WAIT`): a switch in
        the middle of a turn would cut a word in two, half heard by each session."""
        assert self.ready is not None
        new, since = self.ready
        if new.done.is_set():
            log.warning("AssemblyAI: the next session ended before the handover; trying again")
            self.ready = None
            conn.rollover_at = now + RETRY_AFTER
            return conn
        if conn.tracker.has_open_turn and now - since < PAUSE_WAIT:
            return conn
        self.ready = None
        return await self._switch(conn, new)

    async def _switch(self, old: Connection, new: Connection) -> Connection:
        await old.terminate()
        self._announce("switched to a new AssemblyAI session")
        return new

    async def feed(self, frame: Frame) -> None:
        """The frame the current connection just got, to the warming one too (paced on its own clock)."""
        warm = self.warm
        if warm is None or warm.conn.done.is_set():
            return
        conn = warm.conn
        if conn.first_frame:
            conn.first_frame = False
            conn.tracker.offset = frame.start
        conn.tracker.timeline.extend(frame.segments)
        await conn.pacer.wait()
        with contextlib.suppress(ConnectionClosed):
            await conn.send(frame.payload)
            conn.pacer.sent(frame.duration)

    async def cancel(self) -> None:
        """The audio ended: no next session is needed (a warming one is told to finish)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await (await self._task).abort()
            self._task = None
        if self.warm is not None:
            await self.warm.conn.terminate()
            self.warm = None
        if self.ready is not None:
            await self.ready[0].terminate()
            self.ready = None
