"""Opening a cloud websocket, and what a refusal or a close means: one policy for every vendor.

Owns :func:`open_websocket` (the upgrade request with our socket settings and
the redacting logger, handshake errors mapped to
:class:`~captioner.engines.base.EngineFailure`, an unreachable server worded
plainly by :func:`unreachable_reason`), the :class:`Heartbeat` that notices a
dead link within 10 s (:data:`HEARTBEAT`) and :class:`SlowLink`, which says when
the link is too slow for the audio, :func:`http_verdict` /
:func:`http_failure` (an HTTP status → retry or not), and :func:`close_failure`
(a websocket close code → a failure, through a per-vendor table of
:class:`CloseRule`).

The HTTP rule, the same for every service and for their token endpoints:
401/403 mean the credentials were refused (``refused``: not retried, CLI exit
3); 408, 425, 429 and 5xx mean busy or failing (retried with backoff); any
other status (400, 404, a redirect…) means the request itself is wrong, a bad
endpoint or parameter, which the same settings would repeat: not retried, so
the user sees the reason at once instead of an endless retry. An OAuth token
endpoint also answers 400 for bad client credentials, so it passes its own
``refused`` set.

Close codes are the vendors' own, except that no close frame (1006, or none)
always means a lost connection (retried) and 1009 means we sent too big a
message; a code a vendor's table does not list is retried.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import socket
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from captioner import __version__
from captioner.engines.base import EngineFailure
from captioner.engines.wire.logging import redact

log = logging.getLogger(__name__)

REFUSED_HTTP = frozenset({401, 403})
BUSY_HTTP = frozenset({408, 425, 429})
LOST = 1006
"""The close code of a connection that ended without a close frame (also used when there is no code)."""


def http_verdict(status: int, refused: Collection[int] = REFUSED_HTTP) -> tuple[bool, bool]:
    """``(retryable, refused)`` for an HTTP status that refused a request (see the module for the rule)."""
    if status in refused:
        return False, True
    return status in BUSY_HTTP or status >= 500, False


def http_failure(
    status: int, *, service: str, rejected: str, detail: str = "", refused: Collection[int] = REFUSED_HTTP
) -> EngineFailure:
    """The failure an HTTP refusal means; ``rejected`` is the message for refused credentials."""
    retryable, is_refused = http_verdict(status, refused)
    suffix = f": {detail}" if detail else ""
    if is_refused:
        message = f"{rejected}{suffix or f' (HTTP {status})'}"
    elif retryable:
        message = f"{service} is busy or failing (HTTP {status}){suffix}"
    else:
        message = f"{service} refused the connection (HTTP {status}){suffix}"
    return EngineFailure(message, retryable=retryable, refused=is_refused, code=status)


def error_detail(body: bytes | str, *, plain_text: bool = True) -> str:
    """The reason in an error response: JSON ``error`` (and ``error_description``), else the text itself.

    With ``plain_text=False`` a body that is not such JSON gives ``""`` (nothing else is echoed).
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        return text.strip()[:200] if plain_text else ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data[k]) for k in ("error", "error_description") if isinstance(data.get(k), str) and data[k]]
    return ": ".join(parts)[:200]


@dataclass(frozen=True, slots=True)
class CloseRule:
    """What one close code of a vendor means. ``text`` may name ``{code}``; the close reason is appended."""

    text: str
    retryable: bool = True
    refused: bool = False
    client_bug: bool = False
    """The service says we sent something wrong: logged as an error (retrying starts a fresh session)."""
    unless: tuple[tuple[str, CloseRule], ...] = ()
    """``(word, rule)``: when the close reason contains ``word``, that rule applies instead."""


CLIENT_BUG = CloseRule(
    "{service} refused what Captioner sent (code {code}, a Captioner bug; please report it)", client_bug=True
)
COMMON_CLOSE_RULES: Mapping[int, CloseRule] = {1009: CLIENT_BUG}


def close_failure(
    code: int | None, detail: str = "", *, service: str, rules: Mapping[int, CloseRule] | None = None, when: str = ""
) -> EngineFailure:
    """The failure an unexpected close means. ``detail``: the close reason (or the server's last error)."""
    detail = detail.strip()
    suffix = f": {detail}" if detail else ""
    during = f" {when}" if when else ""
    if code is None or code == LOST:
        return EngineFailure(f"connection to {service} lost{during}", retryable=True, code=LOST)
    rule = (rules or {}).get(code) or COMMON_CLOSE_RULES.get(code)
    for word, other in rule.unless if rule is not None else ():
        if word in detail.lower():
            rule = other
    if rule is None:
        return EngineFailure(
            f"{service} closed the connection{during} (code {code}){suffix}", retryable=True, code=code
        )
    if rule.client_bug:
        log.error("%s closed the session because of a client bug (code %s)%s", service, code, suffix)
    text = rule.text.format(service=service, code=code)
    return EngineFailure(f"{text}{suffix}", retryable=rule.retryable, refused=rule.refused, code=code)


HEARTBEAT = 5.0
"""Seconds between websocket pings, and the wait for each pong: a dead link is noticed within 10 s.

A healthy link answers a ping within one round trip (well under a second, also with 500 ms of delay each way or a
link barely faster than the audio), so 5 s never cuts a working connection, and a stall costs at most 10 s of
captions (they are replayed after the reconnect) instead of the 40 s the websockets default (20 + 20) would."""


class Heartbeat(ClientConnection):
    """A client connection whose heartbeat also notices a dead link while audio is queued for it.

    The websockets keepalive times out only the wait for a pong; sending the ping waits first for the send
    buffer to drain, which over a stalled link (no FIN, no RST) never happens while audio keeps coming, so
    the stall went unnoticed. Here the whole ping (sending it, then its pong) must finish within
    ``ping_timeout``, else the socket is aborted: the reader sees the connection lost (1006) at once.
    """

    async def keepalive(self) -> None:
        assert self.ping_interval is not None
        while True:
            await asyncio.sleep(self.ping_interval)
            try:
                async with asyncio.timeout(self.ping_timeout):
                    pong = await self.ping()
                    await pong
            except TimeoutError:
                log.warning("no answer to a websocket ping within %.1f s: the link is dead; closing", self.ping_timeout)
                self.transport.abort()
                return
            except ConnectionClosed:
                return


SLOW_LINK = 2.0
"""A heartbeat round trip longer than this (s) means the audio reaches the service that late: the user is told."""


class SlowLink:
    """Says once when the network is too slow for the audio: nothing fails then, the socket's buffers fill and the
    captions come later and later. The heartbeat's ping waits behind the audio in those buffers, so its round
    trip (``ws.latency``) is how late the audio reaches the service."""

    def __init__(self, after: float = SLOW_LINK) -> None:
        self.after = after
        self.told = False

    def check(self, ws: object, *, service: str, needs: str, remedy: str = "") -> str | None:
        """The message to show, the first time the round trip on ``ws`` passes :attr:`after`; else ``None``.
        ``needs``: the bandwidth the audio needs ("32 kB/s")."""
        latency = getattr(ws, "latency", 0.0)
        if self.told or not isinstance(latency, int | float) or latency <= self.after:
            return None
        self.told = True
        return (
            f"the network is slow: audio takes {latency:.1f} s to reach {service}, so captions come late. "
            f"The audio needs {needs}{remedy}"
        )


def unreachable_reason(exc: OSError | TimeoutError) -> str:
    """Why a server could not be reached, in plain words: the name not found, the connection refused…

    asyncio words a refused connection "Connect call failed ('127.0.0.1', 9)": the system's own text for the
    error number says it plainly ("Connection refused")."""
    if isinstance(exc, socket.gaierror):
        return "its name could not be looked up (no network, or a wrong address)"
    if isinstance(exc, TimeoutError) or exc.errno == errno.ETIMEDOUT:
        return "no answer in time"
    if exc.errno:
        return os.strerror(exc.errno)
    return exc.strerror or str(exc) or "unknown network error"


@dataclass(frozen=True, slots=True, kw_only=True)
class SocketSettings:
    """How a websocket to a vendor is kept: timeouts (s) and the heartbeat.

    The heartbeat is a websocket ping every ``ping_interval``; a pong not back within ``ping_timeout`` means
    the link is dead (a stall with no FIN or RST, which TCP alone would not notice for many minutes): the
    connection is closed and reported lost, so the session reconnects. Pings also keep idle connections open.
    """

    open_timeout: float = 10.0
    ping_interval: float = HEARTBEAT
    ping_timeout: float = HEARTBEAT
    close_timeout: float = 2.0
    max_size: int = 2**22

    @property
    def stall_noticed_within(self) -> float:
        """The longest a dead link can go unnoticed: a ping just missed, then its pong awaited."""
        return self.ping_interval + self.ping_timeout


DEFAULT_SOCKET = SocketSettings()


async def open_websocket(
    url: str,
    *,
    service: str,
    where: str,
    rejected: str,
    logger: logging.Logger,
    headers: Sequence[tuple[str, str]] = (),
    settings: SocketSettings = DEFAULT_SOCKET,
    secrets: Iterable[str | None] = (),
) -> ClientConnection:
    """Connect to ``url``; any failure is an :class:`EngineFailure` (messages name ``where``, never ``url``).

    ``url`` and ``headers`` may hold secrets: every message goes through
    :func:`~captioner.engines.wire.logging.redact` with ``secrets``, and
    ``logger`` should come from :func:`~captioner.engines.wire.logging.websocket_logger`.
    """
    hidden = tuple(s for s in secrets if s)
    try:
        return await connect(
            url,
            additional_headers=list(headers),
            user_agent_header=f"Captioner/{__version__}",
            open_timeout=settings.open_timeout,
            compression=None,
            max_size=settings.max_size,
            ping_interval=settings.ping_interval,
            ping_timeout=settings.ping_timeout,
            close_timeout=settings.close_timeout,
            logger=logger,
            create_connection=Heartbeat,
        )
    except InvalidStatus as exc:
        resp = exc.response
        detail = redact(error_detail(bytes(resp.body or b"")), hidden)
        raise http_failure(resp.status_code, service=service, rejected=rejected, detail=detail) from None
    except InvalidURI:
        raise EngineFailure(f"bad {service} endpoint: {where}", retryable=False) from None
    except (InvalidHandshake, ConnectionClosed) as exc:
        raise EngineFailure(
            f"{service} handshake failed: {redact(str(exc), hidden)}", retryable=True, code=LOST
        ) from None
    except (OSError, TimeoutError) as exc:
        reason = unreachable_reason(exc)
        raise EngineFailure(
            f"cannot reach {service} at {where}: {redact(reason, hidden)}", retryable=True, code=LOST
        ) from None
