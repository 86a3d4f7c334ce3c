"""Faithful local fakes of the Uhlive services, on 127.0.0.1.

* :class:`FakeTokenServer`: the OIDC token endpoint (client-credentials grant), a tiny HTTP server.
* :class:`FakeConversationServer`: Stream Conversation (Phoenix v2 arrays, binary push frames).
* :class:`FakeH2BServer`: Stream H2B (7-key event envelope, the session state machine).

Both websocket fakes "recognise" pure tones: a burst of a known pitch is an
utterance whose text is ``PHRASES[pitch]`` (the pitch is measured from zero
crossings). So the text of a caption proves which audio reached the server,
and its times prove where that audio sat on the timeline. Timers and times
are counted in received audio (bytes), not wall-clock, so tests are
deterministic. The fakes are checked against the ``uhlive`` SDK's own
builders and parsers in ``test_fakes.py``. Protocol facts: ``docs/protocols/uhlive.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import threading
import time
import urllib.parse
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

import numpy as np
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

RATE = 8000
BPS = RATE * 2
WINDOW = 160  # 20 ms
PHRASES = {
    400: "hello world",
    700: "good morning everyone",
    1000: "see you tomorrow then",
    1300: "thank you very much",
}
SPEECH_RMS = 1500.0
MIN_SPEECH = RATE // 10
"""Less loud audio than this (100 ms) is noise, not words: no transcript (H2B: NoMatch)."""


# -- test audio ---------------------------------------------------------------------------------


def tone_wav(path: Path, pattern: list[tuple[int, float]], rate: int = 16000) -> Path:
    """Write a WAV of tone bursts: ``(pitch, seconds)``, pitch 0 = silence."""
    parts = []
    for pitch, seconds in pattern:
        n = round(seconds * rate)
        if pitch:
            t = np.arange(n) / rate
            parts.append(0.3 * np.sin(2 * np.pi * pitch * t))
        else:
            parts.append(np.zeros(n))
    pcm = (np.concatenate(parts) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path


def burst_times(pattern: list[tuple[int, float]]) -> list[tuple[str, float, float]]:
    """``(text, start, end)`` of every burst of ``pattern`` on the source timeline."""
    out, t = [], 0.0
    for pitch, seconds in pattern:
        if pitch:
            out.append((PHRASES[pitch], t, t + seconds))
        t += seconds
    return out


class ToneASR:
    """Windows of 20 ms: speech when loud; the pitch of an utterance picks its phrase."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.pos = 0  # samples consumed (windows only)
        self.crossings = 0
        self.speech_samples = 0

    def windows(self, pcm: bytes) -> Iterator[tuple[int, bool, int]]:
        """``(window start sample, is speech, zero crossings)`` for each complete window."""
        self._buf.extend(pcm)
        while len(self._buf) >= WINDOW * 2:
            a = np.frombuffer(bytes(self._buf[: WINDOW * 2]), dtype="<i2").astype(np.float64)
            del self._buf[: WINDOW * 2]
            start = self.pos
            self.pos += WINDOW
            loud = float(np.sqrt(np.mean(a * a))) > SPEECH_RMS
            zc = int(np.count_nonzero(np.diff(np.signbit(a))))
            yield start, loud, zc

    @staticmethod
    def phrase(crossings: int, samples: int) -> str:
        if samples <= 0:
            return ""
        freq = crossings / 2 / (samples / RATE)
        pitch = min(PHRASES, key=lambda p: abs(p - freq))
        return PHRASES[pitch]


# -- token endpoint -----------------------------------------------------------------------------


class FakeTokenServer:
    """``POST /realms/uhlive/protocol/openid-connect/token`` (form: client_id, client_secret, grant_type)."""

    PATH = "/realms/uhlive/protocol/openid-connect/token"

    def __init__(self, client_id: str = "cid", client_secret: str = "s3cret") -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.issued: set[str] = set()
        self.requests: list[dict[str, str]] = []
        self.fail_status: int | None = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                fake.requests.append(form)
                if self.path != FakeTokenServer.PATH:
                    self._reply(404, {"error": "RESTEASY003210: Could not find resource"})
                elif fake.fail_status is not None:
                    self._reply(fake.fail_status, {"error": "server_error"})
                elif self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                    self._reply(400, {"error": "invalid_request"})
                elif form.get("grant_type") != "client_credentials":
                    self._reply(400, {"error": "unsupported_grant_type"})
                elif form.get("client_id") != fake.client_id or form.get("client_secret") != fake.client_secret:
                    self._reply(
                        401,
                        {
                            "error": "unauthorized_client",
                            "error_description": "Invalid client or Invalid client credentials",
                        },
                    )
                else:
                    token = fake.make_token()
                    self._reply(200, {"access_token": token, "expires_in": 300, "token_type": "Bearer", "scope": ""})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def make_token(self) -> str:
        import base64

        def b64(d: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

        token = f"{b64({'alg': 'none'})}.{b64({'azp': self.client_id, 'jti': secrets.token_hex(8)})}.sig"
        self.issued.add(token)
        return token

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.PATH}"

    def __enter__(self) -> FakeTokenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- websocket servers (shared) -----------------------------------------------------------------


@dataclass
class ConnStats:
    """What one websocket connection carried."""

    bytes: int = 0
    frames: list[int] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    texts: list[Any] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)
    closed_by_client: bool = False
    violations: list[str] = field(default_factory=list)


StatsT = TypeVar("StatsT", bound=ConnStats)


class _WsFake(Generic[StatsT]):
    path = "/"

    def __init__(self, tokens: set[str] | None = None) -> None:
        self.tokens: set[str] = tokens if tokens is not None else set()
        self.connections: list[StatsT] = []
        self.rejected: list[int] = []
        self.drop_after_bytes: int | None = None
        """Abort (no close frame) the first connection after this many audio bytes."""
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    def token_ok(self, token: str | None) -> bool:
        return bool(token) and token in self.tokens

    def _auth(self, connection: ServerConnection, request: Request) -> Response | None:
        raise NotImplementedError

    async def _handler(self, ws: ServerConnection) -> None:
        raise NotImplementedError

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if urllib.parse.urlsplit(request.path).path != self.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        return self._auth(connection, request)

    async def __aenter__(self) -> Self:
        # The server's own websockets log (request lines with tokens) stays out of the captured logs,
        # so that the secrets test sees only what the client logs.
        quiet = logging.getLogger("tests.uhlive.fake-server")
        quiet.setLevel(logging.WARNING)
        self._server = await serve(self._handler, "127.0.0.1", 0, process_request=self._process_request, logger=quiet)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def _maybe_drop(self, ws: ServerConnection, stats: StatsT) -> bool:
        if self.drop_after_bytes is not None and len(self.connections) == 1 and stats.bytes >= self.drop_after_bytes:
            ws.transport.abort()
            return True
        return False


# -- Stream Conversation ------------------------------------------------------------------------

JOIN_KEYS = {"readonly", "speaker", "model", "country", "interim_results", "rescoring", "origin", "audio_codec"}
TOPIC_RE = re.compile(r"^conversation:[^@]+@.+$")


def decode_push(frame: bytes) -> tuple[str, str, str, str, bytes]:
    """Phoenix v2 binary push: ``(join_ref, ref, topic, event, payload)``."""
    if len(frame) < 5 or frame[0] != 0:
        raise ValueError("not a Phoenix push frame")
    jl, rl, tl, el = frame[1], frame[2], frame[3], frame[4]
    pos = 5
    parts = []
    for n in (jl, rl, tl, el):
        parts.append(frame[pos : pos + n].decode("utf-8"))
        pos += n
    return parts[0], parts[1], parts[2], parts[3], frame[pos:]


class FakeConversationServer(_WsFake[ConnStats]):
    path = "/socket/websocket"

    def __init__(self, tokens: set[str] | None = None) -> None:
        super().__init__(tokens)
        self.chatter = True
        """Send what a real conversation may carry besides our transcripts (other topics, other speakers…)."""
        self.normalize = True
        self.join_error: str | None = None
        self.phx_error_after_bytes: int | None = None
        self.end_silence_ms = 500
        self.joins: list[dict[str, Any]] = []

    def _auth(self, connection: ServerConnection, request: Request) -> Response | None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.path).query))
        if query.get("vsn") != "2.0.0":
            self.rejected.append(400)
            return connection.respond(HTTPStatus.BAD_REQUEST, "unsupported serializer version\n")
        if not self.token_ok(query.get("jwt")):
            self.rejected.append(403)
            return connection.respond(HTTPStatus.FORBIDDEN, "Forbidden\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        stats = ConnStats()
        self.connections.append(stats)
        topic: str | None = None
        join_ref = ""
        payload: dict[str, Any] = {}
        asr = ToneASR()
        utt = 0
        cur: dict[str, Any] | None = None  # the utterance being spoken
        silence = 0
        previous: str | None = None

        async def send(msg: list[Any]) -> None:
            stats.sent.append(msg)
            await ws.send(json.dumps(msg, separators=(",", ":")))

        def ms(sample: int) -> int:
            return int(payload["origin"]) + sample * 1000 // RATE

        def transcript(event: str, u: dict[str, Any], text: str) -> list[Any]:
            words = text.split()
            start, end = ms(u["start"]), ms(u["end"])
            step = (end - start) // max(1, len(words))
            comps = [
                {
                    "value": w,
                    "start": start + i * step,
                    "end": start + (i + 1) * step,
                    "length": step,
                    "confidence": 0.9,
                }
                for i, w in enumerate(words)
            ]
            body = {
                "id": u["id"],
                "speaker": payload["speaker"],
                "value": text,
                "components": comps,
                "start": start,
                "end": end,
                "length": end - start,
                "confidence": 0.9,
                "lang": payload["model"],
                "country": payload["country"],
                "meta": {"model": f"{payload['model']}-fake", "previous_utterance_id": previous},
                "conversation": topic,
            }
            return [None, None, topic, event, body]

        async def finish(u: dict[str, Any]) -> None:
            nonlocal previous
            if u["samples"] < MIN_SPEECH:
                return  # a click, not words
            text = ToneASR.phrase(u["zc"], u["samples"])
            await send(transcript("audio_segment_decoded", u, text))
            if self.normalize:
                pretty = text[:1].upper() + text[1:] + "."
                await send(transcript("audio_segment_normalized", u, pretty))
            previous = u["id"]

        try:
            async for raw in ws:
                if isinstance(raw, bytes):
                    try:
                        jr, _ref, t, ev, pcm = decode_push(raw)
                    except (ValueError, UnicodeDecodeError) as exc:
                        stats.violations.append(f"bad binary frame: {exc}")
                        continue
                    if topic is None or t != topic or jr != join_ref or ev != "audio_chunk":
                        stats.violations.append(f"audio push on {t!r}/{ev!r} while joined to {topic!r}")
                        continue
                    stats.bytes += len(pcm)
                    stats.frames.append(len(pcm))
                    stats.frame_times.append(time.monotonic())
                    for start, loud, zc in asr.windows(pcm):
                        if loud:
                            silence = 0
                            if cur is None:
                                cur = {"id": str(utt), "start": start, "end": start, "zc": 0, "samples": 0, "shown": 0}
                                utt += 1
                            cur["end"] = start + WINDOW
                            cur["zc"] += zc
                            cur["samples"] += WINDOW
                            if payload.get("interim_results") and cur["samples"] - cur["shown"] >= RATE * 3 // 10:
                                cur["shown"] = cur["samples"]
                                words = ToneASR.phrase(cur["zc"], cur["samples"]).split()
                                n = min(len(words), 1 + cur["samples"] // (RATE // 5))
                                await send(transcript("audio_words_decoded", cur, " ".join(words[:n])))
                        elif cur is not None:
                            silence += WINDOW
                            if silence * 1000 // RATE >= self.end_silence_ms:
                                await finish(cur)
                                cur = None
                    error_at = self.phx_error_after_bytes
                    if error_at is not None and stats.bytes >= error_at and len(self.connections) == 1:
                        await send([join_ref, None, topic, "phx_error", {}])
                        await ws.close(1011, "channel crashed")
                        return
                    if self._maybe_drop(ws, stats):
                        return
                    continue
                msg = json.loads(raw)
                stats.texts.append(msg)
                if not (isinstance(msg, list) and len(msg) == 5):
                    stats.violations.append(f"not a v2 array: {raw!r}")
                    continue
                jr, ref, t, ev, pl = msg
                if t == "phoenix" and ev == "heartbeat":
                    await send([None, ref, "phoenix", "phx_reply", {"status": "ok", "response": {}}])
                elif ev == "phx_join":
                    if not TOPIC_RE.match(t) or set(pl) != JOIN_KEYS or not isinstance(jr, str) or jr != ref:
                        stats.violations.append(f"bad join {msg!r}")
                        await send([jr, ref, t, "phx_reply", {"status": "error", "response": {"reason": "bad join"}}])
                        continue
                    self.joins.append(pl)
                    reason = self.join_error or (
                        None if pl["model"] in ("fr", "en", "es", "de") else f"unknown model {pl['model']}"
                    )
                    if reason:
                        await send([jr, ref, t, "phx_reply", {"status": "error", "response": {"reason": reason}}])
                        continue
                    topic, join_ref, payload = t, jr, pl
                    await send([jr, ref, t, "phx_reply", {"status": "ok", "response": {}}])
                    if self.chatter:
                        await send([None, "7", "phoenix", "phx_reply", {"status": "ok", "response": {}}])
                        await send(
                            [
                                None,
                                None,
                                t,
                                "speaker_joined",
                                {
                                    "speaker": "bob",
                                    "timestamp": int(time.time() * 1000),
                                    "interim_results": False,
                                    "rescoring": True,
                                    "lang": "fr",
                                    "country": "fr",
                                },
                            ]
                        )
                        await send([None, None, t, "audio_mood_detected", {"speaker": "bob", "mood": "calm"}])
                        other = transcript("audio_segment_decoded", {"id": "b0", "start": 0, "end": 0}, "bob speaks")
                        other[4]["speaker"] = "bob"
                        await send(other)
                elif ev == "phx_leave":
                    if topic is None or t != topic:
                        stats.violations.append("leave without join")
                        continue
                    await send([jr, ref, t, "phx_reply", {"status": "ok", "response": {}}])
                    if cur is not None:
                        await finish(cur)
                        cur = None
                    await send([None, None, t, "speaker_left", {"speaker": payload["speaker"], "timestamp": 0}])
                    await send([jr, ref, t, "phx_close", {}])
                    topic = None
                else:
                    stats.violations.append(f"unexpected event {ev!r}")
        except ConnectionClosed:
            pass
        finally:
            stats.closed_by_client = True


# -- Stream H2B ---------------------------------------------------------------------------------

H2B_LANGUAGES = {"fr", "en", "es", "de", "fr-FR", "fr-BE", "fr-CA", "en-US", "en-GB", "es-ES", "de-DE"}
GRAMMARS = {"builtin:speech/transcribe", "builtin:speech/text2num", "builtin:speech/none", "builtin:grammar/none"}
TIMER_PARAMS = (
    "no_input_timeout",
    "recognition_timeout",
    "speech_complete_timeout",
    "speech_incomplete_timeout",
    "speech_nomatch_timeout",
)


def h2b_event(
    event: str,
    request_id: int,
    channel_id: str,
    *,
    headers: dict[str, Any] | None = None,
    cause: str | None = None,
    reason: str | None = None,
    body: Any = "",
) -> dict[str, Any]:
    """The 7-key envelope every H2B event has."""
    return {
        "event": event,
        "request_id": request_id,
        "channel_id": channel_id,
        "headers": headers or {},
        "completion_cause": cause,
        "completion_reason": reason,
        "body": body,
    }


@dataclass
class H2BStats(ConnStats):
    bytes_in_recognition: int = 0
    bytes_idle: int = 0
    """Audio that arrived in an open session while no recognition ran (lost on a real server)."""
    bytes_before_open: int = 0
    recognitions: int = 0
    recognize_headers: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    completions: list[dict[str, Any]] = field(default_factory=list)


class FakeH2BServer(_WsFake[H2BStats]):
    path = "/bots"

    def __init__(self, tokens: set[str] | None = None) -> None:
        super().__init__(tokens)
        self.error_after_bytes: int | None = None
        """First connection: complete the running recognition with cause Error after this many bytes."""

    def _auth(self, connection: ServerConnection, request: Request) -> Response | None:
        auth = Headers(request.headers).get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not self.token_ok(token.strip()):
            self.rejected.append(401)
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        stats = H2BStats()
        self.connections.append(stats)
        state = "none"
        channel = ""
        params: dict[str, Any] = {}
        rec: dict[str, Any] = {}
        wall0: float | None = None
        pos = 0  # samples received since OPENED
        asr = ToneASR()

        async def send(ev: dict[str, Any]) -> None:
            stats.sent.append(ev)
            await ws.send(json.dumps(ev))

        def epoch_ms(sample: int) -> int:
            assert wall0 is not None
            return int(wall0 * 1000) + sample * 1000 // RATE

        async def complete(cause: str, with_text: bool) -> None:
            nonlocal state
            body: Any = None
            if with_text:
                text = ToneASR.phrase(rec["zc"], rec["samples"])
                body = {
                    "asr": {
                        "transcript": text,
                        "confidence": 0.9,
                        "start": epoch_ms(rec["speech_start"]),
                        "end": epoch_ms(rec["speech_end"]),
                    },
                    "nlu": {"type": "builtin:speech/transcribe", "value": text, "confidence": 0.9},
                    "grammar_uri": "builtin:speech/transcribe",
                    "asr_model": "fake.v1",
                    "version": "0.0.1",
                }
            elif cause == "NoMatch":
                body = {"asr": None, "nlu": None, "grammar_uri": "builtin:speech/transcribe"}
            ev = h2b_event(
                "RECOGNITION-COMPLETE", rec["request_id"], channel, cause=cause, reason=cause.lower(), body=body
            )
            stats.completions.append(ev)
            state = "idle"
            await send(ev)

        try:
            async for raw in ws:
                if isinstance(raw, bytes):
                    stats.bytes += len(raw)
                    stats.frames.append(len(raw))
                    stats.frame_times.append(time.monotonic())
                    if state == "none":
                        stats.bytes_before_open += len(raw)
                        continue
                    if wall0 is None:
                        wall0 = time.time()
                    if state != "recognition":
                        stats.bytes_idle += len(raw)
                        # keep the ASR's clock in step with the audio, without recognising it
                        for _ in asr.windows(raw):
                            pos += WINDOW
                        continue
                    stats.bytes_in_recognition += len(raw)
                    for start, loud, zc in asr.windows(raw):
                        pos = start + WINDOW
                        if state != "recognition":
                            continue  # completed within this frame: the rest is not recognised
                        elapsed = (pos - rec["from"]) * 1000 // RATE
                        if loud:
                            if rec["speech_start"] is None:
                                rec["speech_start"] = start
                                await send(h2b_event("START-OF-INPUT", rec["request_id"], channel))
                            rec["speech_end"] = pos
                            rec["zc"] += zc
                            rec["samples"] += WINDOW
                            rec["silence"] = 0
                        elif rec["speech_start"] is not None:
                            rec["silence"] += WINDOW
                            if rec["silence"] * 1000 // RATE >= int(rec["p"]["speech_complete_timeout"]):
                                words = rec["samples"] >= MIN_SPEECH
                                await complete("Success" if words else "NoMatch", words)
                                continue
                        elif elapsed >= int(rec["p"]["no_input_timeout"]):
                            await complete("NoInputTimeout", False)
                            continue
                        if elapsed >= int(rec["p"]["recognition_timeout"]):
                            await complete(
                                "SuccessMaxtime" if rec["speech_start"] is not None else "NoMatchMaxtime",
                                rec["speech_start"] is not None,
                            )
                    if (
                        state == "recognition"
                        and self.error_after_bytes is not None
                        and len(self.connections) == 1
                        and stats.bytes >= self.error_after_bytes
                    ):
                        await send(
                            h2b_event(
                                "RECOGNITION-COMPLETE",
                                rec["request_id"],
                                channel,
                                cause="Error",
                                reason="internal ASR error",
                                body=None,
                            )
                        )
                        state = "idle"
                        self.error_after_bytes = None
                    if self._maybe_drop(ws, stats):
                        return
                    continue
                cmd = json.loads(raw)
                stats.texts.append(cmd)
                if not isinstance(cmd, dict) or set(cmd) != {"command", "request_id", "channel_id", "headers", "body"}:
                    stats.violations.append(f"bad command {raw!r}")
                    await send(h2b_event("METHOD-NOT-VALID", 0, channel, reason="malformed command"))
                    continue
                name, rid, hdrs = cmd["command"], cmd["request_id"], cmd["headers"]
                allowed = {
                    "OPEN": {"none"},
                    "SET-PARAMS": {"idle"},
                    "GET-PARAMS": {"idle"},
                    "DEFINE-GRAMMAR": {"idle"},
                    "RECOGNIZE": {"idle"},
                    "CLOSE": {"idle"},
                    "STOP": {"recognition"},
                    "START-INPUT-TIMERS": {"recognition"},
                }
                if name not in allowed:
                    await send(h2b_event("METHOD-NOT-VALID", rid, channel, reason=f"unknown command {name}"))
                    continue
                if state not in allowed[name]:
                    await send(h2b_event("METHOD-NOT-ALLOWED", rid, channel, reason=f"{name} not allowed now"))
                    continue
                if name != "OPEN" and cmd["channel_id"] != channel:
                    stats.violations.append(f"wrong channel id {cmd['channel_id']!r}")
                if name == "OPEN":
                    if hdrs.get("audio_codec") not in ("linear", "g711a", "g711u"):
                        await send(h2b_event("INVALID-PARAM-VALUE", rid, channel, reason="audio_codec"))
                        continue
                    channel = f"{cmd['channel_id']}{secrets.token_hex(6)}"
                    state = "idle"
                    params = {"speech_language": "fr", "no_input_timeout": 5000, "recognition_timeout": 20000}
                    params.update({"speech_complete_timeout": 1000, "speech_incomplete_timeout": 2000})
                    await send(h2b_event("OPENED", rid, channel))
                elif name in ("SET-PARAMS", "RECOGNIZE"):
                    bad = _bad_params(hdrs)
                    if bad:
                        await send(h2b_event("INVALID-PARAM-VALUE", rid, channel, reason=bad))
                        continue
                    if name == "SET-PARAMS":
                        params.update(hdrs)
                        stats.params.update(hdrs)
                        await send(h2b_event("PARAMS-SET", rid, channel))
                        continue
                    grammars = [g for g in str(cmd["body"]).split("\n") if g]
                    unknown = [g for g in grammars if g not in GRAMMARS]
                    if not grammars or unknown:
                        await send(
                            h2b_event(
                                "METHOD-FAILED",
                                rid,
                                channel,
                                cause="GramLoadFailure",
                                reason=f"unknown grammar {unknown[0] if unknown else ''!r}",
                            )
                        )
                        continue
                    stats.recognitions += 1
                    stats.recognize_headers.append(hdrs)
                    p = dict(params)
                    p.update({k: v for k, v in hdrs.items() if k in TIMER_PARAMS or k == "speech_language"})
                    rec = {
                        "request_id": rid,
                        "from": pos,
                        "p": p,
                        "speech_start": None,
                        "speech_end": None,
                        "zc": 0,
                        "samples": 0,
                        "silence": 0,
                    }
                    state = "recognition"
                    await send(h2b_event("RECOGNITION-IN-PROGRESS", rid, channel))
                elif name == "GET-PARAMS":
                    await send(h2b_event("DEFAULT-PARAMS", rid, channel, headers=dict(params)))
                elif name == "DEFINE-GRAMMAR":
                    await send(h2b_event("GRAMMAR-DEFINED", rid, channel))
                elif name == "STOP":
                    state = "idle"
                    await send(h2b_event("STOPPED", rid, channel))
                elif name == "START-INPUT-TIMERS":
                    await send(h2b_event("INPUT-TIMERS-STARTED", rid, channel))
                elif name == "CLOSE":
                    state = "none"
                    await send(h2b_event("CLOSED", rid, channel))
        except ConnectionClosed:
            pass
        finally:
            stats.closed_by_client = True
            with contextlib.suppress(Exception):
                await asyncio.sleep(0)


def _bad_params(headers: dict[str, Any]) -> str | None:
    for key in TIMER_PARAMS:
        if key in headers and (not isinstance(headers[key], int) or isinstance(headers[key], bool) or headers[key] < 0):
            return f"{key} must be a non-negative integer"
    lang = headers.get("speech_language")
    if lang is not None and lang not in H2B_LANGUAGES:
        return f"speech_language {lang!r} is not supported"
    return None
