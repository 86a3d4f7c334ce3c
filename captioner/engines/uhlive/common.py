"""What the two Uhlive engines share: languages, endpoints, framing, pacing, connecting.

Both APIs take 8 kHz PCM16 mono (``linear`` codec); audio goes out in binary
frames of :data:`FRAME_MS` and never faster than real time (also when the
session replays buffered audio after a reconnect).
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from typing import NamedTuple

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from captioner.audio.base import AudioChunk
from captioner.engines.base import Capabilities, EngineFailure, EngineOptions, OptionSpec
from captioner.engines.uhlive.auth import DEFAULT_AUTH_ENDPOINT, check_auth_endpoint

AUTH_ENDPOINT_OPTION = OptionSpec(
    "auth_endpoint",
    "Token endpoint",
    "text",
    default=DEFAULT_AUTH_ENDPOINT,
    pattern=r"https?://[^\s/]+\S*",
    pattern_hint="an http:// or https:// URL",
    help="Where the client id and secret are exchanged for an access token. "
    "Change it only for a private Uhlive deployment or a test server.",
)
"""The token endpoint, an advanced option of both Uhlive engines (``--auth-endpoint`` in the CLI)."""

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
BYTES_PER_SECOND = SAMPLE_RATE * 2
FRAME_MS = 100
FRAME_BYTES = BYTES_PER_SECOND * FRAME_MS // 1000
DEFAULT_API_URL = "wss://api.uh.live"
PING_INTERVAL = 15.0
"""Websocket pings keep the connection alive through silences (the server drops it after 60 s idle)."""

LANGUAGES = ("fr", "en", "es", "de")
DEFAULT_LANGUAGE = "fr"
DEFAULT_COUNTRY = {"fr": "fr", "en": "us", "es": "es", "de": "de"}

AVAILABLE = "ready; needs Uhlive client credentials (UHLIVE_CLIENT_ID and UHLIVE_CLIENT_SECRET, or the keyring)"
NO_WORD_BOOST_NOTE = "Uhlive has no vocabulary boosting: its APIs offer no word boost or custom vocabulary"

# websockets logs request lines and headers at DEBUG level, which would include the access
# token (query string for Conversation, Authorization header for H2B). Its loggers get their
# own level so that `captioner -vv` never prints a token.
_WS_LOGGER = logging.getLogger("captioner.engines.uhlive.websocket")
_WS_LOGGER.setLevel(logging.INFO)


def split_language(language: str | None) -> tuple[str, str]:
    """``(language, country)`` for a code like ``fr``, ``en-GB`` or ``fr_CA``; ``ValueError`` if not offered."""
    code = (language or DEFAULT_LANGUAGE).strip().replace("_", "-")
    lang, _, region = code.partition("-")
    lang = lang.lower()
    if lang not in LANGUAGES:
        raise ValueError(f"Uhlive does not offer language {code!r}; choose one of {', '.join(LANGUAGES)}")
    return lang, (region.lower() if region else DEFAULT_COUNTRY[lang])


def api_base(options: EngineOptions) -> str:
    """The websocket server (``ws(s)://host[:port][/prefix]``), checked; ``ValueError`` if unusable."""
    url = (options.endpoint or DEFAULT_API_URL).strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise ValueError(f"the Uhlive endpoint must be a ws:// or wss:// URL, got {url!r}")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def auth_endpoint(options: EngineOptions) -> str:
    return check_auth_endpoint(options.extra.get("auth_endpoint") or DEFAULT_AUTH_ENDPOINT)


def int_option(extra: Mapping[str, str], key: str, default: int, lo: int, hi: int) -> int:
    """An integer engine option from ``--option KEY=VALUE``; ``ValueError`` with a plain message."""
    raw = extra.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"option {key} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ValueError(f"option {key} must be between {lo} and {hi}, got {value}")
    return value


def word_boost_warnings(caps: Capabilities, options: EngineOptions) -> list[str]:
    terms = [t for t in options.word_boost if t.strip()]
    if not terms:
        return []
    return [f"{NO_WORD_BOOST_NOTE}; {len(terms)} word boost term(s) ignored: {', '.join(terms)}"]


class Frame(NamedTuple):
    """One audio frame and where its audio sits on the source timeline."""

    start: float
    pcm: bytes
    segments: tuple[tuple[float, float], ...]
    """``(source start, seconds)`` of each contiguous piece (several when the frame spans skipped audio)."""


class Framer:
    """Re-cuts incoming chunks into frames of exactly ``FRAME_BYTES`` (the last one may be shorter).

    Keeps the source time of every piece it holds, so each frame knows where its
    audio came from, also across pauses the session skipped to catch up.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._segments: list[tuple[float, int]] = []  # (source start, bytes)

    def push(self, chunk: AudioChunk) -> list[Frame]:
        if chunk.sample_rate != SAMPLE_RATE:
            raise EngineFailure(f"Uhlive needs {SAMPLE_RATE} Hz audio, got {chunk.sample_rate} Hz", retryable=False)
        if chunk.pcm:
            self._buf.extend(chunk.pcm)
            self._segments.append((chunk.start, len(chunk.pcm)))
        frames = []
        while len(self._buf) >= FRAME_BYTES:
            frames.append(self._take(FRAME_BYTES))
        return frames

    def flush(self) -> list[Frame]:
        n = len(self._buf) // 2 * 2
        if not n:
            self._buf.clear()
            self._segments.clear()
            return []
        frame = self._take(n)
        self._buf.clear()
        self._segments.clear()
        return [frame]

    def _take(self, n: int) -> Frame:
        pcm = bytes(self._buf[:n])
        del self._buf[:n]
        segments: list[tuple[float, float]] = []
        need = n
        while need > 0 and self._segments:
            start, size = self._segments[0]
            take = min(size, need)
            segments.append((start, take / BYTES_PER_SECOND))
            need -= take
            if take < size:
                self._segments[0] = (start + take / BYTES_PER_SECOND, size - take)
            else:
                self._segments.pop(0)
        return Frame(segments[0][0] if segments else 0.0, pcm, tuple(segments))


class Pacer:
    """Holds frames back so that audio never goes out faster than real time.

    A frame may leave as soon as the audio before it has "played"; after a
    stall (a live source that paused), the clock is re-anchored so that a
    burst never exceeds real time either.
    """

    def __init__(self, max_lead: float = 0.0, slack: float = 0.5) -> None:
        self._t0: float | None = None
        self.sent_seconds = 0.0
        self.max_lead = max_lead
        self.slack = slack

    async def wait(self) -> None:
        now = time.monotonic()
        if self._t0 is None:
            self._t0 = now
            return
        due = self._t0 + self.sent_seconds - self.max_lead
        if now < due:
            await asyncio.sleep(due - now)
        elif now - due > self.slack:
            self._t0 = now - self.sent_seconds + self.max_lead

    def sent(self, nbytes: int) -> None:
        self.sent_seconds += nbytes / BYTES_PER_SECOND


async def paced_frames(
    audio: AsyncIterator[AudioChunk], framer: Framer, pacer: Pacer | None = None
) -> AsyncIterator[Frame]:
    """The frames of ``audio``, released at real time at most."""
    pacer = pacer or Pacer()
    async for chunk in audio:
        for frame in framer.push(chunk):
            await pacer.wait()
            pacer.sent(len(frame.pcm))
            yield frame
    for frame in framer.flush():
        await pacer.wait()
        pacer.sent(len(frame.pcm))
        yield frame


async def open_socket(url: str, what: str, headers: Mapping[str, str] | None = None) -> ClientConnection:
    """Connect, mapping a refused handshake to a non-retryable refusal and the rest to retryable failures.

    ``url`` may hold a token: it is never put in a message or a log.
    """
    try:
        return await connect(
            url,
            additional_headers=dict(headers or {}),
            ping_interval=PING_INTERVAL,
            ping_timeout=PING_INTERVAL,
            open_timeout=15,
            close_timeout=5,
            max_size=2**22,
            logger=_WS_LOGGER,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise EngineFailure(
                f"{what} refused the connection (HTTP {status}): the credentials or token were not accepted",
                retryable=False,
                refused=True,
                code=status,
            ) from None
        raise EngineFailure(f"{what} refused the connection (HTTP {status})", retryable=True, code=status) from None
    except InvalidURI:
        raise EngineFailure(f"bad {what} endpoint URL", retryable=False) from None
    except (InvalidHandshake, OSError, TimeoutError) as exc:
        raise EngineFailure(f"cannot connect to {what} ({exc.__class__.__name__}: {exc})", retryable=True) from None


async def raise_sender_error(sender: asyncio.Task[None]) -> None:
    """If the audio sender failed (it closes the socket when it does), raise its error."""
    if not sender.done():
        await asyncio.wait({sender}, timeout=2.0)
    if sender.done() and not sender.cancelled():
        error = sender.exception()
        if error is not None:
            raise error


def closed_failure(exc: ConnectionClosed, what: str, when: str = "") -> EngineFailure:
    """A retryable failure describing an unexpected close of the connection to ``what``."""
    code = exc.rcvd.code if exc.rcvd is not None else 1006
    reason = exc.rcvd.reason if exc.rcvd is not None else ""
    text = f"{what} closed the connection{' ' + when if when else ''} (code {code}{': ' + reason if reason else ''})"
    return EngineFailure(text, retryable=True, code=code)
