"""AssemblyAI Universal-Streaming v3, sans-IO.

Everything about the v3 protocol that does not need a socket lives here, in the
style of h11/wsproto: the engine's runner (``captioner.engines.assemblyai``)
moves bytes, this module decides what they mean.

* :func:`parse_config` turns :class:`~captioner.engines.base.EngineOptions`
  into an :class:`AssemblyAIConfig` (raising ``ValueError`` with a plain
  message for bad values);
* :func:`build_url` / :func:`auth_headers` build the connection request;
* :class:`AudioFramer` cuts PCM16 into ``chunk_ms`` frames (µ-law encoded if
  asked) and remembers where each frame sits on the source timeline;
* :class:`TurnTracker` turns server JSON into caption events, one caption
  line per ``turn_order`` (see "Turn handling" in issue 4);
* :func:`failure_for_close` maps close codes and HTTP statuses to
  :class:`~captioner.engines.base.EngineFailure`.

Protocol facts: ``../shared/protocols/README.md`` §A.2.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np

from captioner.captions.events import (
    EngineEvent,
    EngineState,
    Final,
    Interim,
    Notice,
    SpeechStarted,
    Status,
    Usage,
)
from captioner.engines.base import Credentials, EngineFailure, EngineOptions
from captioner.engines.timeline import AudioTimeline

log = logging.getLogger(__name__)

ENGINE_ID = "assemblyai"
DEFAULT_HOST = "streaming.assemblyai.com"
REGION_HOSTS = {"eu": "streaming.eu.assemblyai.com", "us": "streaming.us.assemblyai.com"}
DEFAULT_URL = f"wss://{DEFAULT_HOST}/v3/ws"
API_VERSION = "2025-05-12"
SAMPLE_RATE = 16_000
MAX_FRAME_BYTES = 128 * 1024
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
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")

KNOWN_EXTRA = (
    "speech_model",
    "format_turns",
    "finals_only",
    "encoding",
    "chunk_ms",
    "end_of_turn_confidence_threshold",
    "min_turn_silence",
    "max_turn_silence",
    "inactivity_timeout",
    "token",
    "token_expires_in",
    "rollover_seconds",
    "terminate_timeout",
    "connect_timeout",
)


# -- configuration --------------------------------------------------------------------------------


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
    chunk_ms: int = 50
    keyterms: tuple[str, ...] = ()
    min_turn_silence: int | None = None
    max_turn_silence: int | None = None
    end_of_turn_confidence_threshold: float | None = None
    inactivity_timeout: int | None = None
    token_mode: bool = False
    """Fetch a temporary token with the API key (``GET /v3/token``) for each connection."""
    token_expires_in: int = 60
    rollover_seconds: float | None = None
    """Open the next connection this long after a session began (default: before its expiry)."""
    terminate_timeout: float = 5.0
    connect_timeout: float = 10.0
    warnings: tuple[str, ...] = ()

    @property
    def bytes_per_sample(self) -> int:
        return 1 if self.encoding == "pcm_mulaw" else 2

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


def _bool(extra: Mapping[str, str], key: str, default: bool) -> bool:
    raw = extra.get(key)
    if raw is None:
        return default
    v = str(raw).strip().lower()
    if v in TRUE_WORDS:
        return True
    if v in FALSE_WORDS:
        return False
    raise ValueError(f"AssemblyAI option {key} must be true or false, got {raw!r}")


def _number(extra: Mapping[str, str], key: str, lo: float, hi: float, *, integer: bool) -> float | None:
    raw = extra.get(key)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise ValueError(f"AssemblyAI option {key} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or not (lo <= value <= hi) or (integer and value != int(value)):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"AssemblyAI option {key} must be {kind} between {lo:g} and {hi:g}, got {raw!r}")
    return value


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
    encoding = extra.get("encoding", "pcm_s16le").strip().lower() or "pcm_s16le"
    if encoding in ("mulaw", "ulaw", "pcm_ulaw"):
        encoding = "pcm_mulaw"
    if encoding not in ENCODINGS:
        raise ValueError(f"AssemblyAI encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
    chunk_ms = _number(extra, "chunk_ms", 50, 1000, integer=True)
    eot = _number(extra, "end_of_turn_confidence_threshold", 0.0, 1.0, integer=False)
    inactivity = _number(extra, "inactivity_timeout", 5, 3600, integer=True)
    min_sil = _number(extra, "min_turn_silence", 0, 60_000, integer=True)
    max_sil = _number(extra, "max_turn_silence", 0, 60_000, integer=True)
    if options.silence_ms is not None:
        m_min, m_max = silence_mapping(options.silence_ms)
        min_sil = m_min if min_sil is None else min_sil
        max_sil = m_max if max_sil is None else max_sil
    if min_sil is not None and max_sil is not None and min_sil > max_sil:
        raise ValueError("AssemblyAI min_turn_silence must not exceed max_turn_silence")
    rollover = _number(extra, "rollover_seconds", 1, MAX_SESSION_SECONDS, integer=False)
    term_timeout = _number(extra, "terminate_timeout", 0, 60, integer=False)
    connect_timeout = _number(extra, "connect_timeout", 0.1, 120, integer=False)
    token_exp = _number(extra, "token_expires_in", 1, 600, integer=True)
    return AssemblyAIConfig(
        url=normalize_endpoint(options.endpoint),
        encoding=encoding,
        speech_model=model,
        language=language,
        format_turns=_bool(extra, "format_turns", True),
        finals_only=_bool(extra, "finals_only", False),
        chunk_ms=int(chunk_ms) if chunk_ms is not None else 50,
        keyterms=tuple(options.word_boost) if keyterms is None else keyterms,
        min_turn_silence=int(min_sil) if min_sil is not None else None,
        max_turn_silence=int(max_sil) if max_sil is not None else None,
        end_of_turn_confidence_threshold=eot,
        inactivity_timeout=int(inactivity) if inactivity is not None else None,
        token_mode=_bool(extra, "token", False),
        token_expires_in=int(token_exp) if token_exp is not None else 60,
        rollover_seconds=rollover,
        terminate_timeout=term_timeout if term_timeout is not None else 5.0,
        connect_timeout=connect_timeout if connect_timeout is not None else 10.0,
        warnings=tuple(warnings),
    )


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
    """``text`` with any token query value and the given secrets replaced by ``***``."""
    out = re.sub(r"(token=)[^&\s]+", r"\1***", text)
    if credentials is not None:
        for secret in (credentials.api_key, credentials.token, credentials.client_secret):
            if secret:
                out = out.replace(secret, "***")
    return out


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
KEEP_ALIVE = json.dumps({"type": "KeepAlive"})


# -- audio ----------------------------------------------------------------------------------------


def mulaw_encode(pcm: bytes) -> bytes:
    """PCM16 little-endian → G.711 µ-law, one byte per sample (bit-exact with CPython's ``audioop``)."""
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int32) >> 2  # 14-bit, as G.711 specifies
    negative = x < 0
    mag = np.minimum(np.where(negative, -x, x), 8159) + 0x21
    seg = np.floor(np.log2(mag)).astype(np.int32) - 5
    uval = np.where(seg > 7, 0x7F, (np.minimum(seg, 7) << 4) | ((mag >> (np.minimum(seg, 7) + 1)) & 0x0F))
    mask = np.where(negative, 0x7F, 0xFF)
    return ((uval ^ mask) & 0xFF).astype(np.uint8).tobytes()


def mulaw_decode(data: bytes) -> bytes:
    """G.711 µ-law → PCM16 little-endian (used by tests and the fake server)."""
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    mag = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -mag, mag).astype("<i2").tobytes()


@dataclass(frozen=True, slots=True)
class Frame:
    """One audio message: its payload and where it sits on the source timeline."""

    payload: bytes
    start: float
    """Source time (s) of the first sample."""
    duration: float
    captured_at: tuple[float, ...] = ()
    """``captured_at`` of the source blocks completed by this frame (for latency figures)."""
    segments: tuple[tuple[float, float], ...] = ()
    """``(source start, seconds)`` of the audio in the frame: more than one when the frame spans
    a gap (audio the session skipped); padding is not in any segment."""


@dataclass
class AudioFramer:
    """Cuts PCM16 blocks into frames of exactly ``chunk_ms`` (the last one padded to ≥ 50 ms)."""

    sample_rate: int = SAMPLE_RATE
    chunk_ms: int = 50
    encoding: str = "pcm_s16le"
    _buf: bytearray = field(default_factory=bytearray)
    _buf_start: float | None = None
    _captured: list[float] = field(default_factory=list)
    _segments: list[tuple[float, float]] = field(default_factory=list)

    @property
    def frame_bytes(self) -> int:
        """PCM16 bytes per frame."""
        return self.sample_rate * self.chunk_ms // 1000 * 2

    @property
    def buffered_seconds(self) -> float:
        return len(self._buf) / 2 / self.sample_rate

    def push(self, pcm: bytes, start: float, captured_at: float | None = None) -> Iterator[Frame]:
        """Add a block (PCM16 at ``sample_rate``, starting at source time ``start``); yield full frames."""
        n = self.frame_bytes
        if not self._buf and len(pcm) == n:  # the common case: blocks already the frame size
            payload = mulaw_encode(pcm) if self.encoding == "pcm_mulaw" else pcm
            captured = (*self._captured, captured_at) if captured_at is not None else tuple(self._captured)
            self._captured.clear()
            self._buf_start = start + n / 2 / self.sample_rate
            duration = n / 2 / self.sample_rate
            yield Frame(payload, start, duration, captured, ((start, duration),))
            return
        if self._buf_start is None or not self._buf:
            self._buf_start = start
        if pcm:
            self._segments.append((start, len(pcm) / 2 / self.sample_rate))
        self._buf += pcm
        if captured_at is not None:
            self._captured.append(captured_at)
        while len(self._buf) >= n:
            yield self._take(n)

    def flush(self) -> Iterator[Frame]:
        """The rest of the audio, padded with silence to the 50 ms minimum."""
        if not self._buf:
            return
        minimum = self.sample_rate * 50 // 1000 * 2
        if len(self._buf) < minimum:
            self._buf += b"\x00" * (minimum - len(self._buf))  # padding: in no segment
        yield self._take(len(self._buf))

    def _take(self, n: int) -> Frame:
        pcm = bytes(self._buf[:n])
        del self._buf[:n]
        duration = len(pcm) / 2 / self.sample_rate
        # The source pieces in these n bytes (split the last one if the frame ends inside it).
        segments: list[tuple[float, float]] = []
        need = duration
        while self._segments and need > 1e-9:
            seg_start, seg_len = self._segments[0]
            take = min(seg_len, need)
            segments.append((seg_start, take))
            need -= take
            if seg_len - take > 1e-9:
                self._segments[0] = (seg_start + take, seg_len - take)
            else:
                self._segments.pop(0)
        start = segments[0][0] if segments else (self._buf_start if self._buf_start is not None else 0.0)
        self._buf_start = self._segments[0][0] if self._segments else start + duration
        captured = tuple(self._captured)
        self._captured.clear()
        payload = mulaw_encode(pcm) if self.encoding == "pcm_mulaw" else pcm
        return Frame(payload, start, duration, captured, tuple(segments))


# -- server → client ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: str
    expires_at: float | None
    """Unix time (s) when the server will end the session (3008)."""


class TurnTracker:
    """Turns the server's JSON messages of one connection into caption events.

    Server times are ms of audio received on this connection. ``timeline``
    records where each frame sent sits on the source timeline and maps them
    back (also across pauses the session skipped to catch up); until it holds
    audio, times are shifted by ``offset`` (the source time of the first
    sample). ``prefix`` keeps line ids unique across the connections of one
    engine (rollover).
    """

    def __init__(self, *, prefix: str = "", offset: float = 0.0, finals_only: bool = False) -> None:
        self.prefix = prefix
        self.offset = offset
        self.timeline = AudioTimeline()
        self.finals_only = finals_only
        self.session: SessionInfo | None = None
        self.terminated = False
        self.usage: Usage | None = None
        self.server_error: str | None = None
        self.server_error_code: int | None = None
        self._committed: dict[int, str] = {}
        self._open_turn: int | None = None
        self.turns_seen = 0
        self.malformed = 0

    @property
    def has_open_turn(self) -> bool:
        return self._open_turn is not None

    def line_id(self, turn_order: int) -> str:
        return f"{self.prefix}{turn_order}"

    def _t(self, ms: object, *, end: bool = False) -> float | None:
        if isinstance(ms, int | float) and not isinstance(ms, bool) and math.isfinite(ms):
            if self.timeline:
                mapped = self.timeline.to_source(float(ms) / 1000.0, end=end)
                assert mapped is not None
                return round(mapped, 3)
            return round(self.offset + float(ms) / 1000.0, 3)
        return None

    def receive(self, text: str | bytes) -> list[EngineEvent]:
        """Events for one server message; malformed or unknown messages are logged and skipped."""
        try:
            msg = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            self.malformed += 1
            log.warning("AssemblyAI: skipped a message that is not JSON (%d bytes)", len(text))
            return []
        if not isinstance(msg, dict):
            self.malformed += 1
            log.warning("AssemblyAI: skipped a message that is not a JSON object")
            return []
        kind = msg.get("type")
        try:
            if kind == "Turn":
                return self._turn(msg)
            if kind == "Begin":
                return self._begin(msg)
            if kind == "SpeechStarted":
                at = self._t(msg.get("timestamp"))
                return [SpeechStarted(ENGINE_ID, at)]
            if kind == "Termination":
                return self._termination(msg)
            if kind == "Error" or (kind is None and "error" in msg):
                self.server_error = str(msg.get("error") or "server error")
                code = msg.get("error_code")
                self.server_error_code = code if isinstance(code, int) else None
                log.warning("AssemblyAI server error (code %s): %s", self.server_error_code, self.server_error)
                return []
            if kind == "Warning":
                return [Notice(ENGINE_ID, f"AssemblyAI warning: {msg.get('warning', '')}".strip())]
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            self.malformed += 1
            log.warning("AssemblyAI: skipped a malformed %s message (%s)", kind, exc)
            return []
        log.debug("AssemblyAI: ignored message type %r", kind)
        return []

    def _begin(self, msg: dict[str, object]) -> list[EngineEvent]:
        sid = str(msg.get("id", ""))
        exp = msg.get("expires_at")
        expires: float | None = None
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            expires = float(exp)
        elif isinstance(exp, str):
            from datetime import UTC, datetime

            try:
                dt = datetime.fromisoformat(exp.replace("Z", "+00:00"))
                expires = (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()
            except ValueError:
                expires = None
        self.session = SessionInfo(sid, expires)
        when = ""
        if expires is not None:
            import time as _time

            when = f", expires {_time.strftime('%H:%M:%S', _time.localtime(expires))}"
        return [Status(ENGINE_ID, EngineState.LISTENING, f"connected to AssemblyAI (session {sid}{when})")]

    def _termination(self, msg: dict[str, object]) -> list[EngineEvent]:
        self.terminated = True
        audio = msg.get("audio_duration_seconds")
        sess = msg.get("session_duration_seconds")
        self.usage = Usage(
            ENGINE_ID,
            float(audio) if isinstance(audio, int | float) else 0.0,
            float(sess) if isinstance(sess, int | float) else None,
            self.session.session_id if self.session else None,
        )
        return [self.usage]

    def _turn(self, msg: dict[str, object]) -> list[EngineEvent]:
        order = msg["turn_order"]
        if not isinstance(order, int) or isinstance(order, bool):
            raise ValueError("turn_order is not an integer")
        transcript = msg.get("transcript") or ""
        if not isinstance(transcript, str):
            raise ValueError("transcript is not a string")
        raw_words = msg.get("words") or []
        if not isinstance(raw_words, list):
            raise ValueError("words is not a list")
        words = [w for w in raw_words if isinstance(w, dict) and isinstance(w.get("text"), str)]
        end_of_turn = msg.get("end_of_turn") is True
        formatted = msg.get("turn_is_formatted") is True
        line_id = self.line_id(order)
        start = self._t(words[0].get("start")) if words else None
        end = self._t(words[-1].get("end"), end=True) if words else None
        if order not in self._committed:
            self.turns_seen = max(self.turns_seen, order + 1)
        if end_of_turn:
            # Only end_of_turn commits. A second (formatted) end-of-turn message of the same
            # turn_order replaces the text of the committed line: same id, never a new line.
            text = transcript.strip() or " ".join(str(w["text"]) for w in words).strip()
            previous = self._committed.get(order)
            self._committed[order] = text
            if self._open_turn == order:
                self._open_turn = None
            if previous is not None and previous == text:
                return []
            return [Final(line_id, text, ENGINE_ID, start, end, formatted=formatted)]
        if order in self._committed:
            return []  # a late partial of a committed turn: the final wins
        self._open_turn = order
        if self.finals_only:
            return []
        # transcript holds the final words only; words adds the tentative tail.
        # Never append words[-1] to transcript: show transcript + the non-final words after it.
        tail_words: list[str] = []
        for w in reversed(words):
            if w.get("word_is_final") is True:
                break
            tail_words.append(str(w["text"]))
        tail = " ".join(reversed(tail_words)).strip()
        stable = transcript.strip()
        if not stable:
            stable = " ".join(str(w["text"]) for w in words[: len(words) - len(tail_words)]).strip()
        text = f"{stable} {tail}".strip() if tail else stable
        if not text:
            return []
        return [Interim(line_id, text, ENGINE_ID, start, end, tail=tail)]


# -- errors ---------------------------------------------------------------------------------------

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


def with_keyterms(config: AssemblyAIConfig, keyterms: tuple[str, ...]) -> AssemblyAIConfig:
    return replace(config, keyterms=keyterms)
