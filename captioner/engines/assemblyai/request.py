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

from captioner.engines.assemblyai.config import ENGLISH_MODEL, LANGUAGE_CODES_MODELS, AssemblyAIConfig
from captioner.engines.base import Credentials
from captioner.engines.wire import logging as wire_logging

API_VERSION = "2025-05-12"


def query_params(config: AssemblyAIConfig, token: str | None = None) -> list[tuple[str, str]]:
    """The connection's query parameters, in order (booleans as ``true``/``false``)."""
    q: list[tuple[str, str]] = [
        ("sample_rate", str(config.sample_rate)),
        ("encoding", config.encoding),
        ("speech_model", config.speech_model),
        ("format_turns", "true" if config.format_turns else "false"),
    ]
    if config.keyterms:
        q.append(("keyterms_prompt", json.dumps(list(config.keyterms))))
    if config.min_turn_silence is not None:
        q.append(("min_turn_silence", str(config.min_turn_silence)))
    if config.max_turn_silence is not None:
        q.append(("max_turn_silence", str(config.max_turn_silence)))
    if config.end_of_turn_confidence_threshold is not None:
        q.append(("end_of_turn_confidence_threshold", repr(config.end_of_turn_confidence_threshold)))
    if config.inactivity_timeout is not None:
        q.append(("inactivity_timeout", str(config.inactivity_timeout)))
    if config.language is not None and config.speech_model != ENGLISH_MODEL:
        if config.speech_model in LANGUAGE_CODES_MODELS:
            q.append(("language_codes", json.dumps([config.language])))
        else:
            q.append(("language_detection", "true"))
    if token:
        q.append(("token", token))
    return q


def build_url(config: AssemblyAIConfig, token: str | None = None) -> str:
    """The full connection URL. Contains the token when one is given: never log it (use :func:`redact`)."""
    return f"{config.url}?{urlencode(query_params(config, token))}"


def token_url(config: AssemblyAIConfig) -> str:
    """``GET /v3/token`` URL on the same host (http(s) for ws(s))."""
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


def update_configuration_message(config: AssemblyAIConfig) -> str:
    return json.dumps({"type": "UpdateConfiguration", **config.session_fields()})


FORCE_ENDPOINT = json.dumps({"type": "ForceEndpoint"})
TERMINATE = json.dumps({"type": "Terminate"})
