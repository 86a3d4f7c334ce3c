"""AssemblyAI Universal-Streaming v3: what a close code or HTTP status means (sans-IO).

Owns AssemblyAI's table of websocket close codes (:data:`CLOSE_RULES`) and
the two mappings the engine uses, built on the shared policy of
:mod:`captioner.engines.wire.connect`: :func:`failure_for_close` and
:func:`failure_for_http` (a rejected handshake or token request) →
:class:`~captioner.engines.base.EngineFailure` (message, ``retryable``,
``refused``); the rule for a 1008 refusal (:func:`transient_refusal`,
:func:`refused_twice`); and :func:`redact_failure`, which keeps secrets out of it.

Protocol facts (the codes and what each means): ``docs/protocols/assemblyai-v3.md``.
"""

from __future__ import annotations

import dataclasses

from captioner.engines.assemblyai.request import redact
from captioner.engines.base import Credentials, EngineFailure
from captioner.engines.wire.connect import CLIENT_BUG, CloseRule, close_failure, error_detail, http_failure

SERVICE = "AssemblyAI"
REJECTED_KEY = "AssemblyAI rejected the API key"
BAD_KEY_REASON = "missing authorization header"
"""The only 1008 reason the vendor documents for a missing or invalid key: refused at once. Any other 1008
(an account problem, or a transient "Incorrect padding" that works on retry) is retried; the same
refusal twice in a row is then final (:func:`refused_twice`)."""

_CONCURRENT = CloseRule("AssemblyAI: too many concurrent sessions")
_INACTIVE = CloseRule("AssemblyAI ended the session after a time without audio (its inactivity timeout)")
_REFUSED_NOW = CloseRule(REJECTED_KEY, retryable=False, refused=True)
_REFUSAL = CloseRule(
    "AssemblyAI refused the connection", unless=(("concurrent", _CONCURRENT), (BAD_KEY_REASON, _REFUSED_NOW))
)
CLOSE_RULES = {
    1008: _REFUSAL,  # documented: a missing/invalid key, or an account problem (balance, disabled…)
    1011: CloseRule("AssemblyAI had an internal error while connecting"),
    1013: CloseRule("AssemblyAI is temporarily unable to take the session"),
    4001: _REFUSED_NOW,  # v2 codes the service may still use: not authorised,
    4002: CloseRule("AssemblyAI: the account has insufficient funds", retryable=False, refused=True),
    4003: CloseRule("AssemblyAI: this feature needs a paid account", retryable=False, refused=True),
    3009: _CONCURRENT,
    3008: CloseRule("AssemblyAI session expired"),  # the 3 h limit (or the token's): a new session goes on
    3005: CloseRule("AssemblyAI server error"),
    3006: dataclasses.replace(CLIENT_BUG, unless=(("inactiv", _INACTIVE),)),  # a bad text message, or idle
    3007: CLIENT_BUG,  # a frame outside 50–1000 ms, or audio faster than real time
    4105: CloseRule("AssemblyAI: model deprecated", retryable=False, refused=True),
}


def failure_for_close(code: int | None, reason: str = "", server_error: str | None = None) -> EngineFailure | None:
    """The failure a websocket close means (``None`` for a normal close after ``Termination``)."""
    if code == 1000:
        return None
    detail = (reason or "").strip() or (server_error or "")
    return close_failure(code, detail, service=SERVICE, rules=CLOSE_RULES)


def transient_refusal(failure: EngineFailure) -> bool:
    """A 1008 refusal that may be transient (retried once at once by the engine, see :func:`refused_twice`)."""
    return failure.code == 1008 and failure.retryable and "concurrent" not in failure.message


def refused_twice(failure: EngineFailure) -> EngineFailure:
    """The same 1008 refusal came twice in a row: final, worded by what the server said."""
    reason = failure.message.partition(": ")[2] or "no reason given"
    lowered = reason.lower().removeprefix("unauthorized connection:")
    if any(word in lowered for word in ("balance", "fund", "disabled", "account", "suspend")):
        text = "AssemblyAI refused the account"
    elif any(word in lowered for word in ("key", "token", "authorization")):
        text = REJECTED_KEY
    else:
        text = "AssemblyAI refused the connection twice"
    return EngineFailure(f"{text}: {reason}", retryable=False, refused=True, code=1008)


def failure_for_http(status: int, body: str = "") -> EngineFailure:
    """The failure an HTTP rejection of the handshake (or of the token request) means."""
    return http_failure(status, service=SERVICE, rejected=REJECTED_KEY, detail=error_detail(body))


def redact_failure(failure: EngineFailure, credentials: Credentials | None) -> EngineFailure:
    """``failure`` with any token or secret in its message replaced by ``***``."""
    msg = redact(failure.message, credentials)
    return EngineFailure(msg, retryable=failure.retryable, refused=failure.refused, code=failure.code)
