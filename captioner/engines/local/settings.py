"""The local engine's options: :class:`LocalSettings`, parsed and validated from :class:`EngineOptions`.

Owns the option names (``KNOWN_EXTRA``), their defaults and ranges, and the error messages that the CLI
turns into exit status 2. Knows nothing about PocketSphinx.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from captioner.engines.base import EngineOptions

DEFAULT_SILENCE_MS = 600
MIN_SILENCE_MS = 90

KNOWN_EXTRA = (
    "boost_weight",
    "interim_ms",
    "rtf_budget",
    "lag_budget_ms",
    "max_lag_ms",
    "vad_mode",
    "max_utterance_s",
    "mode",
)


def _parse_float(extra: Mapping[str, str], key: str, default: float, lo: float, hi: float) -> float:
    raw = extra.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"local engine option {key} must be a number, got {raw!r}") from None
    if not (lo <= value <= hi) or math.isnan(value):
        raise ValueError(f"local engine option {key} must be between {lo:g} and {hi:g}, got {raw!r}")
    return value


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
        mode = extra.get("mode", "normal").strip().lower() or "normal"
        if mode not in ("normal", "fast"):
            raise ValueError(f"local engine option mode must be normal or fast, got {mode!r}")
        silence = DEFAULT_SILENCE_MS if options.silence_ms is None else int(options.silence_ms)
        return cls(
            silence_ms=max(MIN_SILENCE_MS, silence),
            boost=tuple(t.strip() for t in options.word_boost if t.strip()),
            boost_weight=_parse_float(extra, "boost_weight", 500.0, 1.0, 1e6),
            interim_ms=int(_parse_float(extra, "interim_ms", 250, 30, 10_000)),
            rtf_budget=_parse_float(extra, "rtf_budget", 0.9, 0.0, 100.0),
            lag_budget_ms=int(_parse_float(extra, "lag_budget_ms", 1500, 0, 600_000)),
            max_lag_ms=int(_parse_float(extra, "max_lag_ms", 6000, 0, 600_000)),
            vad_mode=int(_parse_float(extra, "vad_mode", 0, 0, 3)),
            max_utterance_s=_parse_float(extra, "max_utterance_s", 15.0, 1.0, 600.0),
            fast=mode == "fast",
        )
