"""AssemblyAI Universal-Streaming v3: opening one websocket connection (the I/O of a handshake).

Owns everything between "connect" and "the session has begun":

* :func:`fetch_token` gets a one-time token (``GET /v3/token``) with the API key;
* :func:`open_websocket` performs the upgrade request (through
  :func:`captioner.engines.wire.connect.open_websocket`, which maps handshake
  failures to :class:`~captioner.engines.base.EngineFailure`);
* :func:`wait_for_begin` reads until ``Begin`` so that a refused key fails
  before any audio is sent;
* :class:`Connection` is the state the engine keeps per connection, its
  :class:`~captioner.engines.wire.pacer.Pacer` included;
* :data:`ws_log` is the logger handed to websockets, with secrets redacted.

Sending audio, reading captions and rollover are the engine's
(:mod:`captioner.engines.assemblyai.engine`).
"""

from __future__ import annotations

import asyncio
import contextlib
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
from captioner.engines.assemblyai.config import AssemblyAIConfig
from captioner.engines.assemblyai.errors import (
    REJECTED_KEY,
    SERVICE,
    failure_for_close,
    failure_for_http,
    redact_failure,
)
from captioner.engines.assemblyai.request import auth_headers, build_url, redact, token_url
from captioner.engines.assemblyai.turns import TurnTracker
from captioner.engines.base import Credentials, EngineFailure
from captioner.engines.wire import connect
from captioner.engines.wire.logging import websocket_logger
from captioner.engines.wire.pacer import Pacer

log = logging.getLogger(__name__)

# The logger handed to websockets for our connections (secrets redacted).
ws_log = websocket_logger("captioner.engines.assemblyai.engine.websocket")


class Connection:
    """One open websocket, its :class:`TurnTracker` and the engine's bookkeeping for it."""

    def __init__(self, ws: Any, tracker: TurnTracker, index: int) -> None:
        self.ws = ws
        self.tracker = tracker
        self.index = index
        self.opened_at = time.monotonic()
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


async def fetch_token(config: AssemblyAIConfig, credentials: Credentials) -> str:
    """A temporary token for one connection. Raises :class:`EngineFailure`."""
    url = token_url(config)
    key = credentials.api_key or ""
    timeout = config.connect_timeout

    def get() -> str:
        req = urllib.request.Request(url, headers={"Authorization": key, "User-Agent": f"Captioner/{__version__}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            failure = failure_for_http(exc.code, exc.read().decode("utf-8", "replace"))
            raise redact_failure(failure, credentials) from None
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise EngineFailure(
                f"cannot reach AssemblyAI for a token: {redact(str(reason), credentials)}", retryable=True
            ) from None
        except ValueError:
            raise EngineFailure("AssemblyAI sent an unreadable token response", retryable=True) from None
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise EngineFailure("AssemblyAI sent no token", retryable=True)
        return token

    return await asyncio.to_thread(get)


async def open_websocket(
    config: AssemblyAIConfig, credentials: Credentials, token: str | None, *, use_key: bool
) -> Any:
    """Connect to ``config.url`` (the key in a header if ``use_key``). Raises :class:`EngineFailure`."""
    where = redact(config.url)
    log.info("AssemblyAI: connecting to %s (model %s)", where, config.speech_model)
    return await connect.open_websocket(
        build_url(config, token),
        service=SERVICE,
        where=where,
        rejected=REJECTED_KEY,
        logger=ws_log,
        headers=auth_headers(credentials, use_key=use_key),
        settings=connect.SocketSettings(open_timeout=config.connect_timeout, ping_interval=20, close_timeout=2),
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
