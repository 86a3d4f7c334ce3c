"""AssemblyAI Universal-Streaming v3: opening one websocket connection (the I/O of a handshake).

Owns everything between "connect" and "the session has begun":

* :func:`fetch_token` gets a one-time token (``GET /v3/token``) with the API key;
* :func:`open_websocket` performs the upgrade request and maps handshake
  failures to :class:`~captioner.engines.base.EngineFailure`;
* :func:`wait_for_begin` reads until ``Begin`` so that a refused key fails
  before any audio is sent;
* :class:`Connection` is the state the engine keeps per connection;
* :data:`ws_log` is the logger handed to websockets, with secrets redacted.

Sending audio, reading captions and rollover are the engine's
(:mod:`captioner.engines.assemblyai.engine`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from captioner import __version__
from captioner.captions.events import EngineEvent
from captioner.engines.assemblyai.config import AssemblyAIConfig
from captioner.engines.assemblyai.errors import failure_for_close, failure_for_http, redact_failure
from captioner.engines.assemblyai.request import auth_headers, build_url, redact, token_url
from captioner.engines.assemblyai.turns import TurnTracker
from captioner.engines.base import Credentials, EngineFailure

log = logging.getLogger(__name__)


class _RedactingFilter(logging.Filter):
    """Keeps secrets out of the websockets library's DEBUG lines (it logs request headers and URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        clean = re.sub(r"(?i)(authorization:\s*)\S.*", r"\1***", msg)
        clean = redact(clean)
        if clean != msg:
            record.msg, record.args = clean, ()
        return True


# The logger handed to websockets for our connections.
ws_log = logging.getLogger("captioner.engines.assemblyai.engine.websocket")
ws_log.addFilter(_RedactingFilter())


class Connection:
    """One open websocket, its :class:`TurnTracker` and the engine's bookkeeping for it."""

    def __init__(self, ws: Any, tracker: TurnTracker, index: int) -> None:
        self.ws = ws
        self.tracker = tracker
        self.index = index
        self.opened_at = time.monotonic()
        self.rollover_at = float("inf")
        self.audio_sent = 0.0
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
    url = build_url(config, token)
    where = redact(config.url)
    log.info("AssemblyAI: connecting to %s (model %s)", where, config.speech_model)
    try:
        return await connect(
            url,
            additional_headers=auth_headers(credentials, use_key=use_key),
            user_agent_header=f"Captioner/{__version__}",
            open_timeout=config.connect_timeout,
            compression=None,
            max_size=2**22,
            ping_interval=20,
            ping_timeout=20,
            close_timeout=2,
            logger=ws_log,
        )
    except InvalidStatus as exc:
        resp = exc.response
        body = resp.body.decode("utf-8", "replace") if resp.body else ""
        raise redact_failure(failure_for_http(resp.status_code, body), credentials) from None
    except InvalidURI as exc:
        raise EngineFailure(f"bad AssemblyAI endpoint: {where} ({exc})", retryable=False) from None
    except (InvalidHandshake, ConnectionClosed) as exc:
        raise EngineFailure(
            f"AssemblyAI handshake failed: {redact(str(exc), credentials)}", retryable=True, code=1006
        ) from None
    except (OSError, TimeoutError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or "timed out"
        raise EngineFailure(
            f"cannot reach AssemblyAI at {where}: {redact(reason, credentials)}", retryable=True, code=1006
        ) from None


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
