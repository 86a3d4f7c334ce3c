"""The fake AssemblyAI server: HTTP endpoints, the websocket upgrade and credentials.

:class:`FakeAssemblyAI` is a real ``websockets`` server on 127.0.0.1. It serves ``/v3/ws`` (each
connection run by :func:`tests.support.fakes.assemblyai.session.run`), ``GET /v3/token``
(one-time tokens issued with the API key) and an organisation's token service
(``GET /org/token``: a one-time token for whoever asks, so that a machine needs no key).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.support.fakes.assemblyai.records import ConnRecord
from tests.support.fakes.assemblyai.script import Fault, ScriptTurn
from tests.support.fakes.assemblyai.turns import Shape

MAX_MESSAGE = 128 * 1024
ORG_TOKEN_PATH = "/org/token"
# The fake's own websockets logger (it would print the client's Authorization header at DEBUG).
_fake_log = logging.getLogger("tests.fake_assemblyai")
_fake_log.setLevel(logging.INFO)


class FakeAssemblyAI:
    """See the package docstring. ``await fake.start()``; ``fake.url`` is ``ws://127.0.0.1:PORT``.

    ``refusals``: close reasons of 1008 refusals given, in turn, to the first connections that
    present good credentials (a transient refusal that succeeds on retry, as SDK users report).
    """

    def __init__(
        self,
        *,
        keys: tuple[str, ...] = ("test-key",),
        script: tuple[ScriptTurn, ...] = (),
        formatting: str = "two-message",
        reference_pcm: bytes | None = None,
        speech_started: bool = False,
        reject_http: bool = False,
        max_session_s: float | None = None,
        faults: tuple[Fault, ...] = (),
        final_lag: float = 0.1,
        format_lag: float = 0.0,
        rate_slack: float = 0.05,
        turn_silence_default_ms: int | None = None,
        whisper_silence_s: float = 1.0,
        empty_force_endpoint: bool = False,
        refusals: tuple[str, ...] = (),
        position: Callable[[bytes, int], float | None] | None = None,
        keep_audio: bool = True,
    ) -> None:
        assert formatting in ("two-message", "in-place")
        self.keys = set(keys)
        self.script = script
        self.shape = Shape(
            formatting=formatting,
            final_lag=final_lag,
            format_lag=format_lag,
            speech_started=speech_started,
            whisper_silence_s=whisper_silence_s,
            empty_force_endpoint=empty_force_endpoint,
        )
        self.reference_pcm = reference_pcm
        self.reject_http = reject_http
        self.max_session_s = max_session_s
        self.faults = list(faults)
        self.rate_slack = rate_slack
        self.turn_silence_default_ms = turn_silence_default_ms
        self.refusals = list(refusals)
        self.position = position
        """Without ``reference_pcm``: where a connection's first frame (PCM16, rate) sits on the source timeline."""
        self.keep_audio = keep_audio
        """Keep every connection's audio in ``ConnRecord.audio`` (off for hours of audio)."""
        self.connections: list[ConnRecord] = []
        self.tokens: dict[str, float] = {}  # token -> expiry (unix s)
        self.used_tokens: set[str] = set()
        self.token_requests: list[dict[str, str]] = []
        self.org_token_requests: list[dict[str, str]] = []
        self.org_token_status: int | None = None
        """Answer the organisation's token service with this HTTP status (an error) instead of a token."""
        self._server: Server | None = None
        self.port = 0

    # -- life cycle ------------------------------------------------------------------------------
    async def start(self) -> FakeAssemblyAI:
        self._server = await serve(
            self._handler,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            max_size=MAX_MESSAGE,
            compression=None,
            ping_interval=None,
            logger=_fake_log,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def __aenter__(self) -> FakeAssemblyAI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def org_token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{ORG_TOKEN_PATH}"

    @property
    def total_audio_seconds(self) -> float:
        return sum(c.audio_seconds for c in self.connections)

    # -- credentials -----------------------------------------------------------------------------
    def credential_ok(self, headers: Headers, query: dict[str, str], consume: bool) -> tuple[bool, str]:
        auth = headers.get("Authorization")
        token = query.get("token") or (auth if auth and auth in self.tokens else None)
        if auth and auth in self.keys:
            return True, ""
        if token:
            exp = self.tokens.get(token)
            if exp is None:
                return False, "Invalid token"
            if token in self.used_tokens:
                return False, "Token already used"
            if exp < time.time():
                return False, "Token expired"
            if consume:
                self.used_tokens.add(token)
            return True, ""
        if not auth:
            return False, "Missing Authorization header"
        return False, "Invalid API key"

    def _issue(self, expires_in: int) -> str:
        token = "tok-" + uuid.uuid4().hex
        self.tokens[token] = time.time() + expires_in
        return token

    # -- HTTP ------------------------------------------------------------------------------------
    def _json_response(self, status: int, body: dict[str, Any]) -> Response:
        data = json.dumps(body).encode()
        phrase = HTTPStatus(status).phrase
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return Response(status, phrase, headers, data)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.path == "/v3/token":
            self.token_requests.append(query)
            ok, why = self.credential_ok(request.headers, {}, consume=False)
            if not ok or request.headers.get("Authorization") not in self.keys:
                return self._json_response(401, {"error": why or "Invalid API key"})
            try:
                exp = int(query.get("expires_in_seconds", ""))
            except ValueError:
                exp = 0
            if not 1 <= exp <= 600:
                return self._json_response(400, {"error": "expires_in_seconds must be between 1 and 600"})
            return self._json_response(200, {"token": self._issue(exp), "expires_in_seconds": exp})
        if parts.path == ORG_TOKEN_PATH:
            self.org_token_requests.append({k: v for k, v in request.headers.raw_items()})
            if self.org_token_status is not None:
                return self._json_response(self.org_token_status, {"error": "token service says no"})
            return self._json_response(200, {"token": self._issue(60), "expires_in_seconds": 60})
        if parts.path != "/v3/ws":
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        if self.reject_http:
            ok, why = self.credential_ok(request.headers, query, consume=False)
            if not ok:
                return self._json_response(401, {"error": f"Unauthorized Connection: {why}"})
        return None

    # -- websocket -------------------------------------------------------------------------------
    async def _handler(self, ws: ServerConnection) -> None:
        from tests.support.fakes.assemblyai import session

        assert ws.request is not None
        parts = urlsplit(ws.request.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        rec = ConnRecord(
            index=len(self.connections),
            path=parts.path,
            headers={k: v for k, v in ws.request.headers.raw_items()},
            query=query,
            opened_at=asyncio.get_running_loop().time(),
        )
        self.connections.append(rec)
        try:
            await session.run(self, ws, rec, query)
        except ConnectionClosed:
            pass
        finally:
            if rec.close_code is None:
                rec.close_code = ws.close_code
                rec.close_reason = ws.close_reason or ""
            rec.closed.set()
