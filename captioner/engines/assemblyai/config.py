"""AssemblyAI Universal-Streaming v3: the engine's options, parsed and validated (sans-IO).

Owns what a user's options become for one connection: the engine's :data:`CAPABILITIES`,
:func:`parse_config` (:class:`~captioner.engines.base.EngineOptions` → an
:class:`AssemblyAIConfig`, raising ``ValueError`` with a plain message for bad values, and
warning about values the chosen model does not take), :meth:`AssemblyAIConfig.live_update`
(what an ``UpdateConfiguration`` may carry) and :func:`normalize_endpoint` (URL, host or region
→ websocket URL).

The options themselves are :mod:`captioner.engines.assemblyai.settings`; which model takes
what is the one table of :mod:`captioner.engines.assemblyai.models`. Protocol facts:
``docs/protocols/assemblyai-v3.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from captioner.engines.assemblyai.models import (
    ENGLISH_MODEL,
    SIX,
    U3_5_LANGUAGES,
    Family,
    model,
    model_for_language,
    silence_mapping,
)
from captioner.engines.assemblyai.settings import (
    DEFAULT_CHUNK_MS,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_ROLLOVER_WARMUP,
    DEFAULT_TERMINATE_TIMEOUT,
    DEFAULT_TOKEN_EXPIRES_IN,
    OPTIONS,
    RETIRED,
)
from captioner.engines.base import Capabilities, EngineOptions, WordBoostLimits

ENGINE_ID = "assemblyai"
DEFAULT_HOST = "streaming.assemblyai.com"
REGION_HOSTS = {"eu": "streaming.eu.assemblyai.com", "us": "streaming.us.assemblyai.com"}
DEFAULT_URL = f"wss://{DEFAULT_HOST}/v3/ws"
SAMPLE_RATE = 16_000
MAX_SESSION_SECONDS = 3 * 3600
OWNER = "AssemblyAI"
KNOWN_EXTRA = (*OPTIONS, "auth_endpoint")
_T = TypeVar("_T")


CAPABILITIES = Capabilities(
    sample_rate=SAMPLE_RATE,
    interim_results=True,
    word_boost=True,
    live_update=True,
    silence_threshold=True,
    word_boost_limits=WordBoostLimits(max_terms=100, max_term_chars=50),  # keyterms_prompt limits
    languages=tuple(sorted(set(SIX) | set(U3_5_LANGUAGES))),
    needs_credentials=True,
    realtime_input=True,
    notes=(
        "English by default; es, fr, de, it, pt use the multilingual model, 12 more languages "
        "Universal-3.5 Pro, about 100 others speech_model=whisper-rt (which takes no word boost)"
    ),
)
"""What the engine can do (the settings panel and the CLI read it as ``AssemblyAIEngine.capabilities``)."""


@dataclass(frozen=True, slots=True)
class AssemblyAIConfig:
    """Everything that shapes one v3 connection, parsed and validated."""

    url: str = DEFAULT_URL
    """Base websocket URL (no query), e.g. ``wss://streaming.assemblyai.com/v3/ws``."""
    sample_rate: int = SAMPLE_RATE
    encoding: str = "pcm_s16le"
    speech_model: str = ENGLISH_MODEL
    language: str | None = None
    format_turns: bool = True
    finals_only: bool = False
    chunk_ms: int = DEFAULT_CHUNK_MS
    keyterms: tuple[str, ...] = ()
    min_turn_silence: int | None = None
    max_turn_silence: int | None = None
    end_of_turn_confidence_threshold: float | None = None
    speaker_labels: bool = False
    max_speakers: int | None = None
    mode: str | None = None
    voice_focus: str | None = None
    voice_focus_threshold: float | None = None
    token_mode: bool = False
    """Fetch a temporary token with the API key (``GET /v3/token``) for each connection."""
    key_service: str | None = None
    """An organisation's token service: a one-time token for each connection, no API key here."""
    token_expires_in: int = DEFAULT_TOKEN_EXPIRES_IN
    rollover_seconds: float | None = None
    """Open the next connection this long after a session began (default: before its expiry)."""
    rollover_warmup: float = DEFAULT_ROLLOVER_WARMUP
    """With speaker labels: seconds the next session hears the audio too before the handover."""
    terminate_timeout: float = DEFAULT_TERMINATE_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    warnings: tuple[str, ...] = ()

    @property
    def family(self) -> Family:
        """The model family of :attr:`speech_model` (from the one model table)."""
        return model(self.speech_model).family

    def takes(self, param: str) -> bool:
        return self.family.takes(param)

    def turn_silence(self) -> tuple[int | None, int | None]:
        """``(min_turn_silence, max_turn_silence)`` in effect: as set, else the family's documented default."""
        defaults = self.family.turn_silence or (None, None)
        lo = self.min_turn_silence if self.min_turn_silence is not None else defaults[0]
        hi = self.max_turn_silence if self.max_turn_silence is not None else defaults[1]
        return lo, hi

    def endpoint_ms(self) -> int:
        """Silence (ms) after which a turn always ends: ``max_turn_silence``, else the family's."""
        hi = self.turn_silence()[1]
        return hi if hi is not None else self.family.endpoint_ms

    def live_update(self, old: AssemblyAIConfig) -> dict[str, object] | None:
        """The fields of an ``UpdateConfiguration`` that turns ``old`` into this one; ``None`` when the change
        needs a new session (another model or endpoint…, or a setting cleared that the service cannot restore)."""
        if self.live_key() != old.live_key():
            return None
        live = self.family.live
        fields: dict[str, object] = {}
        if self.keyterms != old.keyterms:
            if "keyterms_prompt" not in live:
                return None
            fields["keyterms_prompt"] = list(self.keyterms)
        for key in ("min_turn_silence", "max_turn_silence", "end_of_turn_confidence_threshold"):
            new, before = getattr(self, key), getattr(old, key)
            if new == before:
                continue
            if key not in live:
                return None
            if new is None:
                default = self._default(key)
                if default is None:
                    return None  # the service's own default cannot be sent back: reconnect without it
                new = default
            fields[key] = new
        return fields

    def _default(self, key: str) -> float | int | None:
        if key == "end_of_turn_confidence_threshold":
            return 0.4 if self.family.takes(key) else None
        silence = self.family.turn_silence
        if silence is None:
            return None
        return silence[0] if key == "min_turn_silence" else silence[1]

    def live_key(self) -> tuple[object, ...]:
        """What must be equal for an options change to be applied without reconnecting."""
        return (
            self.url,
            self.sample_rate,
            self.encoding,
            self.speech_model,
            self.language,
            self.format_turns,
            self.finals_only,
            self.chunk_ms,
            self.speaker_labels,
            self.max_speakers,
            self.mode,
            self.voice_focus,
            self.voice_focus_threshold,
            self.token_mode,
            self.key_service,
        )


def normalize_endpoint(endpoint: str | None) -> str:
    """The websocket URL for ``endpoint``: a URL, a bare host, ``eu``/``us``, or ``None`` (default)."""
    if endpoint is None or not endpoint.strip():
        return DEFAULT_URL
    ep = endpoint.strip()
    if ep.lower() in REGION_HOSTS:
        return f"wss://{REGION_HOSTS[ep.lower()]}/v3/ws"
    if "://" not in ep:
        ep = "wss://" + ep
    parts = urlsplit(ep)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in ("ws", "wss"):
        raise ValueError(f"AssemblyAI endpoint must be a ws:// or wss:// URL or a host name, got {endpoint!r}")
    host = parts.hostname or ""
    if not host or not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", parts.netloc.rsplit("@", 1)[-1]):
        raise ValueError(f"AssemblyAI endpoint has no valid host: {endpoint!r}")
    try:
        _ = parts.port
    except ValueError:
        raise ValueError(f"AssemblyAI endpoint has an invalid port: {endpoint!r}") from None
    path = parts.path.rstrip("/")
    if not path:
        path = "/v3/ws"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def parse_config(options: EngineOptions, keyterms: tuple[str, ...] | None = None) -> AssemblyAIConfig:
    """Validate ``options`` into a config. Raises ``ValueError`` with a user-facing message.

    Values the chosen model does not take (per the model table) are left out, with a warning.
    """
    extra = {str(k): str(v) for k, v in options.extra.items()}
    warnings = [RETIRED[k] for k in extra if k in RETIRED]
    unknown = [k for k in extra if k not in KNOWN_EXTRA and k not in RETIRED]
    if unknown:
        warnings.append(f"unknown AssemblyAI option(s) ignored: {', '.join(sorted(unknown))}")
    language = (options.language or "").strip().lower() or None
    if language is not None:
        language = language.split("-")[0].split("_")[0]
    opt = OPTIONS
    # Any model name is taken (new models come often); the settings panel offers the table's.
    name = extra.get("speech_model", "").strip()
    if not name:
        name = model_for_language(language)
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]*", name):
        raise ValueError(f"AssemblyAI speech_model looks wrong: {name!r}")
    speech_model = model(name)
    langs = speech_model.languages
    if language is not None and langs is not None and language not in langs:
        better = model_for_language(language)
        raise ValueError(
            f"AssemblyAI model {name} does not support language {language!r}; "
            f"pick another speech_model, e.g. --option speech_model={better}"
        )
    family = speech_model.family
    min_sil = opt["min_turn_silence"].integer(extra, OWNER, None)
    max_sil = opt["max_turn_silence"].integer(extra, OWNER, None)
    if options.silence_ms is not None:
        m_min, m_max = silence_mapping(options.silence_ms, family)
        min_sil = m_min if min_sil is None else min_sil
        max_sil = m_max if max_sil is None else max_sil
    if min_sil is not None and max_sil is not None and min_sil > max_sil:
        raise ValueError("AssemblyAI min_turn_silence must not exceed max_turn_silence")

    def taken(param: str, value: _T) -> _T | None:
        """``value`` if the model takes ``param``; else ``None``, with a warning when it was set."""
        if value is None or family.takes(param):
            return value
        warnings.append(f"AssemblyAI model {name} does not take {param}; ignored")
        return None

    terms = tuple(options.word_boost) if keyterms is None else keyterms
    if terms and not family.takes("keyterms_prompt"):
        warnings.append(f"AssemblyAI model {name} takes no word boost (keyterms_prompt); {len(terms)} term(s) ignored")
        terms = ()
    key_service = opt["key_service"].text(extra, OWNER)
    return AssemblyAIConfig(
        url=normalize_endpoint(options.endpoint),
        encoding=opt["encoding"].choice(extra, OWNER),
        speech_model=name,
        language=language,
        format_turns=opt["format_turns"].flag(extra, OWNER),
        finals_only=opt["finals_only"].flag(extra, OWNER),
        chunk_ms=opt["chunk_ms"].integer(extra, OWNER, DEFAULT_CHUNK_MS),
        keyterms=terms,
        min_turn_silence=taken("min_turn_silence", min_sil),
        max_turn_silence=taken("max_turn_silence", max_sil),
        # Not set: not sent (the model's own default applies, also when cleared live).
        end_of_turn_confidence_threshold=taken(
            "end_of_turn_confidence_threshold", opt["end_of_turn_confidence_threshold"].number(extra, OWNER, None)
        ),
        speaker_labels=bool(taken("speaker_labels", opt["speaker_labels"].flag(extra, OWNER) or None)),
        max_speakers=taken("max_speakers", opt["max_speakers"].integer(extra, OWNER, None)),
        mode=taken("mode", opt["mode"].choice(extra, OWNER) or None),
        voice_focus=taken("voice_focus", opt["voice_focus"].choice(extra, OWNER) or None),
        voice_focus_threshold=taken("voice_focus_threshold", opt["voice_focus_threshold"].number(extra, OWNER, None)),
        token_mode=opt["token"].flag(extra, OWNER),
        key_service=key_service,
        token_expires_in=opt["token_expires_in"].integer(extra, OWNER, DEFAULT_TOKEN_EXPIRES_IN),
        rollover_seconds=opt["rollover_seconds"].number(extra, OWNER, None),
        rollover_warmup=opt["rollover_warmup"].number(extra, OWNER, DEFAULT_ROLLOVER_WARMUP),
        terminate_timeout=opt["terminate_timeout"].number(extra, OWNER, DEFAULT_TERMINATE_TIMEOUT),
        connect_timeout=opt["connect_timeout"].number(extra, OWNER, DEFAULT_CONNECT_TIMEOUT),
        warnings=tuple(warnings),
    )
