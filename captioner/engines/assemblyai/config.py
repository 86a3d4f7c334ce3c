"""AssemblyAI Universal-Streaming v3: the engine's options, parsed and validated (sans-IO).

Owns what a user can set for AssemblyAI and what it becomes:

* the model/language tables, the engine's :data:`CAPABILITIES`, and the
  options (:data:`ADVANCED_OPTIONS` as the settings panel shows them, and
  :data:`EXPERT_OPTIONS`; :data:`KNOWN_EXTRA` names them all);
* :func:`parse_config` turns :class:`~captioner.engines.base.EngineOptions`
  into an :class:`AssemblyAIConfig` (raising ``ValueError`` with a plain
  message for bad values);
* :func:`silence_mapping` (the app's one silence threshold → turn silences) and
  :func:`normalize_endpoint` (URL, host or region → websocket URL).

Every option is an :class:`~captioner.engines.options.OptionSpec` (its range
written once) and is read through it, with the rules of
:mod:`captioner.engines.options`. Protocol facts: ``docs/protocols/assemblyai-v3.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from captioner.engines.base import Capabilities, EngineOptions, WordBoostLimits
from captioner.engines.options import OptionSpec

ENGINE_ID = "assemblyai"
DEFAULT_HOST = "streaming.assemblyai.com"
REGION_HOSTS = {"eu": "streaming.eu.assemblyai.com", "us": "streaming.us.assemblyai.com"}
DEFAULT_URL = f"wss://{DEFAULT_HOST}/v3/ws"
SAMPLE_RATE = 16_000
MAX_SESSION_SECONDS = 3 * 3600

ENGLISH_MODEL = "universal-streaming-english"
MULTILINGUAL_MODEL = "universal-streaming-multilingual"
MULTILINGUAL_LANGS = ("en", "es", "fr", "de", "it", "pt")
# Languages each model accepts (None: too many to list here; the server checks).
MODEL_LANGUAGES: dict[str, tuple[str, ...] | None] = {
    ENGLISH_MODEL: ("en",),
    MULTILINGUAL_MODEL: MULTILINGUAL_LANGS,
    "u3-rt-pro": MULTILINGUAL_LANGS,
    "whisper-rt": None,
    "universal-3-5-pro": None,
    "universal-3-6-pro": None,
    "universal-3-6": None,
}
# Models that take the list of expected languages as ``language_codes``.
LANGUAGE_CODES_MODELS = ("universal-3-5-pro", "universal-3-6-pro", "universal-3-6")
# Turn-silence defaults per model family (ms): restored when the user clears the setting.
DEFAULT_TURN_SILENCE = {"u3": (100, 1000), "universal": (400, 1280)}
ENCODINGS = ("pcm_s16le", "pcm_mulaw")
OWNER = "AssemblyAI"
DEFAULT_CHUNK_MS = 50
DEFAULT_TOKEN_EXPIRES_IN = 60
DEFAULT_TERMINATE_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 10.0


CAPABILITIES = Capabilities(
    sample_rate=SAMPLE_RATE,
    interim_results=True,
    word_boost=True,
    live_update=True,
    silence_threshold=True,
    word_boost_limits=WordBoostLimits(max_terms=100, max_term_chars=50),  # keyterms_prompt limits
    languages=MULTILINGUAL_LANGS,
    needs_credentials=True,
    realtime_input=True,
    notes=(
        "English by default; other languages use the multilingual model (en, es, fr, de, it, pt) "
        "or speech_model=whisper-rt"
    ),
)
"""What the engine can do (the settings panel and the CLI read it as ``AssemblyAIEngine.capabilities``)."""

# The advanced settings the settings panel shows (same keys as `--option KEY=VALUE`).
ADVANCED_OPTIONS = (
    OptionSpec(
        "speech_model",
        "Speech model",
        "choice",
        choices=tuple(MODEL_LANGUAGES),
        help="Which AssemblyAI model transcribes. Not set: English uses universal-streaming-english; "
        "Spanish, French, German, Italian and Portuguese use universal-streaming-multilingual.",
    ),
    OptionSpec(
        "end_of_turn_confidence_threshold",
        "End-of-turn confidence",
        "float",
        default="0.4",
        minimum=0.0,
        maximum=1.0,
        help="How sure the model must be that a sentence is complete before a short pause ends the line. "
        "Lower: lines end sooner; higher: lines wait for the full silence threshold; 1 means lines end "
        "on silence only. Applied while captioning runs.",
    ),
    OptionSpec(
        "format_turns",
        "Punctuation and capitals",
        "bool",
        default="true",
        help="Finished lines get punctuation and capital letters. Off: plain lower-case words.",
    ),
    OptionSpec(
        "finals_only",
        "Finished lines only",
        "bool",
        default="false",
        help="Show only finished lines, no text while someone is still speaking.",
    ),
    OptionSpec(
        "encoding",
        "Audio encoding",
        "choice",
        choices=ENCODINGS,
        aliases=(("mulaw", "pcm_mulaw"), ("ulaw", "pcm_mulaw"), ("pcm_ulaw", "pcm_mulaw")),
        default="pcm_s16le",
        help="How audio is sent: pcm_s16le (16-bit) or pcm_mulaw (half the bandwidth, slightly lower quality).",
    ),
    OptionSpec(
        "chunk_ms",
        "Audio per message (ms)",
        "int",
        default=str(DEFAULT_CHUNK_MS),
        minimum=50,
        maximum=1000,
        help="Milliseconds of audio in each message. Smaller: captions a little sooner; larger: fewer messages.",
    ),
    OptionSpec(
        "inactivity_timeout",
        "End after silence (s)",
        "int",
        minimum=5,
        maximum=3600,
        help="End the session after this many seconds without audio. Not set: never.",
    ),
)

# Options for experts and tests (`--option KEY=VALUE`), not shown in the settings panel.
EXPERT_OPTIONS = (
    OptionSpec("min_turn_silence", "Silence that ends a confident turn (ms)", "int", minimum=0, maximum=60_000),
    OptionSpec("max_turn_silence", "Silence that always ends a turn (ms)", "int", minimum=0, maximum=60_000),
    OptionSpec("token", "Temporary token per connection", "bool", default="false"),
    OptionSpec("token_expires_in", "Temporary token lifetime (s)", "int", minimum=1, maximum=600),
    OptionSpec("rollover_seconds", "Open the next session after (s)", "float", minimum=1, maximum=MAX_SESSION_SECONDS),
    OptionSpec("terminate_timeout", "Wait for Termination (s)", "float", minimum=0, maximum=60),
    OptionSpec("connect_timeout", "Connection timeout (s)", "float", minimum=0.1, maximum=120),
)
OPTIONS = {spec.key: spec for spec in (*ADVANCED_OPTIONS, *EXPERT_OPTIONS)}
KNOWN_EXTRA = tuple(OPTIONS)


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
    inactivity_timeout: int | None = None
    token_mode: bool = False
    """Fetch a temporary token with the API key (``GET /v3/token``) for each connection."""
    token_expires_in: int = DEFAULT_TOKEN_EXPIRES_IN
    rollover_seconds: float | None = None
    """Open the next connection this long after a session began (default: before its expiry)."""
    terminate_timeout: float = DEFAULT_TERMINATE_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    warnings: tuple[str, ...] = ()

    @property
    def model_family(self) -> str:
        return "u3" if self.speech_model.startswith("u3") else "universal"

    def session_fields(self) -> dict[str, object]:
        """The fields ``UpdateConfiguration`` can change live, as sent (defaults restored when unset)."""
        d_min, d_max = DEFAULT_TURN_SILENCE[self.model_family]
        fields: dict[str, object] = {
            "keyterms_prompt": list(self.keyterms),
            "min_turn_silence": self.min_turn_silence if self.min_turn_silence is not None else d_min,
            "max_turn_silence": self.max_turn_silence if self.max_turn_silence is not None else d_max,
        }
        if self.end_of_turn_confidence_threshold is not None:
            fields["end_of_turn_confidence_threshold"] = self.end_of_turn_confidence_threshold
        return fields

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
            self.inactivity_timeout,
            self.token_mode,
        )


def silence_mapping(silence_ms: int) -> tuple[int, int]:
    """Map the app's one silence threshold to ``(min_turn_silence, max_turn_silence)``.

    ``max_turn_silence`` is the threshold itself: after that much silence a
    line always ends. ``min_turn_silence`` (the silence that ends a line when
    the model is confident the sentence is complete) is 5/16 of it, but never
    below 160 ms (or the threshold itself if smaller). This reproduces the
    vendor's presets: 1280 → 400/1280 ("balanced"), 400 → 160/400 ("aggressive").
    """
    silence_ms = max(0, int(silence_ms))
    floor = min(silence_ms, 160)
    return max(floor, round(silence_ms * 5 / 16)), silence_ms


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
    """Validate ``options`` into a config. Raises ``ValueError`` with a user-facing message."""
    extra = {str(k): str(v) for k, v in options.extra.items()}
    warnings: list[str] = []
    unknown = [k for k in extra if k not in KNOWN_EXTRA and k != "auth_endpoint"]
    if unknown:
        warnings.append(f"unknown AssemblyAI option(s) ignored: {', '.join(sorted(unknown))}")
    language = (options.language or "").strip().lower() or None
    if language is not None:
        language = language.split("-")[0].split("_")[0]
    # Any model name is taken (new models come often); the settings panel offers the known ones.
    model = extra.get("speech_model", "").strip()
    if not model:
        if language in (None, "en"):
            model = ENGLISH_MODEL
        elif language in MULTILINGUAL_LANGS:
            model = MULTILINGUAL_MODEL
        else:
            model = "whisper-rt"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]*", model):
        raise ValueError(f"AssemblyAI speech_model looks wrong: {model!r}")
    langs = MODEL_LANGUAGES.get(model)
    if language is not None and langs is not None and language not in langs:
        raise ValueError(
            f"AssemblyAI model {model} does not support language {language!r} (it supports {', '.join(langs)}); "
            f"pick another speech_model, e.g. --option speech_model={MULTILINGUAL_MODEL}"
        )
    opt = OPTIONS
    min_sil = opt["min_turn_silence"].integer(extra, OWNER, None)
    max_sil = opt["max_turn_silence"].integer(extra, OWNER, None)
    if options.silence_ms is not None:
        m_min, m_max = silence_mapping(options.silence_ms)
        min_sil = m_min if min_sil is None else min_sil
        max_sil = m_max if max_sil is None else max_sil
    if min_sil is not None and max_sil is not None and min_sil > max_sil:
        raise ValueError("AssemblyAI min_turn_silence must not exceed max_turn_silence")
    return AssemblyAIConfig(
        url=normalize_endpoint(options.endpoint),
        encoding=opt["encoding"].choice(extra, OWNER),
        speech_model=model,
        language=language,
        format_turns=opt["format_turns"].flag(extra, OWNER),
        finals_only=opt["finals_only"].flag(extra, OWNER),
        chunk_ms=opt["chunk_ms"].integer(extra, OWNER, DEFAULT_CHUNK_MS),
        keyterms=tuple(options.word_boost) if keyterms is None else keyterms,
        min_turn_silence=min_sil,
        max_turn_silence=max_sil,
        # Not set: not sent (the model's own default applies, also when cleared live).
        end_of_turn_confidence_threshold=opt["end_of_turn_confidence_threshold"].number(extra, OWNER, None),
        inactivity_timeout=opt["inactivity_timeout"].integer(extra, OWNER, None),
        token_mode=opt["token"].flag(extra, OWNER),
        token_expires_in=opt["token_expires_in"].integer(extra, OWNER, DEFAULT_TOKEN_EXPIRES_IN),
        rollover_seconds=opt["rollover_seconds"].number(extra, OWNER, None),
        terminate_timeout=opt["terminate_timeout"].number(extra, OWNER, DEFAULT_TERMINATE_TIMEOUT),
        connect_timeout=opt["connect_timeout"].number(extra, OWNER, DEFAULT_CONNECT_TIMEOUT),
        warnings=tuple(warnings),
    )
