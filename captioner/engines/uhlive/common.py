"""What the two Uhlive engines share: languages, endpoints, and their settings of the wire layer.

Owns the Uhlive facts both engines depend on: 8 kHz PCM16 mono (``linear``
codec) in binary frames of :data:`FRAME_MS`, never faster than real time by the
steady rule of :mod:`captioner.engines.wire.pacer` (also when the session
replays buffered audio after a reconnect); the languages and endpoints; the
socket settings (pings keep idle connections open) and the redacting logger.
Protocol facts: ``docs/protocols/uhlive.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
from collections.abc import AsyncIterator, Mapping

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from captioner.audio.base import AudioChunk
from captioner.captions.events import Notice
from captioner.engines.base import Capabilities, EngineFailure, EngineOptions
from captioner.engines.options import OptionSpec
from captioner.engines.uhlive.auth import DEFAULT_AUTH_ENDPOINT, check_auth_endpoint
from captioner.engines.wire.connect import SlowLink, SocketSettings, close_failure, open_websocket
from captioner.engines.wire.framer import Frame, Framer
from captioner.engines.wire.logging import websocket_logger
from captioner.engines.wire.pacer import Pacer, paced

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

OWNER = "Uhlive"
SAMPLE_RATE = 8000
BYTES_PER_SECOND = SAMPLE_RATE * 2
FRAME_MS = 100
FRAME_BYTES = BYTES_PER_SECOND * FRAME_MS // 1000
DEFAULT_API_URL = "wss://api.uh.live"
SOCKET = SocketSettings(open_timeout=15, close_timeout=5)
"""The default heartbeat (a ping every 5 s, :data:`~captioner.engines.wire.connect.HEARTBEAT`) notices a dead link
within 10 s and keeps the connection alive through silences (the server drops it after 60 s idle)."""

LANGUAGES = ("fr", "en", "es", "de")
DEFAULT_LANGUAGE = "fr"
DEFAULT_COUNTRY = {"fr": "fr", "en": "us", "es": "es", "de": "de"}

AVAILABLE = (
    "ready; needs Uhlive credentials: a client id and secret, or a client id, user name and password "
    "(the keyring, or UHLIVE_CLIENT_ID with UHLIVE_CLIENT_SECRET or UHLIVE_USERNAME and UHLIVE_PASSWORD)"
)
NO_WORD_BOOST_NOTE = "Uhlive has no vocabulary boosting: its APIs offer no word boost or custom vocabulary"

# The logger handed to websockets: its DEBUG lines hold the access token (the query string for
# Conversation, the Authorization header for H2B); the filter replaces it with ***.
_WS_LOG = websocket_logger("captioner.engines.uhlive.websocket")


def uhlive_capabilities(
    *, interim_results: bool, live_update: bool, silence_threshold: bool, notes: str
) -> Capabilities:
    """What both Uhlive engines share: 8 kHz, no word boost, four languages, credentials, audio at 1× only."""
    return Capabilities(
        sample_rate=SAMPLE_RATE,
        interim_results=interim_results,
        word_boost=False,
        live_update=live_update,
        silence_threshold=silence_threshold,
        languages=LANGUAGES,
        needs_credentials=True,
        realtime_input=True,
        notes=notes,
    )


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


def word_boost_warnings(caps: Capabilities, options: EngineOptions) -> list[str]:
    terms = [t for t in options.word_boost if t.strip()]
    if not terms:
        return []
    return [f"{NO_WORD_BOOST_NOTE}; {len(terms)} word boost term(s) ignored: {', '.join(terms)}"]


def framed(audio: AsyncIterator[AudioChunk], pacer: Pacer) -> AsyncIterator[Frame]:
    """The :data:`FRAME_MS` frames of ``audio`` (8 kHz PCM16), released by ``pacer`` (the steady rule)."""
    return paced(Framer(SAMPLE_RATE, FRAME_MS, service=OWNER).frames(audio), pacer)


async def open_socket(
    url: str,
    what: str,
    token: str,
    headers: Mapping[str, str] | None = None,
    *,
    settings: SocketSettings = SOCKET,
) -> ClientConnection:
    """Connect (see :func:`captioner.engines.wire.connect.open_websocket`); ``url`` and ``headers`` may hold ``token``.

    Messages and logs name the URL without its query, and never the token.
    """
    parts = urllib.parse.urlsplit(url)
    return await open_websocket(
        url,
        service=what,
        where=urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        rejected=f"{what} did not accept the credentials or token",
        logger=_WS_LOG,
        headers=list((headers or {}).items()),
        settings=settings,
        secrets=(token,),
    )


async def send_text(ws: ClientConnection, text: str | bytes, what: str) -> None:
    """Send a command or control message (or replayed audio); a closed connection raises the failure it means."""
    try:
        await ws.send(text)
    except ConnectionClosed as exc:
        raise closed_failure(exc, what) from None


@contextlib.asynccontextmanager
async def sending(ws: ClientConnection) -> AsyncIterator[None]:
    """Around an engine's audio sender task: a closed connection ends it quietly (the reader reports
    why); any other error closes the socket, which wakes the reader, which re-raises the sender's error."""
    try:
        yield
    except ConnectionClosed:
        return
    except BaseException:
        with contextlib.suppress(Exception):
            await ws.close(1011, "client error")
        raise


async def shut(ws: ClientConnection, sender: asyncio.Task[None] | None) -> None:
    """The end of a session, however it ends: stop the sender, close the socket."""
    if sender is not None and not sender.done():
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender
    with contextlib.suppress(Exception):
        await ws.close()


async def raise_sender_error(sender: asyncio.Task[None]) -> None:
    """If the audio sender failed (it closes the socket when it does), raise its error."""
    if not sender.done():
        await asyncio.wait({sender}, timeout=2.0)
    if sender.done() and not sender.cancelled():
        error = sender.exception()
        if error is not None:
            raise error


def slow_link_notice(slow_link: SlowLink, ws: ClientConnection, what: str, engine_id: str) -> Notice | None:
    """A notice, once, when the network is too slow for the audio (8 kHz PCM16: 16 kB/s, no cheaper codec used)."""
    message = slow_link.check(ws, service=what, needs=f"{BYTES_PER_SECOND // 1000} kB/s")
    return None if message is None else Notice(engine=engine_id, message=message)


def closed_failure(exc: ConnectionClosed, what: str, when: str = "") -> EngineFailure:
    """The failure an unexpected close of the connection to ``what`` means (Uhlive documents no close codes:
    every close is retried, by the shared rule of :func:`captioner.engines.wire.connect.close_failure`)."""
    code = exc.rcvd.code if exc.rcvd is not None else None
    reason = exc.rcvd.reason if exc.rcvd is not None else ""
    return close_failure(code, reason, service=what, when=when)
