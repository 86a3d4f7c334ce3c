"""Uhlive authentication: the OpenID-Connect token exchange (client credentials or a user's password).

Both Uhlive engines open their websocket with a short-lived access token
(valid about 5 minutes, and only for opening a connection). The token is
obtained by POSTing the client id and secret to the OIDC token endpoint
(``grant_type=client_credentials``), or, for accounts with a user and a
password, the client id, user name and password (``grant_type=password``),
or given ready-made by the user.

The form fields are built by the official SDK
(:func:`uhlive.auth.build_authentication_request`); only the URL is ours,
so that ``--auth-endpoint`` can point at a private deployment or a test
server. Secrets never reach a log message: errors quote the HTTP status and
the server's ``error``/``error_description`` fields only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from captioner.engines.base import Credentials, EngineFailure
from captioner.engines.wire.connect import REFUSED_HTTP, error_detail, http_verdict
from uhlive.auth import build_authentication_request

log = logging.getLogger(__name__)

DEFAULT_AUTH_ENDPOINT = "https://id.uh.live/realms/uhlive/protocol/openid-connect/token"
OAUTH_REFUSED = REFUSED_HTTP | {400}
"""Statuses of the token endpoint that mean "bad client credentials" (OAuth: ``invalid_client``, ``invalid_grant``)."""
AUTH_TIMEOUT = 15.0
"""Seconds allowed for the whole token request."""


def check_auth_endpoint(url: str) -> str:
    """``url`` if it is a usable http(s) URL, else ``ValueError`` with a plain message."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the Uhlive auth endpoint must be an http(s) URL, got {url!r}")
    return url


def _post_form(url: str, form: dict[str, str], timeout: float) -> tuple[int, bytes]:
    data = urllib.parse.urlencode(form).encode("ascii")
    req = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


async def fetch_token(
    client_id: str,
    client_secret: str,
    endpoint: str = DEFAULT_AUTH_ENDPOINT,
    *,
    username: str = "",
    password: str = "",
) -> str:
    """Exchange client credentials (or, with ``username``, a user's password) for an access token.

    Raises :class:`EngineFailure`: ``refused`` (not retryable) when the
    endpoint rejects the credentials (HTTP 400/401/403: an OAuth endpoint
    answers 400 ``invalid_client`` too), retryable for network trouble and when
    the server is busy or failing, final for any other status (a wrong endpoint),
    by the rule of :func:`captioner.engines.wire.connect.http_verdict`.
    """
    _sdk_url, form = build_authentication_request(client_id, client_secret, user_id=username, user_pwd=password)
    try:
        status, body = await asyncio.wait_for(
            asyncio.to_thread(_post_form, endpoint, form, AUTH_TIMEOUT), AUTH_TIMEOUT + 1.0
        )
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise EngineFailure(f"cannot reach the Uhlive auth server ({reason})", retryable=True) from None
    if status != 200:
        retryable, refused = http_verdict(status, OAUTH_REFUSED)
        if refused:
            detail = error_detail(body, plain_text=False)  # the OAuth error fields only, never the rest
            what, check = (
                ("the user name and password", "check the client id, user name and password")
                if username
                else ("the client credentials", "check the client id and secret")
            )
            raise EngineFailure(
                f"Uhlive refused {what} (HTTP {status}{': ' + detail if detail else ''}); {check}",
                retryable=False,
                refused=True,
                code=status,
            )
        raise EngineFailure(f"the Uhlive auth server answered HTTP {status}", retryable=retryable, code=status)
    try:
        data: Any = json.loads(body.decode("utf-8"))
        token = data["access_token"]
    except (ValueError, KeyError, TypeError):
        raise EngineFailure("the Uhlive auth server sent no access token", retryable=True) from None
    if not isinstance(token, str) or not token:
        raise EngineFailure("the Uhlive auth server sent an empty access token", retryable=True)
    log.debug("got a Uhlive access token (%d characters)", len(token))
    return token


async def access_token(credentials: Credentials, endpoint: str = DEFAULT_AUTH_ENDPOINT) -> str:
    """A token to open a socket: fetched with a user's password or the client credentials, else the ready token."""
    c = credentials
    if c.client_id and c.username and c.password:
        return await fetch_token(c.client_id, c.client_secret or "", endpoint, username=c.username, password=c.password)
    if c.client_id and c.client_secret:
        return await fetch_token(c.client_id, c.client_secret, endpoint)
    if c.token:
        return c.token
    raise EngineFailure(
        "no Uhlive credentials: give a client id and secret (or a user name and password), or an access token",
        retryable=False,
        refused=True,
    )


def token_client_id(token: str) -> str | None:
    """The client id (``azp`` / ``client_id`` claim) of a JWT access token, read without verification.

    Used only to name the Conversation topic when the user gave a ready token.
    """
    parts = token.split(".")
    if len(parts) < 2:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    if not isinstance(claims, dict):
        return None
    for key in ("azp", "client_id", "clientId"):
        value = claims.get(key)
        if isinstance(value, str) and value:
            return value
    return None
