"""AssemblyAI Universal-Streaming v3: what a close code or HTTP status means (sans-IO).

Owns AssemblyAI's table of websocket close codes (:data:`CLOSE_RULES`) and
the two mappings the engine uses, built on the shared policy of
:mod:`captioner.engines.wire.connect`: :func:`failure_for_close` and
:func:`failure_for_http` (a rejected handshake or token request) →
:class:`~captioner.engines.base.EngineFailure` (message, ``retryable``,
``refused``); and :func:`redact_failure`, which keeps secrets out of it.

Protocol facts (the codes and what each means): ``docs/protocols/assemblyai-v3.md``.
"""

from __future__ import annotations

from captioner.engines.assemblyai.request import redact
from captioner.engines.base import Credentials, EngineFailure
from captioner.engines.wire.connect import CLIENT_BUG, CloseRule, close_failure, error_detail, http_failure

SERVICE = "AssemblyAI"
REJECTED_KEY = "AssemblyAI rejected the API key"

_CONCURRENT = CloseRule("AssemblyAI: too many concurrent sessions")
# A bad key or an account problem, except that the concurrency limit may use these codes too.
_REJECTED = CloseRule(REJECTED_KEY, retryable=False, refused=True, unless=(("concurrent", _CONCURRENT),))
CLOSE_RULES = {
    1008: _REJECTED,
    4001: _REJECTED,  # v2 codes the service may still use: not authorised,
    4002: _REJECTED,  # insufficient funds,
    4003: _REJECTED,  # a paid-only feature on a free account
    3009: _CONCURRENT,
    3008: CloseRule("AssemblyAI session expired"),  # the 3 h limit: a new session goes on
    3005: CloseRule("AssemblyAI server error"),
    3006: CLIENT_BUG,  # a bad text message (or, per the vendor, the inactivity timeout)
    3007: CLIENT_BUG,  # a frame outside 50–1000 ms, or audio faster than real time
    4105: CloseRule("AssemblyAI: model deprecated", retryable=False, refused=True),
}


def failure_for_close(code: int | None, reason: str = "", server_error: str | None = None) -> EngineFailure | None:
    """The failure a websocket close means (``None`` for a normal close after ``Termination``)."""
    if code == 1000:
        return None
    detail = (reason or "").strip() or (server_error or "")
    return close_failure(code, detail, service=SERVICE, rules=CLOSE_RULES)


def failure_for_http(status: int, body: str = "") -> EngineFailure:
    """The failure an HTTP rejection of the handshake (or of the token request) means."""
    return http_failure(status, service=SERVICE, rejected=REJECTED_KEY, detail=error_detail(body))


def redact_failure(failure: EngineFailure, credentials: Credentials | None) -> EngineFailure:
    """``failure`` with any token or secret in its message replaced by ``***``."""
    msg = redact(failure.message, credentials)
    return EngineFailure(msg, retryable=failure.retryable, refused=failure.refused, code=failure.code)
