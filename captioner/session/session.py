"""A captioning session: audio source → engine → transcript, kept alive.

The session owns everything between the source and the transcript:

* a **backlog** of recent audio (bounded), from which each engine session is fed through its own cursor;
* **retry with backoff** (:mod:`~captioner.session.retry`) when an engine fails with a retryable error: the new
  engine session is fed from the end of the last committed caption, so nothing the user said is lost;
* **live option changes**: ``Engine.update`` when the engine can, otherwise a seamless restart: the old engine
  gets the end of its audio (and finalises its last words) at the exact block where the new engine starts;
* **one timeline per transcript**: times are shifted by :attr:`Session.offset` (ids, speakers and times are
  given in :mod:`~captioner.session.relabel`), so sessions that feed one transcript never go back in time;
* the audio device going away and coming back (:meth:`~captioner.audio.base.AudioSource.watch_devices`): a
  retryable :class:`~captioner.captions.events.EngineError` while it is gone (:attr:`Session.device_lost`), a
  :class:`~captioner.captions.events.Notice` and "listening" when capture resumes;
* audio level, dropped blocks and caption lag, reported as
  :class:`~captioner.captions.events.AudioLevel` events;
* **catch-up** for engines that take audio at 1× only (``realtime_input``: the cloud engines): after an outage
  the cursor skips the middle of long pauses until the engine is live again
  (:mod:`~captioner.session.catch_up`), never speech, with times kept on the source timeline.

It knows nothing of Qt; views subscribe to the transcript or to ``on_event``."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence

from captioner.audio.base import AudioSource, DeviceChange
from captioner.captions.events import (
    AudioLevel,
    CaptionEvent,
    EngineError,
    EngineState,
    Final,
    Notice,
    Status,
)
from captioner.captions.transcript import Transcript
from captioner.engines.base import Engine, EngineFailure, EngineOptions
from captioner.session.backlog import Backlog, Cursor
from captioner.session.catch_up import CatchUpPolicy, catch_up_for
from captioner.session.relabel import Relabeller
from captioner.session.retry import RetryPolicy

log = logging.getLogger(__name__)

EngineFactory = Callable[[EngineOptions], Engine]
FallbackFactory = Callable[[str, EngineOptions], Engine]
"""(engine id, options) -> engine: builds the engine an :class:`EngineFailure` names as its ``fallback``."""
EventFilter = Callable[[CaptionEvent], CaptionEvent | None]
"""Sees each event before the transcript: the event to apply (possibly changed), or ``None`` to hold it back."""


class Session:
    """Runs ``source`` through engines made by ``engine_factory`` into ``transcript``."""

    def __init__(
        self,
        source: AudioSource,
        engine_factory: EngineFactory,
        options: EngineOptions,
        *,
        transcript: Transcript | None = None,
        on_event: Callable[[CaptionEvent], None] | None = None,
        retry: RetryPolicy | None = None,
        backlog_seconds: float = 600.0,
        level_interval: float = 0.1,
        catch_up: CatchUpPolicy | None = None,
        fallback: FallbackFactory | None = None,
        notices: Sequence[str] = (),
        speaker: str | None = None,
        event_filter: EventFilter | None = None,
    ) -> None:
        self.source = source
        self.engine_factory = engine_factory
        self.options = options
        self.transcript = transcript if transcript is not None else Transcript()
        self.on_event = on_event
        self.retry = retry or RetryPolicy()
        self.level_interval = level_interval
        self.fallback = fallback
        self.notices = tuple(notices)
        """Shown (as :class:`Notice` events) when the session starts, e.g. why another engine runs."""
        self.speaker = speaker
        """Who speaks on this source (``"You"``): given to unlabelled lines and to status/level/error events."""
        self.event_filter = event_filter
        self.id_prefix = self.transcript.new_run()
        """Every line id of this session starts with it (see :meth:`Transcript.new_run`)."""
        self._labels = Relabeller(id_prefix=self.id_prefix, speaker=speaker)
        self.catch_up = catch_up if catch_up is not None else CatchUpPolicy()
        self._backlog = Backlog(backlog_seconds, self.catch_up.noise_window)
        self.skipped_seconds = 0.0
        """Seconds of pauses skipped to catch up (see :class:`CatchUpPolicy`)."""
        self._generation = 0
        self._engine: Engine | None = None
        self._cursor: Cursor | None = None
        self._restart = asyncio.Event()
        self._committed_until = 0.0  # source time up to which every caption is final
        self._stopping = False
        self._stopped = asyncio.Event()  # set by stop(): ends the wait before a reconnect at once
        self._finishing: set[asyncio.Task[None]] = set()
        self._old_cursors: list[Cursor] = []
        self.engine_name = ""
        self.device_lost = False
        """The audio device is gone (captions wait for it; the engine hears silence meanwhile)."""
        source.watch_devices(self._device_changed)

    # -- public --------------------------------------------------------------------------
    @property
    def engine(self) -> Engine | None:
        return self._engine

    @property
    def offset(self) -> float:
        """Where this session's source time 0 lies on the transcript's timeline (:meth:`Transcript.run_offset`,
        taken when :meth:`run` starts); every time this session emits is shifted by it."""
        return self._labels.offset

    @offset.setter
    def offset(self, value: float) -> None:
        self._labels.offset = value

    @property
    def lag(self) -> float:
        """How far the current engine's input is behind the newest captured audio (seconds).

        An engine session that has read nothing yet (just started or restarted) is behind by the audio waiting
        from where it starts, not by everything since the clock's zero.
        """
        newest, cursor = self._backlog.newest, self._cursor
        if newest is None or cursor is None:
            return 0.0
        fed = cursor.fed_until
        if fed <= 0.0:
            first = self._backlog.get(max(cursor.seq, self._backlog.first_seq))
            fed = first.start if first is not None else newest.end
        return max(0.0, newest.end - fed)

    async def run(self) -> None:
        """Caption until the source ends (or :meth:`stop`). Raises a non-retryable :class:`EngineFailure`, or the
        source's :class:`~captioner.audio.base.AudioError` when capture failed (once what it heard is captioned)."""
        self.offset = self.transcript.run_offset()
        for message in self.notices:
            self._emit(Notice(engine=self.engine_name, message=message))
        pump = asyncio.create_task(self._pump(), name="captioner-audio-pump")
        try:
            await self._engine_loop()
        finally:
            if not pump.done():
                await self.source.close()
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump
            self._emit(Status(engine=self.engine_name, state=EngineState.STOPPED, message="stopped"))
        failure = None if pump.cancelled() else pump.exception()
        if failure is not None and not self._stopping:
            raise failure  # the source failed (a microphone unplugged…): what was heard is captioned, then this

    async def stop(self) -> None:
        """Stop capturing; the engine finalises what it heard and :meth:`run` returns.

        While the session waits to reconnect it does not reconnect just to be stopped: :meth:`run` returns at
        once, with every caption committed so far kept.
        """
        self._stopping = True
        self._stopped.set()
        await self.source.close()

    async def update_options(self, options: EngineOptions) -> None:
        """Apply new options (word boost, silence threshold…) to the running session."""
        self.options = options
        engine = self._engine
        if engine is None:
            return
        try:
            applied = await engine.update(options)
        except EngineFailure as exc:
            log.warning("live update failed (%s); restarting the engine", exc)
            applied = False
        if applied:
            engine.options = options
            self._emit(Status(engine=engine.id, state=EngineState.LISTENING, message="settings applied"))
        else:
            self._restart.set()

    # -- internals -----------------------------------------------------------------------
    def _emit(self, event: CaptionEvent) -> None:
        if isinstance(event, Status | EngineError | Notice | AudioLevel) and event.speaker is None and self.speaker:
            event = dataclasses.replace(event, speaker=self.speaker)
        filtered = self.event_filter(event) if self.event_filter is not None else event
        if filtered is None:
            return  # held back (meeting mode's duplicate guard)
        self.transcript.apply(filtered)
        if self.on_event is not None:
            self.on_event(filtered)

    async def _pump(self) -> None:
        last_level = 0.0
        peak_db = -120.0
        dropped_reported = -1
        try:
            async for chunk in self.source.chunks():
                keep_from = self._backlog.next_seq
                for c in (self._cursor, *self._old_cursors):
                    if c is not None:
                        keep_from = min(keep_from, c.seq)
                keep_from = min(keep_from, self._backlog.seq_after(self._committed_until))
                level = chunk.rms_dbfs()
                self._backlog.append(chunk, keep_from, level)
                peak_db = max(peak_db, level)
                now = time.monotonic()
                dropped = self.source.dropped_blocks
                if now - last_level >= self.level_interval or dropped != dropped_reported:
                    self._emit(AudioLevel(rms_dbfs=peak_db, dropped_blocks=dropped, lag=self.lag))
                    last_level, peak_db, dropped_reported = now, -120.0, dropped
        finally:
            self._backlog.end()

    def _device_changed(self, change: DeviceChange) -> None:
        """The device went away (captions wait for it, like a reconnect) or capture resumed: say so."""
        engine = self.engine_name
        self.device_lost = not change.available
        if not change.available:
            self._emit(EngineError(engine=engine, message=change.message, retryable=True))
            return
        self._emit(Notice(engine=engine, message=change.message))
        self._emit(Status(engine=engine, state=EngineState.LISTENING, message=change.message))

    def _forget_cursor(self, cursor: Cursor) -> Callable[[asyncio.Task[None]], None]:
        def forget(_task: asyncio.Task[None]) -> None:
            if cursor in self._old_cursors:
                self._old_cursors.remove(cursor)

        return forget

    def _make_engine(self, options: EngineOptions) -> Engine:
        """Build an engine; invalid options become a non-retryable :class:`EngineFailure`."""
        try:
            return self.engine_factory(options)
        except EngineFailure:
            raise
        except ValueError as exc:  # bad options (a TypeError would be a bug: let it surface)
            raise EngineFailure(str(exc), retryable=False) from exc

    def _skipped(self, engine: Engine) -> Callable[[float, float], None]:
        def skipped(seconds: float, lag: float) -> None:
            self.skipped_seconds += seconds
            log.info("catching up: skipped %.2f s of a pause; %.2f s behind live", seconds, lag)
            message = f"catching up: skipped {seconds:.1f} s of silence ({lag:.1f} s behind live)"
            self._emit(Status(engine=engine.id, state=EngineState.LISTENING, message=message))

        return skipped

    def _fallback_for(self, engine: Engine, exc: EngineFailure) -> Engine | None:
        """The engine ``exc`` asks to switch to, built and announced; ``None`` to handle ``exc`` as usual."""
        target = exc.fallback
        if target is None or self.fallback is None or target == engine.id:
            return None
        try:
            replacement = self.fallback(target, self.options)
        except (EngineFailure, ValueError) as bad:
            log.warning("cannot switch to %s: %s", target, bad)
            return None
        factory = self.fallback
        self.engine_factory = lambda opts: factory(target, opts)
        name = replacement.name or replacement.id
        self._emit(Notice(engine=engine.id, message=f"{exc.message} — switched to {name}"))
        return replacement

    async def _engine_loop(self) -> None:
        attempt = 0
        start_seq = 0
        prepared: Engine | None = None
        run: asyncio.Task[None] | None = None
        try:
            while True:
                self._generation += 1
                gen = self._generation
                engine = prepared if prepared is not None else self._make_engine(self.options)
                prepared = None
                if self._engine is not None and type(self._engine) is type(engine):
                    engine.carry_over(self._engine)
                self.engine_name = engine.id
                self._engine = engine
                for warning in engine.validate():
                    self._emit(Notice(engine=engine.id, message=warning))
                cursor = Cursor(self._backlog, start_seq, catch_up_for(self.catch_up, engine, self._skipped(engine)))
                self._cursor = cursor
                started = time.monotonic()
                self._restart.clear()
                run = asyncio.create_task(self._consume(gen, engine, cursor), name=f"captioner-engine-{gen}")
                while prepared is None:
                    restart = asyncio.create_task(self._restart.wait())
                    try:
                        await asyncio.wait({run, restart}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        restart.cancel()
                    if run.done():
                        break
                    self._restart.clear()
                    try:
                        # Build the new engine before touching the running one: bad options keep the old one.
                        prepared = self._make_engine(self.options)
                    except EngineFailure as bad:
                        self._emit(
                            EngineError(
                                engine=engine.id,
                                message=f"settings not applied: {bad.message}",
                                retryable=False,
                                code=bad.code,
                            )
                        )
                        self.options = engine.options
                if not run.done():
                    # Seamless restart: the old engine gets its audio up to here and finalises it
                    # while the new one starts at exactly the same block.
                    start_seq = max(cursor.seq, self._backlog.next_seq)
                    cursor.stop(start_seq)
                    self._old_cursors.append(cursor)
                    self._finishing.add(run)
                    run.add_done_callback(self._finishing.discard)
                    run.add_done_callback(self._forget_cursor(cursor))
                    self._emit(Status(engine=engine.id, state=EngineState.CONNECTING, message="applying new settings"))
                    attempt = 0
                    continue
                exc = run.exception()
                if exc is None:
                    return  # source ended, everything flushed
                if not isinstance(exc, EngineFailure):
                    raise exc
                fallback = self._fallback_for(engine, exc)
                if fallback is not None:
                    # Another engine takes over (e.g. the light engine when the neural one cannot keep up),
                    # replaying from the last committed caption like a reconnect.
                    prepared = fallback
                    self.transcript.drop_live(f"{self.id_prefix}{gen}-")
                    start_seq = max(self._backlog.seq_after(self._committed_until), self._backlog.first_seq)
                    attempt = 0
                    continue
                if time.monotonic() - started >= self.retry.healthy_after:
                    attempt = 0
                attempt += 1
                gave_up = self.retry.max_attempts is not None and attempt > self.retry.max_attempts
                will_retry = exc.retryable and not gave_up and not (self._stopping and self._backlog.ended)
                self._emit(EngineError(engine=engine.id, message=exc.message, retryable=will_retry, code=exc.code))
                if not exc.retryable:
                    raise exc
                if self._stopping and self._backlog.ended:
                    return
                if gave_up:
                    raise EngineFailure(
                        f"{exc.message} (gave up after {_attempts(self.retry.max_attempts or 0)})",
                        retryable=False,
                        code=exc.code,
                    )
                # Abandon this generation's interim lines; replay from the last committed caption.
                self.transcript.drop_live(f"{self.id_prefix}{gen}-")
                delay = self.retry.delay(attempt)
                self._emit(
                    Status(
                        engine=engine.id,
                        state=EngineState.RECONNECTING,
                        message=f"reconnecting in {delay:.1f} s (attempt {attempt})",
                    )
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopped.wait(), delay)
                if self._stopping:
                    return
                start_seq = self._backlog.seq_after(self._committed_until)
                start_seq = max(start_seq, self._backlog.first_seq)
        except asyncio.CancelledError:
            # Cancelled (a quit that cannot wait): no engine session may live on and write to the transcript.
            for task in (run, *self._finishing):
                if task is not None:
                    task.cancel()
            raise
        finally:
            if self._finishing:
                await asyncio.gather(*self._finishing, return_exceptions=True)
            self._engine = None

    async def _consume(self, gen: int, engine: Engine, cursor: Cursor) -> None:
        self._emit(
            Status(engine=engine.id, state=EngineState.CONNECTING, message=f"starting {engine.name or engine.id}")
        )
        async for ev in engine.stream(cursor.__aiter__()):
            if isinstance(ev, Final) and ev.end is not None and cursor is self._cursor:
                self._committed_until = max(self._committed_until, ev.end)  # source time
            self._emit(self._labels(gen, ev))
        if cursor is self._cursor:
            self._committed_until = max(self._committed_until, cursor.fed_until)


def _attempts(n: int) -> str:
    return "1 attempt" if n == 1 else f"{n} attempts"
