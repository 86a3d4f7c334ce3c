"""AssemblyAI: the options a user can set (``--option KEY=VALUE``, the settings panel's Advanced page).

Owns the :class:`~captioner.engines.options.OptionSpec` of every AssemblyAI option, each range
written once: :data:`ADVANCED_OPTIONS` (shown in the settings panel), :data:`EXPERT_OPTIONS`
(command line and tests), :data:`OPTIONS` by key and :data:`RETIRED` (options that no longer
exist, with why). The speech-model choices and which options a model takes come from the one
model table, :mod:`captioner.engines.assemblyai.models`; the options are read into a
connection's configuration by :mod:`captioner.engines.assemblyai.config`.
"""

from __future__ import annotations

from captioner.engines.assemblyai.models import MODELS, U3_5_PRO, U3_PRO, UNIVERSAL, WHISPER, models_in, offered_models
from captioner.engines.options import OptionSpec

DEFAULT_CHUNK_MS = 50
DEFAULT_TOKEN_EXPIRES_IN = 60
DEFAULT_TERMINATE_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_ROLLOVER_WARMUP = 30.0
ENCODINGS = ("pcm_s16le", "pcm_mulaw")
MODES = ("min_latency", "balanced", "max_accuracy")
VOICE_FOCUS = ("near-field", "far-field")
URL_PATTERN = r"https?://[^\s/?#]+[^\s]*"

_U3 = models_in(U3_PRO, U3_5_PRO)
_WITH_THRESHOLD = ("", *models_in(UNIVERSAL, WHISPER))


def _model_help() -> str:
    listed = "; ".join(f"{name}: {MODELS[name].note}" for name in offered_models())
    return (
        "Which AssemblyAI model transcribes. Not set: English uses universal-streaming-english; Spanish, French, "
        "German, Italian and Portuguese universal-streaming-multilingual; the other languages of "
        f"universal-3-5-pro that model; any other language whisper-rt. {listed}."
    )


ADVANCED_OPTIONS = (
    OptionSpec("speech_model", "Speech model", "choice", choices=offered_models(), help=_model_help()),
    OptionSpec(
        "speaker_labels",
        "Label speakers",
        "bool",
        default="false",
        help="Each line says who spoke (A, B, …), for a meeting or an interview. After a reconnect the "
        "speakers get new letters (you are told); at the 3-hour renewal of the session they keep theirs.",
    ),
    OptionSpec(
        "max_speakers",
        "Most speakers",
        "int",
        minimum=1,
        maximum=10,
        help="With speaker labels: at most this many different speakers (a little more than you expect). "
        "Not set: the service decides.",
    ),
    OptionSpec(
        "mode",
        "Speed or accuracy",
        "choice",
        choices=MODES,
        only_with=("speech_model", _U3),
        help="Universal-3 Pro models: min_latency (captions soonest), balanced (the service default) or "
        "max_accuracy (a little later, fewer mistakes: good for notes).",
    ),
    OptionSpec(
        "voice_focus",
        "Voice focus",
        "choice",
        choices=VOICE_FOCUS,
        only_with=("speech_model", _U3),
        help="Universal-3 Pro models: suppress background noise. near-field for a headset or a microphone "
        "close to the speaker; far-field for a laptop microphone or a room. Not set: off.",
    ),
    OptionSpec(
        "end_of_turn_confidence_threshold",
        "End-of-turn confidence",
        "float",
        default="0.4",
        minimum=0.0,
        maximum=1.0,
        only_with=("speech_model", _WITH_THRESHOLD),
        help="Universal-Streaming and Whisper models: how sure the model must be that a sentence is complete "
        "before a short pause ends the line (Universal-3 Pro models end lines on punctuation instead). "
        "1 means lines end on silence only. Applied while captioning runs.",
    ),
    OptionSpec(
        "format_turns",
        "Punctuation and capitals",
        "bool",
        default="true",
        only_with=("speech_model", _WITH_THRESHOLD),
        help="Finished lines get punctuation and capital letters (Universal-3 Pro models always do this).",
    ),
    OptionSpec(
        "finals_only",
        "Finished lines only",
        "bool",
        default="false",
        help="Show only finished lines, no text while someone is still speaking.",
    ),
    OptionSpec(
        "key_service",
        "Key service (one-time keys)",
        "text",
        pattern=URL_PATTERN,
        pattern_hint="an http:// or https:// URL",
        help="Your organisation's service that hands out one-time AssemblyAI keys (temporary tokens). Set it "
        "and this machine needs no API key: a new one is fetched for every connection.",
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
)

# Options for experts and tests (`--option KEY=VALUE`), not shown in the settings panel.
EXPERT_OPTIONS = (
    OptionSpec("min_turn_silence", "Silence that may end a complete turn (ms)", "int", minimum=0, maximum=60_000),
    OptionSpec("max_turn_silence", "Silence that always ends a turn (ms)", "int", minimum=0, maximum=60_000),
    OptionSpec("voice_focus_threshold", "Voice focus strength", "float", minimum=0.0, maximum=1.0),
    OptionSpec("token", "Temporary token per connection (with the API key)", "bool", default="false"),
    OptionSpec("token_expires_in", "Temporary token lifetime (s)", "int", minimum=1, maximum=600),
    OptionSpec("rollover_seconds", "Open the next session after (s)", "float", minimum=1, maximum=3 * 3600),
    # At most 30 s (so 90 s with the wait for a pause), within the 120 s before expiry the next session opens.
    OptionSpec("rollover_warmup", "Speaker warm-up of the next session (s)", "float", minimum=0, maximum=30),
    OptionSpec("terminate_timeout", "Wait for Termination (s)", "float", minimum=0, maximum=60),
    OptionSpec("connect_timeout", "Connection timeout (s)", "float", minimum=0.1, maximum=120),
)
OPTIONS = {spec.key: spec for spec in (*ADVANCED_OPTIONS, *EXPERT_OPTIONS)}

RETIRED = {
    "inactivity_timeout": "inactivity_timeout is no longer used and was ignored: Captioner sends audio all the "
    "time, silence included, so the service never saw the session idle; remove the option",
}
"""Options that no longer exist, with the warning shown when a settings file or a command still has one."""
