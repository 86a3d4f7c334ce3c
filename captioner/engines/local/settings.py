"""The local engine's options: :class:`LocalSettings`, parsed and validated from :class:`EngineOptions`.

Owns the option names, defaults and ranges (:data:`OPTIONS`, read with the rules of
:mod:`captioner.engines.options`, whose plain-words errors the CLI turns into exit status 2).
Knows nothing about PocketSphinx.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from captioner.engines.base import EngineOptions
from captioner.engines.options import OptionSpec

DEFAULT_SILENCE_MS = 600
MIN_SILENCE_MS = 90

OWNER = "local engine"
# The options (`--option KEY=VALUE`); the settings panel shows none of them.
OPTIONS = {
    spec.key: spec
    for spec in (
        OptionSpec("boost_weight", "Word boost weight", "float", default="500", minimum=1.0, maximum=1e6),
        OptionSpec("interim_ms", "Interim interval (ms)", "int", default="250", minimum=30, maximum=10_000),
        OptionSpec("rtf_budget", "Real-time factor budget", "float", default="0.9", minimum=0.0, maximum=100.0),
        OptionSpec("lag_budget_ms", "Lag budget (ms)", "int", default="1500", minimum=0, maximum=600_000),
        OptionSpec(
            "max_lag_ms", "Lag at which audio is skipped (ms)", "int", default="6000", minimum=0, maximum=600_000
        ),
        OptionSpec("vad_mode", "Voice detector mode", "int", default="0", minimum=0, maximum=3),
        OptionSpec("max_utterance_s", "Longest line (s)", "float", default="15", minimum=1.0, maximum=600.0),
        OptionSpec("mode", "Mode", "choice", choices=("normal", "fast"), default="normal"),
    )
}
KNOWN_EXTRA = tuple(OPTIONS)


def _int(extra: Mapping[str, str], key: str) -> int:
    spec = OPTIONS[key]
    return spec.integer(extra, OWNER, int(spec.default))


def _float(extra: Mapping[str, str], key: str) -> float:
    spec = OPTIONS[key]
    return spec.number(extra, OWNER, float(spec.default))


@dataclass(frozen=True, slots=True)
class LocalSettings:
    """The engine's options, parsed and validated."""

    silence_ms: int = DEFAULT_SILENCE_MS
    boost: tuple[str, ...] = ()
    boost_weight: float = 500.0
    """Unigram weight of a boosted word, relative to a uniform unigram (1 / vocabulary size)."""
    interim_ms: int = 250
    rtf_budget: float = 0.9
    """Degrade when decoding time / audio time (moving average) exceeds this."""
    lag_budget_ms: int = 1500
    """Degrade when decoded audio is this far behind the wall clock."""
    max_lag_ms: int = 6000
    """Skip audio (not queue it) when lag exceeds this even so."""
    vad_mode: int = 0
    max_utterance_s: float = 15.0
    fast: bool = False
    """Start in the cheaper mode (``mode=fast``)."""

    @classmethod
    def from_options(cls, options: EngineOptions) -> LocalSettings:
        lang = (options.language or "en").lower()
        if lang.split("-")[0].split("_")[0] != "en":
            raise ValueError(f"the local engine only knows English (en), not {options.language!r}")
        extra = options.extra
        unknown = [k for k in extra if k not in KNOWN_EXTRA]
        if unknown:
            raise ValueError(f"unknown local engine option(s): {', '.join(unknown)}; known: {', '.join(KNOWN_EXTRA)}")
        silence = DEFAULT_SILENCE_MS if options.silence_ms is None else int(options.silence_ms)
        return cls(
            silence_ms=max(MIN_SILENCE_MS, silence),
            boost=tuple(t.strip() for t in options.word_boost if t.strip()),
            boost_weight=_float(extra, "boost_weight"),
            interim_ms=_int(extra, "interim_ms"),
            rtf_budget=_float(extra, "rtf_budget"),
            lag_budget_ms=_int(extra, "lag_budget_ms"),
            max_lag_ms=_int(extra, "max_lag_ms"),
            vad_mode=_int(extra, "vad_mode"),
            max_utterance_s=_float(extra, "max_utterance_s"),
            fast=OPTIONS["mode"].choice(extra, OWNER) == "fast",
        )
