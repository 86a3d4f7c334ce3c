"""Keeping secrets out of logs: :func:`redact` and the filter on the websockets library's loggers.

Owns the one rule for what counts as a secret in a line of text (an
``Authorization`` header value, a ``bearer`` token, a ``token=`` / ``jwt=`` /
``access_token=`` query value, and any secret the caller names) and
:func:`websocket_logger`, the logger handed to ``websockets`` for a cloud
connection. ``websockets`` logs the request line and every header at DEBUG
level, so without the filter ``captioner -vv`` would print API keys (AssemblyAI:
``Authorization`` header) and access tokens (Uhlive: ``?jwt=`` for Conversation,
``Authorization: bearer`` for H2B). With it, those lines are still logged, with
the secret replaced by ``***``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"
_PATTERNS = (
    (re.compile(r"(?i)(authorization:\s*)\S.*"), r"\1" + MASK),
    (re.compile(r"(?i)(\bbearer\s+)[^\s'\",]+"), r"\1" + MASK),
    (re.compile(r"(?i)(\b(?:[a-z_]*token|jwt|api_key|client_secret)=)[^&\s]+"), r"\1" + MASK),
)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with header and query secrets, and each of ``secrets``, replaced by ``***``."""
    out = text
    for pattern, replacement in _PATTERNS:
        out = pattern.sub(replacement, out)
    for secret in secrets:
        if secret:
            out = out.replace(secret, MASK)
    return out


class RedactingFilter(logging.Filter):
    """Rewrites a record whose message (or traceback) holds a secret; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def websocket_logger(name: str) -> logging.Logger:
    """The logger ``name``, with a :class:`RedactingFilter` (added once): hand it to ``websockets``."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
