"""The AssemblyAI engine: Universal-Streaming v3 over a websocket.

The protocol itself is sans-IO: options in :mod:`~captioner.engines.assemblyai.config`,
the request and control messages in :mod:`~captioner.engines.assemblyai.request`,
frame rules in :mod:`~captioner.engines.assemblyai.audio`, turn handling in
:mod:`~captioner.engines.assemblyai.turns`, close codes in
:mod:`~captioner.engines.assemblyai.errors`. Opening a connection (token,
handshake, ``Begin``) is :mod:`~captioner.engines.assemblyai.connection`; framing,
pacing, the socket and log redaction are the shared wire layer
(:mod:`captioner.engines.wire`). This module is the engine that runs the connections:

* one **sender** task cuts the audio into ``chunk_ms`` frames and sends them,
  never faster than real time (the cumulative rule of
  :mod:`~captioner.engines.wire.pacer`: paced against the monotonic clock from
  the moment the session began, which also holds when the session replays
  buffered audio after a reconnect);
* one **reader** task per connection turns server messages into caption events;
* on end of audio: ``ForceEndpoint``, ``Terminate``, wait (bounded) for
  ``Termination``, then return;
* **rollover**: before a session reaches its expiry (3 h), the next connection
  is opened in the background and the audio switches to it at a frame
  boundary; the old one is told to finish (``ForceEndpoint`` + ``Terminate``)
  and its last caption arrives as usual. No audio gap.

Failures raise :class:`~captioner.engines.base.EngineFailure`; retry and replay
of the audio since the last committed caption are the session's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, EngineState, Notice, Status
from captioner.engines.assemblyai.audio import AudioFramer, Frame
from captioner.engines.assemblyai.config import (
    ADVANCED_OPTIONS,
    MAX_SESSION_SECONDS,
    MULTILINGUAL_LANGS,
    SAMPLE_RATE,
    AssemblyAIConfig,
    parse_config,
)
from captioner.engines.assemblyai.connection import Connection, fetch_token, open_websocket, wait_for_begin
from captioner.engines.assemblyai.errors import failure_for_close, redact_failure
from captioner.engines.assemblyai.request import FORCE_ENDPOINT, TERMINATE, redact, update_configuration_message
from captioner.engines.assemblyai.turns import SessionInfo, TurnTracker
from captioner.engines.base import (
    Capabilities,
    Credentials,
    Engine,
    EngineFailure,
    EngineOptions,
    WordBoostLimits,
    check_word_boost,
)

log = logging.getLogger(__name__)

_DONE = object()
ROLLOVER_MARGIN = 120.0  # seconds before expiry at which the next session is opened


@dataclass
class Trace:
    """Latency figures for benchmarks (off unless ``engine.trace`` is set)."""

    capture_to_wire: list[float] = field(default_factory=list)
    message_to_event: list[float] = field(default_factory=list)
    frames: int = 0


class AssemblyAIEngine(Engine):
    """AssemblyAI Universal-Streaming (v3): interim and final captions, keyterms, live updates."""

    id = "assemblyai"
    name = "AssemblyAI Universal-Streaming"
    advanced_options = ADVANCED_OPTIONS  # the settings panel's advanced page, as `--option KEY=VALUE`
    capabilities = Capabilities(
        sample_rate=SAMPLE_RATE,
        interim_results=True,
        word_boost=True,
        live_update=True,
        silence_threshold=True,
        word_boost_limits=WordBoostLimits(max_terms=100, max_term_chars=50),
        languages=MULTILINGUAL_LANGS,
        needs_credentials=True,
        realtime_input=True,
        notes=(
            "English by default; other languages use the multilingual model (en, es, fr, de, it, pt) "
            "or speech_model=whisper-rt"
        ),
    )

    def __init__(self, options: EngineOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials)
        kept, self._boost_warnings = check_word_boost(self.capabilities, options.word_boost)
        self._config = parse_config(options, keyterms=kept)  # ValueError → CLI usage error
        self._current: Connection | None = None
        self._connections: list[Connection] = []
        self._out: asyncio.Queue[Any] | None = None
        self._next: asyncio.Task[Connection] | None = None
        self._token_used = False
        self.trace: Trace | None = None

    @classmethod
    def check_available(cls) -> tuple[bool, str]:
        return True, "ready (needs an AssemblyAI API key)"

    @property
    def config(self) -> AssemblyAIConfig:
        return self._config

    def validate(self) -> list[str]:
        return [*self._boost_warnings, *self._config.warnings]

    def endpoint_silence(self) -> float:
        """``max_turn_silence``: after that much silence a turn always ends (default 1.28 s, u3 1 s)."""
        max_ms = self._config.session_fields()["max_turn_silence"]
        return float(max_ms) / 1000.0 if isinstance(max_ms, int | float) else 1.28

    # -- live update ---------------------------------------------------------------------------
    async def update(self, options: EngineOptions) -> bool:
        kept, warnings = check_word_boost(self.capabilities, options.word_boost)
        try:
            new = parse_config(options, keyterms=kept)
        except ValueError as exc:
            log.warning("AssemblyAI: options not applied live (%s)", exc)
            return False
        if new.live_key() != self._config.live_key():
            return False  # model, language, endpoint… need a new session
        conn = self._current
        if conn is None or conn.done.is_set() or conn.terminating:
            return False
        try:
            await conn.send(update_configuration_message(new))
        except Exception as exc:  # the connection died under us: let the session restart
            log.warning("AssemblyAI: live update failed (%s)", self._redact(str(exc)))
            return False
        self._config = new
        self.options = options
        self._boost_warnings = warnings
        if self._out is not None:
            for w in warnings:
                self._out.put_nowait((Notice(engine=self.id, message=w), None))
        return True

    # -- streaming -----------------------------------------------------------------------------
    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        out: asyncio.Queue[Any] = asyncio.Queue()
        self._out = out
        sender: asyncio.Task[None] | None = None
        try:
            conn = await self._open(0)
            self._current = conn
            sender = asyncio.create_task(self._send_loop(audio), name="assemblyai-sender")
            while True:
                item = await out.get()
                if item is _DONE:
                    return
                if isinstance(item, EngineFailure):
                    raise item
                event, received = item
                if self.trace is not None and received is not None:
                    self.trace.message_to_event.append(time.perf_counter() - received)
                yield event
        finally:
            if sender is not None and not sender.done():
                sender.cancel()
                with contextlib.suppress(BaseException):
                    await sender
            if self._next is not None:
                self._next.cancel()
                with contextlib.suppress(BaseException):
                    conn_next = await self._next
                    await conn_next.abort()
                self._next = None
            for c in self._connections:
                if c.reader is not None and not c.reader.done():
                    c.reader.cancel()
                await c.abort()
            self._current = None

    def _redact(self, text: str) -> str:
        return redact(text, self.credentials)

    async def _open(self, index: int) -> Connection:
        """Connect, wait for ``Begin`` and start the reader. Raises :class:`EngineFailure`."""
        cfg = self._config
        token: str | None = None
        use_key = True
        if cfg.token_mode and self.credentials.api_key:
            token = await fetch_token(cfg, self.credentials)
            use_key = False
        elif self.credentials.token and not self.credentials.api_key:
            if self._token_used:
                raise EngineFailure(
                    "the AssemblyAI temporary token was already used (tokens are one-time); provide an API key",
                    retryable=False,
                    refused=True,
                )
            token = self.credentials.token
            self._token_used = True
        ws = await open_websocket(cfg, self.credentials, token, use_key=use_key)
        prefix = "" if index == 0 else f"s{index}-"
        tracker = TurnTracker(prefix=prefix, finals_only=cfg.finals_only)
        conn = Connection(ws, tracker, index)
        self._connections.append(conn)
        out = self._out
        assert out is not None
        # Wait for Begin so that a refused key fails here, before any audio is sent.
        await wait_for_begin(conn, cfg.connect_timeout, self.credentials, lambda ev: out.put_nowait((ev, None)))
        conn.opened_at = conn.pacer.anchor = time.monotonic()
        conn.rollover_at = conn.opened_at + self._rollover_after(tracker.session)
        conn.reader = asyncio.create_task(self._read_loop(conn), name=f"assemblyai-reader-{index}")
        return conn

    def _rollover_after(self, session: SessionInfo | None) -> float:
        if self._config.rollover_seconds is not None:
            return self._config.rollover_seconds
        remaining = float(MAX_SESSION_SECONDS)
        if session is not None and session.expires_at is not None:
            remaining = max(0.0, session.expires_at - time.time())
        return max(0.5, remaining - min(ROLLOVER_MARGIN, remaining * 0.25))

    async def _read_loop(self, conn: Connection) -> None:
        out = self._out
        assert out is not None
        trace = self.trace
        try:
            async for msg in conn.ws:
                received = time.perf_counter() if trace is not None else None
                for ev in conn.tracker.receive(msg):
                    out.put_nowait((ev, received))
        except ConnectionClosed:
            pass
        except Exception as exc:  # never let a bad message kill the reader silently
            log.warning("AssemblyAI reader stopped: %s", self._redact(repr(exc)))
        code, reason = conn.ws.close_code, conn.ws.close_reason or ""
        try:
            if conn.tracker.terminated or (conn.terminating and code == 1000):
                sid = conn.tracker.session.session_id if conn.tracker.session else "?"
                log.info("AssemblyAI session %s ended normally", sid)
                return
            failure = failure_for_close(code, reason, conn.tracker.server_error) or EngineFailure(
                "AssemblyAI ended the session unexpectedly", retryable=True, code=code
            )
            failure = redact_failure(failure, self.credentials)
            conn.failure = failure
            if conn is self._current:
                out.put_nowait(failure)
            else:
                log.warning("AssemblyAI: a finishing (rolled-over) session closed abnormally: %s", failure.message)
        finally:
            conn.done.set()

    async def _send_loop(self, audio: AsyncIterator[AudioChunk]) -> None:
        out = self._out
        assert out is not None
        cfg = self._config
        framer = AudioFramer(cfg.sample_rate, cfg.chunk_ms, cfg.encoding)
        try:
            async for frame in framer.frames(audio):
                if not await self._send_frame(frame):
                    return
            await self._finish()
            out.put_nowait(_DONE)
        except EngineFailure as exc:
            out.put_nowait(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("AssemblyAI sender failed")
            out.put_nowait(EngineFailure(f"AssemblyAI engine error: {self._redact(str(exc))}", retryable=True))

    async def _send_frame(self, frame: Frame) -> bool:
        """Send one frame on the current connection, paced at 1×; ``False`` if the connection died."""
        await self._maybe_rollover()
        conn = self._current
        assert conn is not None
        if conn.done.is_set():
            return await self._lost(conn)
        if conn.first_frame:
            conn.first_frame = False
            conn.tracker.offset = frame.start
        # Where this frame's audio sits on the source timeline: the service's times count the audio
        # received on this connection, which skips the pauses the session left out to catch up.
        conn.tracker.timeline.extend(frame.segments)
        # Never faster than real time: this frame may leave once the session has lasted as long
        # as the audio already sent on it.
        await conn.pacer.wait()
        try:
            await conn.send(frame.payload)
        except ConnectionClosed:
            return await self._lost(conn)
        conn.pacer.sent(frame.duration)
        if self.trace is not None:
            now = time.monotonic()
            self.trace.frames += 1
            self.trace.capture_to_wire.extend(now - c for c in frame.captured_at)
        return True

    async def _lost(self, conn: Connection) -> bool:
        """The current connection closed: its reader reports why (give it a moment)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(conn.done.wait(), 5.0)
        if conn.failure is None and self._out is not None:
            self._out.put_nowait(EngineFailure("connection to AssemblyAI lost", retryable=True, code=1006))
        return False

    async def _maybe_rollover(self) -> None:
        conn = self._current
        assert conn is not None
        now = time.monotonic()
        if self._next is None and now >= conn.rollover_at and not conn.done.is_set():
            log.info("AssemblyAI: session %d nears its time limit; opening the next one", conn.index)
            self._next = asyncio.create_task(self._open(conn.index + 1), name="assemblyai-rollover")
        if self._next is None or not self._next.done():
            return
        task, self._next = self._next, None
        try:
            new = task.result()
        except EngineFailure as exc:
            log.warning("AssemblyAI: could not open the next session (%s); trying again in 30 s", exc.message)
            conn.rollover_at = now + 30.0
            return
        self._current = new
        await self._terminate(conn)
        if self._out is not None:
            self._out.put_nowait(
                (
                    Status(engine=self.id, state=EngineState.LISTENING, message="switched to a new AssemblyAI session"),
                    None,
                )
            )

    async def _terminate(self, conn: Connection) -> None:
        """End a session cleanly: last words become final, then ``Termination``."""
        if conn.terminating:
            return
        conn.terminating = True
        try:
            await conn.send(FORCE_ENDPOINT)
            await conn.send(TERMINATE)
        except Exception as exc:
            log.debug("AssemblyAI: could not send Terminate (%s)", exc)

    async def _finish(self) -> None:
        conn = self._current
        assert conn is not None
        if self._next is not None:  # a rollover in progress is no longer needed
            self._next.cancel()
            with contextlib.suppress(BaseException):
                await (await self._next).abort()
            self._next = None
        if not conn.done.is_set():
            await self._terminate(conn)
        pending = [c.done.wait() for c in self._connections if not c.done.is_set()]
        if pending:
            try:
                await asyncio.wait_for(asyncio.gather(*pending), self._config.terminate_timeout)
            except TimeoutError:
                log.warning("AssemblyAI did not confirm the end of the session in time; closing")
        if conn.failure is not None:
            # Raised by the reader already (it is in the queue before us).
            await asyncio.sleep(0)
