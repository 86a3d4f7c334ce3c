"""The AssemblyAI engine: Universal-Streaming v3 over a websocket.

The protocol itself is sans-IO: options and capabilities in :mod:`~captioner.engines.assemblyai.config`,
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
* **rollover** (:mod:`~captioner.engines.assemblyai.rollover`): before a session
  reaches its expiry (3 h), the next connection is opened in the background and
  the audio switches to it at a frame boundary (with speaker labels, after a
  warm-up that carries the speakers over); the old one is told to finish
  (``ForceEndpoint`` + ``Terminate``) and its last caption arrives as usual. No audio gap.

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
from captioner.engines.assemblyai.config import CAPABILITIES, AssemblyAIConfig, parse_config
from captioner.engines.assemblyai.connection import SOCKET, Connection, open_connection
from captioner.engines.assemblyai.request import redact, update_configuration_message
from captioner.engines.assemblyai.rollover import Rollover
from captioner.engines.assemblyai.settings import ADVANCED_OPTIONS
from captioner.engines.assemblyai.speakers import SpeakerBook
from captioner.engines.base import Credentials, Engine, EngineFailure, EngineOptions, check_word_boost
from captioner.engines.wire.connect import SlowLink

log = logging.getLogger(__name__)

_DONE = object()


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
    capabilities = CAPABILITIES

    def __init__(self, options: EngineOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials)
        kept, self._boost_warnings = check_word_boost(self.capabilities, options.word_boost)
        self._config = parse_config(options, keyterms=kept)  # ValueError → CLI usage error
        self._current: Connection | None = None
        self._connections: list[Connection] = []
        self._out: asyncio.Queue[Any] | None = None
        self._rollover: Rollover | None = None
        self._token_used = False
        self.trace: Trace | None = None
        self.socket = SOCKET
        """The heartbeat that notices a dead link, and the close timeout (the tests scale them down)."""
        self.slow_link = SlowLink()
        """Says once when the network is too slow for the audio (the tests lower its threshold)."""
        self.speakers = SpeakerBook()
        """Speaker labels across this engine's sessions (rollover), carried over to the engine of a reconnect."""

    @classmethod
    def check_available(cls) -> tuple[bool, str]:
        return True, "ready (needs an AssemblyAI API key)"

    @classmethod
    def requires_credentials(cls, options: EngineOptions) -> bool:
        """No API key is needed on this machine when an organisation's key service hands out one-time keys."""
        return not str(options.extra.get("key_service", "")).strip()

    def carry_over(self, previous: Engine) -> None:
        """A reconnect: keep the speaker labels already shown, so that new sessions never reuse a letter (and
        do not say again that the network is slow)."""
        if isinstance(previous, AssemblyAIEngine):
            self.speakers = previous.speakers
            self.slow_link = previous.slow_link  # said once per session, not per reconnect

    @property
    def config(self) -> AssemblyAIConfig:
        return self._config

    def validate(self) -> list[str]:
        return [*self._boost_warnings, *self._config.warnings]

    def endpoint_silence(self) -> float:
        """``max_turn_silence``, else the model family's default: after that much silence a turn always ends."""
        return self._config.endpoint_ms() / 1000.0

    # -- live update ---------------------------------------------------------------------------
    async def update(self, options: EngineOptions) -> bool:
        kept, warnings = check_word_boost(self.capabilities, options.word_boost)
        try:
            new = parse_config(options, keyterms=kept)
        except ValueError as exc:
            log.warning("AssemblyAI: options not applied live (%s)", exc)
            return False
        fields = new.live_update(self._config)
        if fields is None:
            return False  # model, language, endpoint…, or a default only a new session restores
        conn = self._current
        if conn is None or conn.done.is_set() or conn.terminating:
            return False
        try:
            if fields:
                await conn.send(update_configuration_message(fields))
        except Exception as exc:  # the connection died under us: let the session restart
            log.warning("AssemblyAI: live update failed (%s)", self._redact(str(exc)))
            return False
        fresh = [w for w in new.warnings if w not in self._config.warnings]
        self._config = new
        self.options = options
        self._boost_warnings = warnings
        if self._out is not None:
            for w in (*warnings, *fresh):
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
            self._rollover = Rollover(
                self._open,
                self.speakers,
                warm_up=self._config.rollover_warmup if self._config.speaker_labels else 0.0,
                announce=lambda text: out.put_nowait(
                    (Status(engine=self.id, state=EngineState.LISTENING, message=text), None)
                ),
            )
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
            if self._rollover is not None:
                await self._rollover.cancel()
            for c in self._connections:
                if c.reader is not None and not c.reader.done():
                    c.reader.cancel()
                await c.abort()
            self._current = None

    def _redact(self, text: str) -> str:
        return redact(text, self.credentials)

    async def _open(self, index: int) -> Connection:
        """Connect, wait for ``Begin`` and start the reader. Raises :class:`EngineFailure`."""
        ready: str | None = None
        if self.credentials.token and not self.credentials.api_key and not self._config.key_service:
            if self._token_used:
                raise EngineFailure(
                    "the AssemblyAI temporary token was already used (tokens are one-time); provide an API key",
                    retryable=False,
                    refused=True,
                )
            ready, self._token_used = self.credentials.token, True
        out = self._out
        assert out is not None
        conn = await open_connection(
            self._config,
            self.credentials,
            index,
            lambda ev: out.put_nowait((ev, None)),
            ready_token=ready,
            speakers=self.speakers,
            socket=self.socket,
        )
        self._connections.append(conn)
        conn.reader = asyncio.create_task(self._read_loop(conn), name=f"assemblyai-reader-{index}")
        return conn

    async def _read_loop(self, conn: Connection) -> None:
        out = self._out
        assert out is not None
        try:
            failure = await conn.read(
                lambda ev, received: out.put_nowait((ev, received)), self.credentials, timed=self.trace is not None
            )
            if failure is None:
                return
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
        conn = self._current
        assert conn is not None and self._rollover is not None
        conn = self._current = await self._rollover.step(conn)
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
        self._check_link(conn, frame)
        await self._rollover.feed(frame)
        if self.trace is not None:
            now = time.monotonic()
            self.trace.frames += 1
            self.trace.capture_to_wire.extend(now - c for c in frame.captured_at)
        return True

    def _check_link(self, conn: Connection, frame: Frame) -> None:
        """Say once when the network is too slow for the audio (:class:`~captioner.engines.wire.connect.SlowLink`)."""
        need = len(frame.payload) / frame.duration / 1000 if frame.duration > 0 else 0.0
        remedy = (
            "; with the pcm_mulaw audio encoding (Advanced settings, or --option encoding=pcm_mulaw) it needs half"
            if self._config.encoding == "pcm_s16le"
            else ""
        )
        message = self.slow_link.check(conn.ws, service="AssemblyAI", needs=f"{need:.0f} kB/s", remedy=remedy)
        if message is not None and self._out is not None:
            log.warning("AssemblyAI: %s", message)
            self._out.put_nowait((Notice(engine=self.id, message=message), None))

    async def _lost(self, conn: Connection) -> bool:
        """The current connection closed: its reader reports why (give it a moment)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(conn.done.wait(), 5.0)
        if conn.failure is None and self._out is not None:
            self._out.put_nowait(EngineFailure("connection to AssemblyAI lost", retryable=True, code=1006))
        return False

    async def _finish(self) -> None:
        conn = self._current
        assert conn is not None
        if self._rollover is not None:
            await self._rollover.cancel()  # a rollover in progress is no longer needed
        if not conn.done.is_set():
            await conn.terminate()
        pending = [c.done.wait() for c in self._connections if not c.done.is_set()]
        if pending:
            try:
                await asyncio.wait_for(asyncio.gather(*pending), self._config.terminate_timeout)
            except TimeoutError:
                # Its last turns may be stuck in a dead link: never end as if everything were final. The
                # session captions the audio since the last final again (when it still runs).
                log.warning("AssemblyAI did not confirm the end of the session in time")
                raise EngineFailure(
                    "AssemblyAI did not confirm the end of the session in time", retryable=True
                ) from None
        if conn.failure is not None:
            # Raised by the reader already (it is in the queue before us).
            await asyncio.sleep(0)
