"""AssemblyAI Universal-Streaming v3: what the client sends besides audio (sans-IO).

Owns the connection request and the JSON control messages:

* :func:`build_url` / :func:`query_params` / :func:`auth_headers` build the
  websocket upgrade request, :func:`token_url` the temporary-token request;
* :func:`redact` keeps tokens and keys out of anything logged or shown (the
  shared rule of :mod:`captioner.engines.wire.logging`, plus the credentials);
* :func:`update_configuration_message`, :data:`FORCE_ENDPOINT` and
  :data:`TERMINATE` are the client → server messages.

Protocol facts: ``docs/protocols/assemblyai-v3.md``.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit, urlunsplit

from captioner.engines.assemblyai.config import AssemblyAIConfig
from captioner.engines.assemblyai.models import ENGLISH_MODEL
from captioner.engines.base import Credentials
from captioner.engines.wire import logging as wire_logging

API_VERSION = "2025-05-12"


def query_params(config: AssemblyAIConfig, token: str | None = None) -> list[tuple[str, str]]:
    """The connection's query parameters, in order (booleans as ``true``/``false``).

    Only what the model takes (the model table) and what is set: the service's own defaults apply
    to the rest. ``language_detection`` is asked of every model that can report the language of a
    turn, so that a line can carry it.
    """
    takes = config.takes
    q: list[tuple[str, str]] = [
        ("sample_rate", str(config.sample_rate)),
        ("encoding", config.encoding),
        ("speech_model", config.speech_model),
    ]
    if takes("format_turns"):
        q.append(("format_turns", _bool(config.format_turns)))
    if config.keyterms:
        q.append(("keyterms_prompt", json.dumps(list(config.keyterms))))
    for key in ("min_turn_silence", "max_turn_silence", "max_speakers"):
        value = getattr(config, key)
        if value is not None:
            q.append((key, str(value)))
    for key in ("end_of_turn_confidence_threshold", "voice_focus_threshold"):
        number = getattr(config, key)
        if number is not None:
            q.append((key, repr(number)))
    if config.speaker_labels:
        q.append(("speaker_labels", "true"))
    for key in ("mode", "voice_focus"):
        text = getattr(config, key)
        if text is not None:
            q.append((key, text))
    if config.language is not None and takes("language_codes"):
        q.append(("language_codes", json.dumps([config.language])))
    if config.speech_model != ENGLISH_MODEL and takes("language_detection"):
        q.append(("language_detection", "true"))
    if token:
        q.append(("token", token))
    return q


def _bool(value: bool) -> str:
    return "true" if value else "false"


def build_url(config: AssemblyAIConfig, token: str | None = None) -> str:
    """The full connection URL. Contains the token when one is given: never log it (use :func:`redact`)."""
    return f"{config.url}?{urlencode(query_params(config, token))}"


def token_url(config: AssemblyAIConfig) -> str:
    """Where a one-time token comes from: the organisation's token service, else ``GET /v3/token`` on the
    same host as the websocket (http(s) for ws(s))."""
    if config.key_service:
        return config.key_service
    parts = urlsplit(config.url)
    scheme = "https" if parts.scheme == "wss" else "http"
    q = urlencode({"expires_in_seconds": config.token_expires_in})
    return urlunsplit((scheme, parts.netloc, "/v3/token", q, ""))


def redact(text: str, credentials: Credentials | None = None) -> str:
    """``text`` with any token query value or header secret, and the given credentials, replaced by ``***``."""
    return wire_logging.redact(text, credentials.secrets() if credentials is not None else ())


def auth_headers(credentials: Credentials, *, use_key: bool = True) -> list[tuple[str, str]]:
    """Headers of the upgrade request: the raw key in ``Authorization`` (no ``Bearer``)."""
    headers = [("AssemblyAI-Version", API_VERSION)]
    if use_key and credentials.api_key:
        headers.insert(0, ("Authorization", credentials.api_key))
    return headers


# -- client → server messages -----------------------------------------------------------------------


def update_configuration_message(fields: dict[str, object]) -> str:
    """An ``UpdateConfiguration`` carrying ``fields`` (see :meth:`AssemblyAIConfig.live_update`)."""
    return json.dumps({"type": "UpdateConfiguration", **fields})


FORCE_ENDPOINT = json.dumps({"type": "ForceEndpoint"})
TERMINATE = json.dumps({"type": "Terminate"})
