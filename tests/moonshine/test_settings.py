"""The Moonshine engine's options: defaults, ranges, word boost limits, and plain-words errors."""

from __future__ import annotations

import pytest

from captioner.engines.base import EngineOptions, check_word_boost
from captioner.engines.moonshine.engine import MoonshineEngine
from captioner.engines.moonshine.settings import KNOWN_EXTRA, MAX_TERMS, MoonshineSettings


def test_defaults() -> None:
    s = MoonshineSettings.from_options(EngineOptions())
    assert (s.silence_ms, s.interim, s.threads, s.max_segment_s, s.boost) == (500, True, 1, 8.0, ())
    assert s.boost_score == 3.0


def test_options_are_parsed() -> None:
    extra = {"interim": "off", "threads": "2", "boost_score": "1.5", "max_segment_s": "12"}
    s = MoonshineSettings.from_options(EngineOptions(language="en-GB", silence_ms=800, extra=extra))
    assert (s.silence_ms, s.interim, s.threads, s.boost_score, s.max_segment_s) == (800, False, 2, 1.5, 12.0)
    assert MoonshineSettings.from_options(EngineOptions(silence_ms=0)).silence_ms == 100
    assert MoonshineSettings.from_options(EngineOptions(extra={"threads": ""})).threads == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (EngineOptions(language="fr"), "only knows English"),
        (EngineOptions(extra={"beam": "4"}), "unknown Moonshine engine option"),
        (EngineOptions(extra={"threads": "0"}), "Decoder threads must be an integer between 1 and 16"),
        (EngineOptions(extra={"interim": "maybe"}), "Interim text must be true or false"),
        (EngineOptions(extra={"boost_score": "lots"}), "Word boost strength must be a number"),
    ],
)
def test_bad_options_are_rejected_plainly(options: EngineOptions, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MoonshineEngine(options)


def test_word_boost_limits() -> None:
    terms = (*(f"term{i}" for i in range(MAX_TERMS + 5)), "x" * 51, " term0 ", "New  York")
    s = MoonshineSettings.from_options(EngineOptions(word_boost=terms))
    assert len(s.boost) == MAX_TERMS and s.boost[0] == "term0"
    kept, warnings = check_word_boost(MoonshineEngine.capabilities, terms)
    assert len(kept) == MAX_TERMS and len(warnings) == 2
    assert MoonshineSettings.from_options(EngineOptions(word_boost=("New  York",))).boost == ("New York",)


def test_every_option_has_a_spec() -> None:
    assert {spec.key for spec in MoonshineEngine.advanced_options} == set(KNOWN_EXTRA)
    caps = MoonshineEngine.capabilities
    assert caps.sample_rate == 16000 and caps.languages == ("en",)
    assert caps.interim_results and caps.word_boost and caps.live_update and caps.silence_threshold
