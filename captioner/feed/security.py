"""Who may read the caption feed: the address it listens on, the access token, the checks of each request.

The feed listens on loopback (``127.0.0.1``) unless the user picks another address; bound beyond loopback
every request must carry the random access token (``?token=`` in the URL, or ``Authorization: Bearer``),
compared in constant time. On loopback the ``Host`` header must name a loopback address, so that a web page
whose domain is re-pointed at 127.0.0.1 (DNS rebinding) is refused. A WebSocket upgrade must come from the
feed's own pages (``Origin`` equal to ``http://`` + the ``Host`` it asked), from an OBS browser source's
"Local file" page (CEF serves those at ``http://absolute/<path>``, so they send ``Origin: http://absolute``)
or from a program that is not a browser (no ``Origin`` at all; browsers always send one on a WebSocket
upgrade). ``Origin: null`` (sandboxed frames of any web site, ``file://`` pages) is refused. :class:`Limits`
bounds the clients, what they may send and how far behind they may fall.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from captioner import secrets as secret_store

DEFAULT_PORT = 8765
OBS_LOCAL_FILE_ORIGIN = "http://absolute"
"""The origin of a page an OBS browser source loads with "Local file" (its CEF scheme handler)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """What the feed allows; a client beyond a limit is refused or disconnected, captioning never waits."""

    max_clients: int = 32
    max_message_bytes: int = 4096
    """The largest message a client may send (clients have nothing to say: larger ones close the connection)."""
    queue_messages: int = 512
    """A client this many messages behind (it does not read, or reads too slowly) is disconnected."""
    history: int = 50
    """Committed lines replayed to a client that joins, unless it asks for another number."""
    max_history: int = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Address:
    """Where the feed listens."""

    host: str
    port: int

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def url_host(self) -> str:
        """The host as a URL writes it; for a wildcard address, the loopback address (valid on this machine)."""
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        return f"[{host}]" if ":" in host else host

    @property
    def wildcard(self) -> bool:
        """Listening on every address of the machine (``0.0.0.0``, ``::``)."""
        return self.host in ("0.0.0.0", "::", "")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, without brackets) is this machine's loopback."""
    name = host.strip().strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def parse_address(text: str, *, default_host: str = "127.0.0.1") -> Address:
    """``[HOST:]PORT`` (``8765``, ``0.0.0.0:8765``, ``[::1]:8765``) as an :class:`Address`.

    Raises ``ValueError`` with a message for the user.
    """
    value = text.strip()
    host, port_text = default_host, value
    if value.startswith("["):
        inner, sep, rest = value[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise ValueError(f"expected [IPv6]:PORT, got {text!r}")
        host, port_text = inner, rest[1:]
    elif ":" in value:
        host, _, port_text = value.rpartition(":")
        if ":" in host:
            raise ValueError(f"write an IPv6 address in brackets, e.g. [::1]:{DEFAULT_PORT}; got {text!r}")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"expected [HOST:]PORT with a port from 0 to 65535, got {text!r}")
    if not host or any(c.isspace() or c in "/?#@" for c in host):
        raise ValueError(f"not a host name or address: {host!r}")
    return Address(host=host, port=int(port_text))


def new_token() -> str:
    """A random access token (URL-safe, 192 bits)."""
    return secrets.token_urlsafe(24)


TOKEN_ACCOUNT = ("feed", "token")
"""Where the desktop app keeps its access token in the keyring (so that a shared link keeps working)."""


def kept_token() -> tuple[str, bool]:
    """The desktop app's access token: the one in the keyring, else a new one stored there.

    Returns the token and whether it is kept: without a keyring it is new each time the app starts.
    """
    token = secret_store.load(*TOKEN_ACCOUNT)
    if token:
        return token, True
    token = new_token()
    try:
        secret_store.store(*TOKEN_ACCOUNT, token)
    except secret_store.SecretStoreError:
        return token, False
    return token, True


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """Why a request is refused: an HTTP status and one line for the client."""

    status: int
    reason: str


def _host_part(host_header: str) -> str:
    value = host_header.strip()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rpartition(":")[0] if value.count(":") == 1 else value


def request_token(target: str, headers: Mapping[str, str]) -> str | None:
    """The token a request carries: ``?token=`` in its target, else ``Authorization: Bearer``."""
    values = parse_qs(urlsplit(target).query).get("token")
    if values:
        return values[0]
    auth = headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class Guard:
    """Checks every request against the address, the token and (for WebSocket upgrades) the origin."""

    def __init__(self, address: Address, token: str | None) -> None:
        if not address.loopback and not token:
            raise ValueError("a feed bound beyond loopback needs an access token")
        self.address = address
        self.token = token

    def check(self, target: str, headers: Mapping[str, str], *, upgrade: bool) -> Refusal | None:
        """``None`` when the request may go on, else why not."""
        host = headers.get("Host")
        if not host:
            return Refusal(status=400, reason="missing Host header")
        if self.address.loopback and not is_loopback(_host_part(host)):
            return Refusal(status=403, reason="this feed answers only at a loopback address")
        if self.token is not None:
            given = request_token(target, headers)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return Refusal(status=401, reason="this feed needs its access token (the link the app shows)")
        if upgrade and not self.origin_allowed(headers.get("Origin"), host):
            return Refusal(status=403, reason="WebSocket connections from this origin are not allowed")
        return None

    def origin_allowed(self, origin: str | None, host: str) -> bool:
        if origin is None:
            return True  # not a browser: browsers always send an Origin on a WebSocket upgrade
        value = origin.strip().lower()
        return value in (OBS_LOCAL_FILE_ORIGIN, f"http://{host.strip().lower()}")
