"""AssemblyAI Universal-Streaming v3: what a close code or HTTP status means (sans-IO).

Owns the mapping from websocket close codes (:func:`failure_for_close`) and
HTTP rejections of the handshake or token request (:func:`failure_for_http`)
to :class:`~captioner.engines.base.EngineFailure` (message, ``retryable``,
``refused``), and :func:`redact_failure`, which keeps secrets out of it.

Protocol facts: ``../shared/protocols/README.md`` §A.2.
"""

from __future__ import annotations

import json
import logging

from captioner.engines.assemblyai.request import redact
from captioner.engines.base import Credentials, EngineFailure

log = logging.getLogger(__name__)

REJECTED_KEY = "AssemblyAI rejected the API key"


def failure_for_close(code: int | None, reason: str = "", server_error: str | None = None) -> EngineFailure | None:
    """The failure a websocket close means (``None`` for a normal close after ``Termination``)."""
    reason = (reason or "").strip()
    detail = reason or (server_error or "")
    suffix = f": {detail}" if detail else ""
    if code == 1000:
        return None
    if code == 1008 or code in (4001, 4002, 4003):
        if "concurrent" in detail.lower():
            return EngineFailure(f"AssemblyAI: too many concurrent sessions{suffix}", retryable=True, code=code)
        return EngineFailure(f"{REJECTED_KEY}{suffix}", retryable=False, refused=True, code=code)
    if code == 3009:
        return EngineFailure(f"AssemblyAI: too many concurrent sessions{suffix}", retryable=True, code=code)
    if code == 3008:
        return EngineFailure(f"AssemblyAI session expired{suffix}", retryable=True, code=code)
    if code in (3006, 3007, 1009):
        # The service says we sent something wrong: a bug in Captioner. Retrying starts a fresh session.
        log.error("AssemblyAI closed the session because of a client bug (code %s)%s", code, suffix)
        return EngineFailure(
            f"AssemblyAI refused what Captioner sent (code {code}, a Captioner bug; please report it){suffix}",
            retryable=True,
            code=code,
        )
    if code == 3005:
        return EngineFailure(f"AssemblyAI server error{suffix}", retryable=True, code=code)
    if code == 4105:
        return EngineFailure(f"AssemblyAI: model deprecated{suffix}", retryable=False, refused=True, code=code)
    if code is None or code == 1006:
        return EngineFailure("connection to AssemblyAI lost", retryable=True, code=1006)
    return EngineFailure(f"AssemblyAI closed the connection (code {code}){suffix}", retryable=True, code=code)


def failure_for_http(status: int, body: str = "") -> EngineFailure:
    """The failure an HTTP rejection of the handshake (or of the token request) means."""
    detail = ""
    try:
        parsed = json.loads(body) if body else None
        if isinstance(parsed, dict) and parsed.get("error"):
            detail = str(parsed["error"])
    except ValueError:
        detail = body.strip()[:200]
    suffix = f": {detail}" if detail else f" (HTTP {status})"
    if status in (401, 403):
        return EngineFailure(f"{REJECTED_KEY}{suffix}", retryable=False, refused=True, code=status)
    if status == 429 or status >= 500:
        return EngineFailure(f"AssemblyAI is busy or failing (HTTP {status}){suffix}", retryable=True, code=status)
    return EngineFailure(f"AssemblyAI refused the connection (HTTP {status}){suffix}", retryable=False, code=status)


def redact_failure(failure: EngineFailure, credentials: Credentials | None) -> EngineFailure:
    """``failure`` with any token or secret in its message replaced by ``***``."""
    msg = redact(failure.message, credentials)
    return EngineFailure(msg, retryable=failure.retryable, refused=failure.refused, code=failure.code)
