"""AssemblyAI streaming models: the one table of model families, their defaults and the parameters they take.

Owns :data:`MODELS` (every speech model Captioner knows, with its languages and family), the
:class:`Family` rows (turn-silence defaults, how a turn's silence bound maps from the app's one
silence setting, the connection parameters the family takes and those ``UpdateConfiguration`` may
change, the shape of its partial turns) and :func:`model_for_language` (the model picked when the
user names a language but no model). The request builder, the live update, the settings panel's
Advanced page and ``endpoint_silence()`` all read this table, so a family is recognised by its
name in the table, never by a prefix.

Where each fact comes from (vendor documentation, the vendor's SDK or spec, or inferred) is
listed in ``docs/assemblyai.md``; the protocol itself in ``docs/protocols/assemblyai-v3.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# Parameters every model takes (not listed per family).
COMMON_PARAMS = frozenset({"sample_rate", "encoding", "speech_model", "token"})
_TURN = frozenset({"min_turn_silence", "max_turn_silence"})
_SPEAKERS = frozenset({"speaker_labels", "max_speakers"})


@dataclass(frozen=True, slots=True)
class Family:
    """What the models of one family share."""

    key: str
    label: str
    turn_silence: tuple[int, int] | None
    """Documented ``(min_turn_silence, max_turn_silence)`` defaults in ms; ``None`` when the service sets
    them per ``mode`` (they cannot be restored by an ``UpdateConfiguration``: a cleared setting restarts)."""
    endpoint_ms: int
    """Silence after which a turn always ends with the defaults (``Engine.endpoint_silence``)."""
    min_ratio: float
    """``min_turn_silence`` as a share of the app's silence setting (which becomes ``max_turn_silence``)."""
    min_floor: int
    """…but never below this (or the setting itself, when that is smaller)."""
    params: frozenset[str]
    """Optional connection parameters the family takes (besides :data:`COMMON_PARAMS`)."""
    live: frozenset[str]
    """What ``UpdateConfiguration`` may change on a running session."""
    whole_partials: bool
    """Partial turns carry the whole partial text in ``transcript`` with every word ``word_is_final:
    false`` (the U3 shape), instead of ``transcript`` = the final words only (Universal-Streaming)."""
    non_speech_tags: bool = False
    """Silence and noise come back as turns tagged ``[Silence]``, ``[Music]``… in ``utterance``."""

    def takes(self, param: str) -> bool:
        return param in COMMON_PARAMS or param in self.params


UNIVERSAL = Family(
    key="universal",
    label="Universal-Streaming",
    turn_silence=(400, 1280),
    endpoint_ms=1280,
    min_ratio=5 / 16,
    min_floor=160,
    params=_TURN
    | _SPEAKERS
    | {"format_turns", "keyterms_prompt", "end_of_turn_confidence_threshold", "vad_threshold", "language_detection"},
    live=_TURN | {"keyterms_prompt", "end_of_turn_confidence_threshold"},
    whole_partials=False,
)
WHISPER = dataclasses.replace(
    UNIVERSAL,
    key="whisper",
    label="Whisper Streaming",
    params=UNIVERSAL.params - {"keyterms_prompt", "vad_threshold"},
    live=UNIVERSAL.live - {"keyterms_prompt"},
    non_speech_tags=True,
)
_U3_PARAMS = (
    _TURN
    | _SPEAKERS
    | {"keyterms_prompt", "vad_threshold", "language_detection", "language_codes", "prompt", "mode"}
    | {"voice_focus", "voice_focus_threshold"}
)
U3_PRO = Family(
    key="u3",
    label="Universal-3 Pro",
    turn_silence=(100, 1000),
    endpoint_ms=1000,
    min_ratio=1 / 10,
    min_floor=100,
    params=_U3_PARAMS,
    live=_TURN | {"keyterms_prompt"},
    whole_partials=True,
)
U3_5_PRO = dataclasses.replace(
    U3_PRO,
    key="u3.5",
    label="Universal-3.5/3.6 Pro",
    turn_silence=None,
    endpoint_ms=1536,
    params=_U3_PARAMS | {"continuous_partials"},
)
UNKNOWN = dataclasses.replace(
    UNIVERSAL,
    key="unknown",
    label="a model Captioner does not know",
    turn_silence=None,
    endpoint_ms=1536,
    params=UNIVERSAL.params - {"vad_threshold"},
    live=_TURN | {"keyterms_prompt"},
)
"""A model name the table does not list (new models come often): only what the user sets is sent."""

SIX = ("en", "es", "fr", "de", "it", "pt")
U3_5_LANGUAGES = (*SIX, "tr", "nl", "sv", "no", "da", "fi", "hi", "vi", "ar", "he", "ja", "zh")
WHISPER_LANGUAGES = tuple(
    [
        "af",
        "am",
        "ar",
        "as",
        "az",
        "ba",
        "be",
        "bg",
        "bn",
        "bo",
        "br",
        "bs",
        "ca",
        "cs",
        "cy",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "eu",
        "fa",
        "fi",
        "fo",
        "fr",
        "gl",
        "gu",
        "ha",
        "haw",
        "he",
        "hi",
        "hr",
        "ht",
        "hu",
        "hy",
        "id",
        "is",
        "it",
        "ja",
        "jw",
        "ka",
        "kk",
        "km",
        "kn",
        "ko",
        "la",
        "lb",
        "ln",
        "lo",
        "lt",
        "lv",
        "mg",
        "mi",
        "mk",
        "ml",
        "mn",
        "mr",
        "ms",
        "mt",
        "my",
        "ne",
        "nl",
        "nn",
        "no",
        "oc",
        "pa",
        "pl",
        "ps",
        "pt",
        "ro",
        "ru",
        "sa",
        "sd",
        "si",
        "sk",
        "sl",
        "sn",
        "so",
        "sq",
        "sr",
        "su",
        "sv",
        "sw",
        "ta",
        "te",
        "tg",
        "th",
        "tk",
        "tl",
        "tr",
        "tt",
        "uk",
        "ur",
        "uz",
        "vi",
        "yi",
        "yo",
        "yue",
        "zh",
    ]
)


@dataclass(frozen=True, slots=True)
class SpeechModel:
    """One ``speech_model`` value."""

    name: str
    family: Family
    languages: tuple[str, ...] | None
    """Languages it transcribes (``None``: not listed in the sources; the server checks)."""
    note: str = ""
    offered: bool = True
    """Listed in the settings panel (aliases and test models are not)."""


MODELS: dict[str, SpeechModel] = {
    m.name: m
    for m in (
        SpeechModel("universal-streaming-english", UNIVERSAL, ("en",), "English, fastest and cheapest"),
        SpeechModel("universal-streaming-multilingual", UNIVERSAL, SIX, "six languages, per-turn language"),
        SpeechModel("universal-3-5-pro", U3_5_PRO, U3_5_LANGUAGES, "18 languages, highest accuracy"),
        SpeechModel("universal-3-6-pro", U3_5_PRO, None, "32 languages (the list is not published here)"),
        SpeechModel("u3-rt-pro", U3_PRO, SIX, "six languages (superseded by universal-3-5-pro)"),
        SpeechModel("whisper-rt", WHISPER, WHISPER_LANGUAGES, "99 languages, detected automatically; no word boost"),
        SpeechModel("u3-rt-pro-beta-1", U3_PRO, SIX, offered=False),
        SpeechModel("u3-pro", U3_PRO, SIX, "a deprecated name of u3-rt-pro", offered=False),
    )
}
ENGLISH_MODEL = "universal-streaming-english"
MULTILINGUAL_MODEL = "universal-streaming-multilingual"


def model(name: str) -> SpeechModel:
    """The table's row for ``name`` (an unknown name gets the :data:`UNKNOWN` family)."""
    return MODELS.get(name) or SpeechModel(name, UNKNOWN, None, offered=False)


def offered_models() -> tuple[str, ...]:
    """The model names the settings panel offers, in the table's order."""
    return tuple(name for name, m in MODELS.items() if m.offered)


def models_in(*families: Family) -> tuple[str, ...]:
    """The offered model names of ``families``."""
    return tuple(name for name, m in MODELS.items() if m.offered and m.family in families)


def model_for_language(language: str | None) -> str:
    """The model used when the user names ``language`` (ISO 639-1) but no model.

    English (or none) and the six languages of the multilingual model keep the Universal-Streaming
    models (fast, cheapest); the other languages of Universal-3.5 Pro go to it (steered with
    ``language_codes``); the rest to Whisper Streaming. ``ValueError`` when no model has it.
    """
    if language in (None, "en"):
        return ENGLISH_MODEL
    if language in SIX:
        return MULTILINGUAL_MODEL
    if language in U3_5_LANGUAGES:
        return "universal-3-5-pro"
    if language in WHISPER_LANGUAGES:
        return "whisper-rt"
    raise ValueError(
        f"no AssemblyAI streaming model transcribes language {language!r}; "
        "pick a speech_model yourself if you know one that does"
    )


def silence_mapping(silence_ms: int, family: Family = UNIVERSAL) -> tuple[int, int]:
    """The app's one silence threshold → ``(min_turn_silence, max_turn_silence)`` for ``family``.

    ``max_turn_silence`` is the threshold itself: after that much silence a line always ends.
    ``min_turn_silence`` (the silence after which the model may end a line it considers complete)
    is a share of it with a floor. On Universal-Streaming (5/16, at least 160 ms) this reproduces
    the vendor's presets 1280 → 400/1280 ("balanced") and 400 → 160/400 ("aggressive"); on the U3
    families (1/10, at least 100 ms) the documented default 100/1000.
    """
    silence_ms = max(0, int(silence_ms))
    floor = min(silence_ms, family.min_floor)
    return max(floor, round(silence_ms * family.min_ratio)), silence_ms
