"""The Moonshine engine's options: :class:`MoonshineSettings`, parsed and validated from :class:`EngineOptions`.

Owns the option names and specs (:data:`ADVANCED_OPTIONS`, keys of ``EngineOptions.extra``), their
defaults and ranges, the word boost limits, and the error messages that the CLI turns into exit status 2.
Knows nothing about ONNX Runtime.
"""

from __future__ import annotations

from dataclasses import dataclass

from captioner.engines.base import EngineOptions, OptionSpec
from captioner.engines.moonshine.biasing import DEFAULT_SCORE

DEFAULT_SILENCE_MS = 500
MIN_SILENCE_MS = 100
MAX_SILENCE_MS = 60_000
MAX_TERMS = 200
MAX_TERM_CHARS = 50
DEFAULT_MAX_SEGMENT_S = 8.0

ADVANCED_OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        key="interim",
        label="Interim text",
        kind="bool",
        default="true",
        help="show the words of a line while it is being spoken (costs about a quarter of a core)",
    ),
    OptionSpec(
        key="threads",
        label="Decoder threads",
        kind="int",
        default="1",
        minimum=1,
        maximum=16,
        help="CPU threads for one decode; one is enough in real time and leaves the other cores free",
    ),
    OptionSpec(
        key="boost_score",
        label="Word boost strength",
        kind="float",
        default=f"{DEFAULT_SCORE:g}",
        minimum=0,
        maximum=20,
        help="bonus per token of a boosted term (log-probability); higher finds the terms more often "
        "but may put them where they were not said",
    ),
    OptionSpec(
        key="max_segment_s",
        label="Longest line (seconds)",
        kind="float",
        default=f"{DEFAULT_MAX_SEGMENT_S:g}",
        minimum=2,
        maximum=30,
        help="speech without a pause is cut into lines of at most this length, at the quietest moment",
    ),
)
KNOWN_EXTRA = tuple(spec.key for spec in ADVANCED_OPTIONS)


def boost_terms(terms: tuple[str, ...]) -> tuple[str, ...]:
    """The terms word boost uses: stripped, distinct, at most ``MAX_TERM_CHARS`` long, the first ``MAX_TERMS``."""
    kept: list[str] = []
    for term in terms:
        t = " ".join(term.split())
        if t and len(t) <= MAX_TERM_CHARS and t not in kept:
            kept.append(t)
    return tuple(kept[:MAX_TERMS])


@dataclass(frozen=True, slots=True)
class MoonshineSettings:
    """The engine's options, parsed and validated."""

    silence_ms: int = DEFAULT_SILENCE_MS
    boost: tuple[str, ...] = ()
    boost_score: float = DEFAULT_SCORE
    interim: bool = True
    threads: int = 1
    max_segment_s: float = DEFAULT_MAX_SEGMENT_S

    @classmethod
    def from_options(cls, options: EngineOptions) -> MoonshineSettings:
        """Parse ``options``; ``ValueError`` with a plain-words message when one is not acceptable."""
        lang = (options.language or "en").lower()
        if lang.split("-")[0].split("_")[0] != "en":
            raise ValueError(f"the Moonshine engine only knows English (en), not {options.language!r}")
        specs = {spec.key: spec for spec in ADVANCED_OPTIONS}
        unknown = [k for k in options.extra if k not in specs]
        if unknown:
            raise ValueError(
                f"unknown Moonshine engine option(s): {', '.join(unknown)}; known: {', '.join(KNOWN_EXTRA)}"
            )
        values = {key: specs[key].check(raw) or specs[key].default for key, raw in options.extra.items()}
        values = {key: values.get(key) or spec.default for key, spec in specs.items()}
        silence = DEFAULT_SILENCE_MS if options.silence_ms is None else int(options.silence_ms)
        return cls(
            silence_ms=min(MAX_SILENCE_MS, max(MIN_SILENCE_MS, silence)),
            boost=boost_terms(options.word_boost),
            boost_score=float(values["boost_score"]),
            interim=values["interim"] == "true",
            threads=int(values["threads"]),
            max_segment_s=float(values["max_segment_s"]),
        )
