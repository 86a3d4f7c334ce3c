"""The fake Uhlive Stream Conversation server (the "H2H" API: Phoenix channels, serializer v2).

Text messages are ``[join_ref, ref, topic, event, payload]`` arrays; the events it pushes carry
our ``join_ref`` and a counting ``ref``, as the SDK's sample frames do. Audio arrives as binary
push frames. It answers ``phx_join`` (or refuses it), pushes ``audio_words_decoded`` interims,
``audio_segment_decoded`` finals and their ``audio_segment_normalized`` versions for our
speaker, the chatter of a real conversation (other topics, other speakers, unknown events),
and on ``phx_leave`` the rest of our transcripts, our ``speaker_left`` and ``phx_close``.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.support.fakes.uhlive.base import ConnStats, _WsFake
from tests.support.fakes.uhlive.tones import MIN_SPEECH, RATE, WINDOW, ToneASR

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
        link = self.link(ws, stats)
        refs = iter(range(2, 1 << 30))  # the refs of pushed events, as in the SDK's sample frames
        topic: str | None = None
        join_ref = ""
        payload: dict[str, Any] = {}
        asr = ToneASR()
        utt = 0
        cur: dict[str, Any] | None = None  # the utterance being spoken
        silence = 0
        previous: str | None = None

        async def send(msg: list[Any]) -> None:
            if msg[0] is None and msg[1] is None:  # a pushed event: our join_ref and the next ref
                msg = [join_ref or None, next(refs), *msg[2:]]
            stats.sent.append(msg)
            await link.send(json.dumps(msg, separators=(",", ":")))

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
            async for raw in link.messages():
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
                        await link.close(1011, "channel crashed")
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
            stats.closed_by_client = not stats.idle_closed
            await link.stop()
