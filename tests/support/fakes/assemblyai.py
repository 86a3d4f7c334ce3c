"""A faithful fake of AssemblyAI Universal-Streaming v3 on 127.0.0.1 (a real websockets server).

It implements the documented protocol (``docs/protocols/assemblyai-v3.md``),
including its error paths, and is checked against the official
``assemblyai`` SDK in ``test_fake_server.py``:

* ``GET /v3/ws`` upgrade; credentials from the ``Authorization`` header (raw key
  or temporary token) or ``?token=``; bad credentials → upgrade, no Begin, close
  1008 ``Unauthorized Connection: …`` (or HTTP 401 with ``reject_http=True``);
* query parameters recorded and parsed (booleans in any case, JSON lists);
* ``Begin`` first; binary audio only, each frame 50–1000 ms (else 3007 "Input
  duration violation"), never faster than real time (else 3007 "Audio
  Transmission Rate Exceeded"), at most 128 KB (else 1009);
* text frames: bad JSON / not an object / unknown type → 3006; ``Terminate`` →
  in-flight turn, ``Termination``, close 1000; ``ForceEndpoint`` → end the
  current turn; ``KeepAlive``; ``UpdateConfiguration`` applied and recorded;
* scripted turns driven by the audio received, in the 2025 style (a second,
  formatted end-of-turn message with the same ``turn_order``) or the 2026 style
  (formatted in place); ``SpeechStarted`` optional;
* faults at a given audio time of a given connection: abrupt drop (client sees
  1006), ``Error`` frame + 3005, session expiry 3008 (also ``max_session_s``);
* ``GET /v3/token`` (one-time tokens).

Scripted words live on the *source* timeline. Given ``reference_pcm`` (the
PCM16 the client is expected to send), the fake finds where each connection's
frames sit in it (``ConnRecord.runs``), so a reconnect that replays audio gets
the right words with times in *audio received on that connection*, exactly
like the real service, also when the client skipped part of a pause to catch
up (the service only counts what it received; turn silence too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

MAX_MESSAGE = 128 * 1024
# The fake's own websockets logger (it would print the client's Authorization header at DEBUG).
_fake_log = logging.getLogger("tests.fake_assemblyai")
_fake_log.setLevel(logging.INFO)


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # source seconds
    end: float
    formatted: str | None = None

    @property
    def fmt(self) -> str:
        return self.formatted or self.text


@dataclass(frozen=True)
class ScriptTurn:
    words: tuple[Word, ...]

    @property
    def raw(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def formatted(self) -> str:
        return " ".join(w.fmt for w in self.words)


def make_turn(start: float, raw: str, formatted: str | None = None, word_s: float = 0.3) -> ScriptTurn:
    """A turn whose words start at ``start`` (s), each ``word_s`` long (with a 20 ms gap)."""
    raw_words = raw.split()
    fmt_words = (formatted or raw).split()
    assert len(fmt_words) == len(raw_words)
    words = tuple(
        Word(r, round(start + i * word_s, 3), round(start + (i + 1) * word_s - 0.02, 3), f)
        for i, (r, f) in enumerate(zip(raw_words, fmt_words, strict=True))
    )
    return ScriptTurn(words)


@dataclass(frozen=True)
class Fault:
    connection: int  # index of the connection (0 = first)
    at_audio: float  # seconds of audio received on that connection
    kind: str  # "drop" | "error3005" | "close3005" | "expire"


def parse_bool(v: str | None) -> bool | None:
    if v is None:
        return None
    if v.lower() == "true":
        return True
    if v.lower() == "false":
        return False
    raise ValueError(v)


@dataclass
class ConnRecord:
    index: int
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    authorized: bool = False
    opened_at: float = 0.0
    source_offset: float = 0.0
    source_offset_found: bool = False
    audio: bytearray = field(default_factory=bytearray)
    runs: list[tuple[float, float, float]] = field(default_factory=list)
    """Contiguous pieces of the reference received: (received seconds, source start, seconds)."""
    frames: int = 0
    frame_ms: list[float] = field(default_factory=list)
    audio_seconds: float = 0.0
    texts: list[Any] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    force_endpoints: int = 0
    terminate_received: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    closed: asyncio.Event = field(default_factory=asyncio.Event)


def _locate(rec: ConnRecord, ref: bytes, data: bytes, rate: int) -> None:
    """Record where ``data`` (the next frame received) sits in the reference PCM."""
    seconds = len(data) / 2 / rate
    if rec.runs:
        recv0, src0, dur = rec.runs[-1]
        pos = round((src0 + dur) * rate) * 2
        if ref[pos : pos + len(data)] == data or ref.find(data[:3200], pos) < 0:
            rec.runs[-1] = (recv0, src0, dur + seconds)  # contiguous (or the padded last frame)
            return
        start = pos
    else:
        start = 0
    pos = ref.find(data[: min(len(data), 3200)], start)
    while pos > 0 and pos % 2:
        pos = ref.find(data[: min(len(data), 3200)], pos + 1)
    if pos >= 0:
        rec.runs.append((rec.audio_seconds, pos / 2 / rate, seconds))


def _received_at(rec: ConnRecord, src: float) -> float:
    """Seconds of audio received on ``rec`` at source time ``src`` (in a skipped gap: where it resumed)."""
    if not rec.runs:
        return src - rec.source_offset
    for i, (recv0, src0, dur) in enumerate(rec.runs):
        if src < src0 - 1e-9:
            return recv0 if i else src - src0
        if src <= src0 + dur + 1e-9:
            return recv0 + (src - src0)
    recv0, src0, _dur = rec.runs[-1]
    return recv0 + (src - src0)


class _TurnState:
    def __init__(self, script: ScriptTurn, conn_start: float) -> None:
        self.words = tuple(w for w in script.words if w.start >= conn_start - 1e-6)
        self.order: int | None = None
        self.last: tuple[int, int] = (0, 0)
        self.finished = False
        self.heard: tuple[Word, ...] = ()


class FakeAssemblyAI:
    """See the module docstring. ``await fake.start()``; ``fake.url`` is ``ws://127.0.0.1:PORT``."""

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
        rate_slack: float = 0.05,
        turn_silence_default_ms: int = 400,
    ) -> None:
        assert formatting in ("two-message", "in-place")
        self.keys = set(keys)
        self.script = script
        self.formatting = formatting
        self.reference_pcm = reference_pcm
        self.speech_started = speech_started
        self.reject_http = reject_http
        self.max_session_s = max_session_s
        self.faults = list(faults)
        self.final_lag = final_lag
        self.rate_slack = rate_slack
        self.turn_silence_default_ms = turn_silence_default_ms
        self.connections: list[ConnRecord] = []
        self.tokens: dict[str, float] = {}  # token -> expiry (unix s)
        self.used_tokens: set[str] = set()
        self.token_requests: list[dict[str, str]] = []
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
    def total_audio_seconds(self) -> float:
        return sum(c.audio_seconds for c in self.connections)

    # -- HTTP ------------------------------------------------------------------------------------
    def _credential_ok(self, headers: Headers, query: dict[str, str], consume: bool) -> tuple[bool, str]:
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
            ok, why = self._credential_ok(request.headers, {}, consume=False)
            if not ok or request.headers.get("Authorization") not in self.keys:
                return self._json_response(401, {"error": why or "Invalid API key"})
            try:
                exp = int(query.get("expires_in_seconds", ""))
            except ValueError:
                exp = 0
            if not 1 <= exp <= 600:
                return self._json_response(400, {"error": "expires_in_seconds must be between 1 and 600"})
            token = "tok-" + uuid.uuid4().hex
            self.tokens[token] = time.time() + exp
            return self._json_response(200, {"token": token, "expires_in_seconds": exp})
        if parts.path != "/v3/ws":
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        if self.reject_http:
            ok, why = self._credential_ok(request.headers, query, consume=False)
            if not ok:
                return self._json_response(401, {"error": f"Unauthorized Connection: {why}"})
        return None

    # -- websocket -------------------------------------------------------------------------------
    async def _handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        parts = urlsplit(ws.request.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        rec = ConnRecord(
            index=len(self.connections),
            path=parts.path,
            headers={k: v for k, v in ws.request.headers.raw_items()},
            query=query,
            opened_at=time.monotonic(),
        )
        self.connections.append(rec)
        try:
            await self._session(ws, rec, query)
        except ConnectionClosed:
            pass
        finally:
            if rec.close_code is None:
                rec.close_code = ws.close_code
                rec.close_reason = ws.close_reason or ""
            rec.closed.set()

    async def _close(self, ws: ServerConnection, rec: ConnRecord, code: int, reason: str) -> None:
        rec.close_code, rec.close_reason = code, reason
        await ws.close(code, reason)

    async def _send(self, ws: ServerConnection, rec: ConnRecord, msg: dict[str, Any]) -> None:
        rec.sent.append(msg)
        await ws.send(json.dumps(msg))

    def _parse_params(self, query: dict[str, str]) -> dict[str, Any]:
        p: dict[str, Any] = {}
        for key, value in query.items():
            if key in ("format_turns", "language_detection", "speaker_labels"):
                p[key] = parse_bool(value)
            elif key in ("keyterms_prompt", "language_codes"):
                p[key] = json.loads(value)
                assert isinstance(p[key], list)
            elif key in ("sample_rate", "min_turn_silence", "max_turn_silence", "inactivity_timeout"):
                p[key] = int(value)
            elif key in ("end_of_turn_confidence_threshold", "vad_threshold"):
                p[key] = float(value)
            else:
                p[key] = value
        return p

    async def _session(self, ws: ServerConnection, rec: ConnRecord, query: dict[str, str]) -> None:
        ok, why = self._credential_ok(ws.request.headers if ws.request else Headers(), query, consume=True)
        if not ok:
            await self._close(ws, rec, 1008, f"Unauthorized Connection: {why}")
            return
        rec.authorized = True
        try:
            rec.params = self._parse_params(query)
        except (ValueError, AssertionError) as exc:
            await self._close(ws, rec, 3006, f"Invalid Message: bad query parameter ({exc})")
            return
        rate = int(rec.params.get("sample_rate", 16000))
        encoding = rec.params.get("encoding", "pcm_s16le")
        bytes_per_sample = 1 if encoding == "pcm_mulaw" else 2
        format_turns = bool(rec.params.get("format_turns", False))
        config = {
            "min_turn_silence": rec.params.get("min_turn_silence", self.turn_silence_default_ms),
            "max_turn_silence": rec.params.get("max_turn_silence", 1280),
            "keyterms_prompt": rec.params.get("keyterms_prompt", []),
        }
        session_s = self.max_session_s
        deadline = rec.opened_at + session_s if session_s is not None else None
        expires = int(time.time() + (session_s if session_s is not None else 10800))
        await self._send(
            ws,
            rec,
            {
                "type": "Begin",
                "id": str(uuid.uuid4()),
                "expires_at": expires,
                "configuration": {"model": rec.params.get("speech_model", "universal-streaming-english")},
            },
        )
        inactivity = rec.params.get("inactivity_timeout")
        last_activity = time.monotonic()
        turns = [_TurnState(t, 0.0) for t in self.script]  # rebuilt once the source offset is known
        next_order = 0
        started = False
        t_session = time.monotonic()

        async def emit_turn(st: _TurnState, n_final: int, eot: bool) -> None:
            in_place = format_turns and self.formatting == "in-place"
            words = [
                {
                    "start": round(_received_at(rec, w.start) * 1000),
                    "end": round(_received_at(rec, w.end) * 1000),
                    "text": w.fmt if in_place else w.text,
                    "confidence": 0.93,
                    "word_is_final": eot or i < n_final,
                }
                for i, w in enumerate(st.heard)
            ]
            final_words = st.heard if eot else st.heard[:n_final]
            transcript = " ".join(w.fmt if in_place else w.text for w in final_words)
            msg = {
                "type": "Turn",
                "turn_order": st.order,
                "turn_is_formatted": in_place,
                "end_of_turn": eot,
                "transcript": transcript,
                "end_of_turn_confidence": 0.91 if eot else 0.05,
                "words": words,
                "utterance": transcript if eot else "",
            }
            await self._send(ws, rec, msg)
            if eot and format_turns and not in_place:
                formatted = dict(msg)
                formatted["turn_is_formatted"] = True
                formatted["transcript"] = " ".join(w.fmt for w in st.heard)
                formatted["utterance"] = ""
                await self._send(ws, rec, formatted)

        async def advance(now_src: float) -> None:
            nonlocal next_order, started
            for st in turns:
                if st.finished or not st.words:
                    continue
                heard = tuple(w for w in st.words if (w.start + w.end) / 2 <= now_src + 1e-9)
                if not heard:
                    return  # this turn has not started yet; later turns neither
                if st.order is None:
                    st.order = next_order
                    next_order += 1
                    if self.speech_started:
                        ts = round(_received_at(rec, heard[0].start) * 1000)
                        await self._send(ws, rec, {"type": "SpeechStarted", "timestamp": ts, "confidence": 0.98})
                st.heard = heard
                # Finality and turn silence are counted in audio received (skipped audio never arrived).
                now_recv = rec.audio_seconds
                n_final = sum(1 for w in heard if _received_at(rec, w.end) + self.final_lag <= now_recv + 1e-9)
                if (len(heard), n_final) != st.last:
                    st.last = (len(heard), n_final)
                    await emit_turn(st, n_final, False)
                silence = int(config["min_turn_silence"]) / 1000.0
                if len(heard) == len(st.words) and now_recv >= _received_at(rec, st.words[-1].end) + silence - 1e-9:
                    st.finished = True
                    await emit_turn(st, len(heard), True)
                    continue
                return

        async def force_endpoint() -> None:
            for st in turns:
                if st.order is not None and not st.finished:
                    st.finished = True
                    await emit_turn(st, len(st.heard), True)

        while True:
            timeout = None
            now = time.monotonic()
            if deadline is not None:
                timeout = max(0.0, deadline - now)
            if inactivity is not None:
                left = max(0.0, last_activity + inactivity - now)
                timeout = left if timeout is None else min(timeout, left)
            try:
                data = await asyncio.wait_for(ws.recv(), timeout) if timeout is not None else await ws.recv()
            except TimeoutError:
                if deadline is not None and time.monotonic() >= deadline - 1e-3:
                    await self._close(ws, rec, 3008, "Session Expired: Maximum session duration exceeded")
                else:
                    await self._close(ws, rec, 3006, "Session terminated: inactivity timeout")
                return
            last_activity = time.monotonic()
            if isinstance(data, bytes):
                ms = len(data) * 1000.0 / (rate * bytes_per_sample)
                if not (50.0 - 1e-6 <= ms <= 1000.0 + 1e-6):
                    await self._close(
                        ws, rec, 3007, f"Input duration violation: {ms:.0f} ms. Expected between 50 and 1000 ms"
                    )
                    return
                elapsed = time.monotonic() - rec.opened_at
                if rec.audio_seconds + ms / 1000.0 > elapsed + ms / 1000.0 + self.rate_slack:
                    await self._close(
                        ws,
                        rec,
                        3007,
                        f"Audio Transmission Rate Exceeded: Received {rec.audio_seconds + ms / 1000:.2f} sec. "
                        f"audio in {elapsed:.2f} sec",
                    )
                    return
                if rec.frames == 0 and self.reference_pcm is not None and bytes_per_sample == 2:
                    pos = self.reference_pcm.find(data[: min(len(data), 3200)])
                    while pos > 0 and pos % 2:
                        pos = self.reference_pcm.find(data[: min(len(data), 3200)], pos + 1)
                    if pos >= 0:
                        rec.source_offset = pos / 2 / rate
                        rec.source_offset_found = True
                    turns = [_TurnState(t, rec.source_offset) for t in self.script]
                if self.reference_pcm is not None and bytes_per_sample == 2:
                    _locate(rec, self.reference_pcm, data, rate)
                rec.frames += 1
                rec.frame_ms.append(ms)
                rec.audio += data
                rec.audio_seconds += ms / 1000.0
                for fault in list(self.faults):
                    if fault.connection == rec.index and rec.audio_seconds >= fault.at_audio - 1e-9:
                        self.faults.remove(fault)
                        await self._fault(ws, rec, fault)
                        return
                if rec.runs:
                    _recv0, src0, dur = rec.runs[-1]
                    await advance(src0 + dur)
                else:
                    await advance(rec.source_offset + rec.audio_seconds)
                continue
            # text frame
            try:
                msg = json.loads(data)
            except ValueError:
                await self._close(ws, rec, 3006, f"Invalid JSON: {data[:100]}")
                return
            rec.texts.append(msg)
            if not isinstance(msg, dict):
                await self._close(ws, rec, 3006, f"Invalid Message: {data[:100]}")
                return
            kind = msg.get("type")
            if kind == "Terminate":
                rec.terminate_received = True
                await force_endpoint()
                await self._send(
                    ws,
                    rec,
                    {
                        "type": "Termination",
                        "audio_duration_seconds": round(rec.audio_seconds),
                        "session_duration_seconds": math.ceil(time.monotonic() - t_session),
                    },
                )
                await self._close(ws, rec, 1000, "")
                return
            if kind == "ForceEndpoint":
                rec.force_endpoints += 1
                await force_endpoint()
            elif kind == "KeepAlive":
                pass
            elif kind == "UpdateConfiguration":
                rec.updates.append(msg)
                for key in ("min_turn_silence", "max_turn_silence", "keyterms_prompt"):
                    if key in msg:
                        config[key] = msg[key]
            else:
                await self._close(ws, rec, 3006, f"Invalid Message Type: {kind}")
                return

    async def _fault(self, ws: ServerConnection, rec: ConnRecord, fault: Fault) -> None:
        if fault.kind == "drop":
            rec.close_code, rec.close_reason = 1006, "dropped"
            assert ws.transport is not None
            ws.transport.abort()
        elif fault.kind == "error3005":
            error = {"type": "Error", "error_code": 3005, "error": "Session Cancelled: An error occurred"}
            await self._send(ws, rec, error)
            await self._close(ws, rec, 3005, "Session Cancelled: An error occurred")
        elif fault.kind == "close3005":
            await self._close(ws, rec, 3005, "Session Cancelled: An error occurred")
        elif fault.kind == "expire":
            await self._close(ws, rec, 3008, "Session Expired: Maximum session duration exceeded")
        else:
            raise ValueError(fault.kind)
