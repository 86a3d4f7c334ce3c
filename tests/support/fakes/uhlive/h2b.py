"""The fake Uhlive Stream H2B server (the recognition / "voicebot" API).

Every event carries the 7-key envelope and echoes the command's ``request_id``. The session state
machine follows the SDK's (``OPEN`` → idle → ``RECOGNIZE`` → recognition → idle …, wrong state:
``METHOD-NOT-ALLOWED``). Recognition timers are counted in received audio. A recognition whose
confidence is below ``confidence_threshold`` (default 0.5, as the vendor's troubleshooting page
says) completes with ``NoMatch``, its low-confidence hypothesis kept in ``body.asr`` (as the SDK's
example shows one may be). With ``latency``, commands and events cross the network in half a
round trip each, so ``RECOGNITION-IN-PROGRESS`` can arrive after the client's next command, and
the audio that arrives between two recognitions is counted (``bytes_idle``): it is not transcribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.support.fakes.uhlive.base import ConnStats, _WsFake
from tests.support.fakes.uhlive.tones import MIN_SPEECH, RATE, WINDOW, ToneASR

DEFAULT_CONFIDENCE_THRESHOLD = 0.5
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
    heard: list[float] = field(default_factory=list)
    """Seconds of speech each completed recognition heard."""


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
        link = self.link(ws, stats)
        state = "none"
        channel = ""
        params: dict[str, Any] = {}
        rec: dict[str, Any] = {}
        wall0: float | None = None
        pos = 0  # samples received since OPENED
        asr = ToneASR()

        async def send(ev: dict[str, Any]) -> None:
            stats.sent.append(ev)
            await link.send(json.dumps(ev))

        def epoch_ms(sample: int) -> int:
            assert wall0 is not None
            return int(wall0 * 1000) + sample * 1000 // RATE

        async def complete(cause: str, with_text: bool) -> None:
            nonlocal state
            body: Any = None
            confidence = ToneASR.confidence(rec["rms"], rec["samples"] // WINDOW)
            threshold = float(rec["p"].get("confidence_threshold", DEFAULT_CONFIDENCE_THRESHOLD))
            if with_text and confidence < threshold:
                cause, with_text = ("NoMatch" if cause == "Success" else "NoMatchMaxtime"), False
                asr = {
                    "transcript": ToneASR.phrase(rec["zc"], rec["samples"]),
                    "confidence": confidence,
                    "start": epoch_ms(rec["speech_start"]),
                    "end": epoch_ms(rec["speech_end"]),
                }
                body = {"asr": asr, "nlu": None, "grammar_uri": "builtin:speech/transcribe"}
            if with_text:
                text = ToneASR.phrase(rec["zc"], rec["samples"])
                body = {
                    "asr": {
                        "transcript": text,
                        "confidence": confidence,
                        "start": epoch_ms(rec["speech_start"]),
                        "end": epoch_ms(rec["speech_end"]),
                    },
                    "nlu": {"type": "builtin:speech/transcribe", "value": text, "confidence": confidence},
                    "grammar_uri": "builtin:speech/transcribe",
                    "asr_model": "fake.v1",
                    "version": "0.0.1",
                }
            elif cause == "NoMatch" and body is None:
                body = {"asr": None, "nlu": None, "grammar_uri": "builtin:speech/transcribe"}
            ev = h2b_event(
                "RECOGNITION-COMPLETE", rec["request_id"], channel, cause=cause, reason=cause.lower(), body=body
            )
            stats.completions.append(ev)
            stats.heard.append(rec["samples"] / RATE)
            state = "idle"
            await send(ev)

        try:
            async for raw in link.messages():
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
                            rec["rms"] += asr.loudness
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
                    p.update(
                        {
                            k: v
                            for k, v in hdrs.items()
                            if k in (*TIMER_PARAMS, "speech_language", "confidence_threshold")
                        }
                    )
                    rec = {
                        "request_id": rid,
                        "from": pos,
                        "p": p,
                        "speech_start": None,
                        "speech_end": None,
                        "zc": 0,
                        "samples": 0,
                        "rms": 0.0,
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
            stats.closed_by_client = not stats.idle_closed
            await link.stop()
            with contextlib.suppress(Exception):
                await asyncio.sleep(0)


def _bad_params(headers: dict[str, Any]) -> str | None:
    for key in TIMER_PARAMS:
        if key in headers and (not isinstance(headers[key], int) or isinstance(headers[key], bool) or headers[key] < 0):
            return f"{key} must be a non-negative integer"
    threshold = headers.get("confidence_threshold")
    if threshold is not None and (
        isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1
    ):
        return "confidence_threshold must be a number between 0 and 1"
    lang = headers.get("speech_language")
    if lang is not None and lang not in H2B_LANGUAGES:
        return f"speech_language {lang!r} is not supported"
    return None
