"""AssemblyAI Universal-Streaming v3: opening one websocket connection (the I/O of a handshake).

Owns everything between "connect" and "the session has begun":

* :func:`fetch_token` gets a one-time token (``GET /v3/token``) with the API key;
* :func:`open_websocket` performs the upgrade request (through
  :func:`captioner.engines.wire.connect.open_websocket`, which maps handshake
  failures to :class:`~captioner.engines.base.EngineFailure`);
* :func:`wait_for_begin` reads until ``Begin`` so that a refused key fails
  before any audio is sent; :func:`open_connection` does all of it;
* :class:`Connection` is one open session: the state the engine keeps for it
  (its :class:`~captioner.engines.wire.pacer.Pacer` included), reading its
  messages until it closes and what that close means, ending it cleanly;
  :func:`rollover_after` says when to open its successor;
* :data:`ws_log` is the logger handed to websockets, with secrets redacted.

Which connection gets the audio, and the switch to the next one at rollover, are
the engine's (:mod:`captioner.engines.assemblyai.engine`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

from captioner import __version__
from captioner.captions.events import EngineEvent
from captioner.engines.assemblyai.config import MAX_SESSION_SECONDS, AssemblyAIConfig
from captioner.engines.assemblyai.errors import (
    REJECTED_KEY,
    SERVICE,
    failure_for_close,
    failure_for_http,
    redact_failure,
    refused_twice,
    transient_refusal,
)
from captioner.engines.assemblyai.request import FORCE_ENDPOINT, TERMINATE, auth_headers, build_url, redact, token_url
from captioner.engines.assemblyai.speakers import SpeakerBook
from captioner.engines.assemblyai.turns import SessionInfo, TurnTracker
from captioner.engines.base import Credentials, EngineFailure
from captioner.engines.wire import connect
from captioner.engines.wire.logging import websocket_logger
from captioner.engines.wire.pacer import Pacer

log = logging.getLogger(__name__)

# The logger handed to websockets for our connections (secrets redacted).
ws_log = websocket_logger("captioner.engines.assemblyai.engine.websocket")
SOCKET = connect.SocketSettings(close_timeout=2)
"""The socket settings of a connection (the handshake timeout comes from the ``connect_timeout`` option)."""
ROLLOVER_MARGIN = 120.0  # seconds before expiry at which the next session is opened
REFUSAL_RETRY_DELAY = 0.5
"""Seconds before the one retry of a 1008 refusal that may be transient (the SDK waits as long between attempts)."""


class Connection:
    """One open websocket, its :class:`TurnTracker` and the engine's bookkeeping for it."""

    def __init__(self, ws: Any, tracker: TurnTracker, index: int) -> None:
        self.ws = ws
        self.tracker = tracker
        self.index = index
        self.opened_at = asyncio.get_running_loop().time()
        self.rollover_at = float("inf")
        self.pacer = Pacer.cumulative(self.opened_at)
        self.first_frame = True
        self.terminating = False
        self.done = asyncio.Event()
        self.failure: EngineFailure | None = None
        self.reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def send(self, data: bytes | str) -> None:
        async with self._lock:
            await self.ws.send(data)

    async def abort(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 1.0)

    def began(self, config: AssemblyAIConfig) -> None:
        """``Begin`` arrived: pacing and the time to roll over count from now."""
        self.opened_at = self.pacer.anchor = asyncio.get_running_loop().time()
        self.rollover_at = self.opened_at + rollover_after(config, self.tracker.session)

    async def read(
        self, put: Callable[[EngineEvent, float | None], None], credentials: Credentials, *, timed: bool = False
    ) -> EngineFailure | None:
        """Read until the socket closes, each event to ``put`` (with the ``perf_counter`` time its
        message arrived if ``timed``). Returns the failure the close means, ``None`` if it ended normally."""
        try:
            async for msg in self.ws:
                received = time.perf_counter() if timed else None
                for ev in self.tracker.receive(msg):
                    put(ev, received)
        except ConnectionClosed:
            pass
        except Exception as exc:  # never let a bad message kill the reader silently
            log.warning("AssemblyAI reader stopped: %s", redact(repr(exc), credentials))
        code, reason = self.ws.close_code, self.ws.close_reason or ""
        if self.tracker.terminated or (self.terminating and code == 1000):
            sid = self.tracker.session.session_id if self.tracker.session else "?"
            log.info("AssemblyAI session %s ended normally", sid)
            return None
        failure = failure_for_close(code, reason, self.tracker.server_error) or EngineFailure(
            "AssemblyAI ended the session unexpectedly", retryable=True, code=code
        )
        self.failure = redact_failure(failure, credentials)
        return self.failure

    async def terminate(self) -> None:
        """End the session cleanly: the last words become final, then ``Termination``."""
        if self.terminating:
            return
        self.terminating = True
        try:
            await self.send(FORCE_ENDPOINT)
            await self.send(TERMINATE)
        except Exception as exc:
            log.debug("AssemblyAI: could not send Terminate (%s)", exc)


def rollover_after(config: AssemblyAIConfig, session: SessionInfo | None) -> float:
    """Seconds after ``Begin`` at which to open the next session: before the service's expiry."""
    if config.rollover_seconds is not None:
        return config.rollover_seconds
    remaining = float(MAX_SESSION_SECONDS)
    if session is not None and session.expires_at is not None:
        remaining = max(0.0, session.expires_at - time.time())
    return max(0.5, remaining - min(ROLLOVER_MARGIN, remaining * 0.25))


async def fetch_token(config: AssemblyAIConfig, credentials: Credentials) -> str:
    """A one-time token for one connection: from the organisation's key service (no API key needed here),
    else from ``GET /v3/token`` with the API key. Raises :class:`EngineFailure`."""
    url = token_url(config)
    headers = {"User-Agent": f"Captioner/{__version__}", "Accept": "application/json"}
    where = "the key service" if config.key_service else "AssemblyAI"
    if not config.key_service:
        headers["Authorization"] = credentials.api_key or ""
    timeout = config.connect_timeout

    def get() -> str:
        req = urllib.request.Request(url, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            if config.key_service:
                failure = connect.http_failure(
                    exc.code,
                    service="the key service",
                    rejected="the key service refused to give this machine a key",
                    detail=connect.error_detail(body),
                )
            else:
                failure = failure_for_http(exc.code, body)
            raise redact_failure(failure, credentials) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EngineFailure(
                f"cannot reach {where} for a token: {redact(str(reason), credentials)}", retryable=True
            ) from None
        except ValueError:
            raise EngineFailure(f"{where} sent an unreadable token response", retryable=True) from None
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise EngineFailure(f"{where} sent no token", retryable=True)
        return token

    return await asyncio.to_thread(get)


async def open_websocket(
    config: AssemblyAIConfig,
    credentials: Credentials,
    token: str | None,
    *,
    use_key: bool,
    socket: connect.SocketSettings = SOCKET,
) -> Any:
    """Connect to ``config.url`` (the key in a header if ``use_key``). Raises :class:`EngineFailure`.

    ``socket``: the heartbeat and close timeout; the handshake timeout is ``config.connect_timeout``."""
    where = redact(config.url)
    log.info("AssemblyAI: connecting to %s (model %s)", where, config.speech_model)
    return await connect.open_websocket(
        build_url(config, token),
        service=SERVICE,
        where=where,
        rejected=REJECTED_KEY,
        logger=ws_log,
        headers=auth_headers(credentials, use_key=use_key),
        settings=dataclasses.replace(socket, open_timeout=config.connect_timeout),
        secrets=(*credentials.secrets(), token),
    )


async def wait_for_begin(
    conn: Connection, timeout: float, credentials: Credentials, emit: Callable[[EngineEvent], None]
) -> None:
    """Read until ``Begin`` (events go to ``emit``); abort ``conn`` and raise :class:`EngineFailure` if none."""
    ws, tracker = conn.ws, conn.tracker
    try:
        while tracker.session is None:
            msg = await asyncio.wait_for(ws.recv(), timeout)
            for ev in tracker.receive(msg):
                emit(ev)
    except ConnectionClosed:
        await conn.abort()
        failure = failure_for_close(ws.close_code, ws.close_reason or "", tracker.server_error)
        raise redact_failure(
            failure or EngineFailure("AssemblyAI closed the session before it began", retryable=True), credentials
        ) from None
    except TimeoutError:
        await conn.abort()
        raise EngineFailure("AssemblyAI did not start the session in time", retryable=True) from None


async def open_connection(
    config: AssemblyAIConfig,
    credentials: Credentials,
    index: int,
    emit: Callable[[EngineEvent], None],
    *,
    ready_token: str | None = None,
    speakers: SpeakerBook | None = None,
    socket: connect.SocketSettings = SOCKET,
) -> Connection:
    """Connection ``index`` of an engine, its session begun (events before that go to ``emit``).

    With a key service or in token mode a fresh token is fetched for the connection, and no API key
    goes on the socket; otherwise the key is sent in a header, or ``ready_token`` (a user's one-time
    token) in the URL. A 1008 refusal other than the documented bad-key one is retried once, after
    :data:`REFUSAL_RETRY_DELAY`; the same refusal twice in a row is final.
    """
    try:
        return await _open_once(config, credentials, index, emit, ready_token, speakers, socket)
    except EngineFailure as first:
        if not transient_refusal(first) or ready_token is not None:
            raise
        log.warning("AssemblyAI refused the connection (%s); trying once more", first.message)
        await asyncio.sleep(REFUSAL_RETRY_DELAY)
        try:
            return await _open_once(config, credentials, index, emit, None, speakers, socket)
        except EngineFailure as second:
            if transient_refusal(second) and second.message == first.message:
                raise refused_twice(second) from None
            raise


async def _open_once(
    config: AssemblyAIConfig,
    credentials: Credentials,
    index: int,
    emit: Callable[[EngineEvent], None],
    ready_token: str | None,
    speakers: SpeakerBook | None,
    socket: connect.SocketSettings,
) -> Connection:
    token, use_key = ready_token, True
    if config.key_service or (config.token_mode and credentials.api_key):
        token, use_key = await fetch_token(config, credentials), False
    ws = await open_websocket(config, credentials, token, use_key=use_key, socket=socket)
    tracker = TurnTracker(prefix="" if index == 0 else f"s{index}-", finals_only=config.finals_only, speakers=speakers)
    conn = Connection(ws, tracker, index)
    try:
        # Wait for Begin so that a refused key fails here, before any audio is sent.
        await wait_for_begin(conn, config.connect_timeout, credentials, emit)
    except BaseException:
        await conn.abort()
        raise
    conn.began(config)
    return conn
