"""The one parser of engine options (captioner.engines.options): the settings panel and the engines agree."""

from __future__ import annotations

import pytest

from captioner.engines import base
from captioner.engines.assemblyai.config import parse_config
from captioner.engines.base import EngineOptions
from captioner.engines.options import FALSE_WORDS, TRUE_WORDS, OptionSpec

FLAG = OptionSpec("flag", "A flag", "bool", default="true")
WHOLE = OptionSpec("n", "Count", "int", minimum=1, maximum=1_000_000)
REAL = OptionSpec("x", "Ratio", "float", minimum=0, maximum=1)
PICK = OptionSpec("enc", "Encoding", "choice", choices=("pcm_s16le", "pcm_mulaw"), aliases=(("ulaw", "pcm_mulaw"),))
URL = OptionSpec("url", "Address", "text", pattern=r"https?://\S+", pattern_hint="an http(s) URL")


def test_still_importable_from_base() -> None:
    assert base.OptionSpec is OptionSpec and base.TRUE_WORDS is TRUE_WORDS


def test_one_table_of_bool_words_and_empty_is_not_a_word() -> None:
    assert "" not in TRUE_WORDS and "" not in FALSE_WORDS
    for word in TRUE_WORDS:
        assert FLAG.check(word.upper()) == "true"
    for word in FALSE_WORDS:
        assert FLAG.check(f" {word} ") == "false"
    with pytest.raises(ValueError, match="A flag must be true or false"):
        FLAG.check("maybe")


@pytest.mark.parametrize("raw", ["", "   "])
def test_empty_means_not_set_so_the_default_applies(raw: str) -> None:
    assert FLAG.check(raw) == WHOLE.check(raw) == PICK.check(raw) == URL.check(raw) == ""
    assert FLAG.flag({"flag": raw}, "Test") is True  # the default, not "off"
    assert WHOLE.integer({"n": raw}, "Test", None) is None
    assert WHOLE.integer({"n": raw}, "Test", 7) == 7
    assert PICK.choice({}, "Test") == ""
    assert URL.text({"url": raw}, "Test") is None


def test_empty_format_turns_keeps_formatting_on() -> None:
    """The AssemblyAI parser used to read "" as off; "" is "not set" like everywhere else."""
    assert parse_config(EngineOptions(extra={"format_turns": ""})).format_turns is True
    assert parse_config(EngineOptions(extra={"format_turns": "off"})).format_turns is False
    assert parse_config(EngineOptions(extra={"finals_only": "", "token": ""})).finals_only is False


def test_numbers_whole_and_ranged_with_plain_messages() -> None:
    assert WHOLE.check("1e3") == WHOLE.check("1000.0") == "1000"
    assert WHOLE.integer({"n": "42"}, "Test", None) == 42
    with pytest.raises(ValueError, match=r"^Count must be a whole number, got '2.5'$"):
        WHOLE.check("2.5")
    with pytest.raises(ValueError, match=r"^Test option n must be an integer between 1 and 1000000, got '0'$"):
        WHOLE.integer({"n": "0"}, "Test", None)
    for bad in ("abc", "nan", "inf"):
        with pytest.raises(ValueError, match="must be a number"):
            REAL.check(bad)
    with pytest.raises(ValueError, match="Ratio must be a number between 0 and 1"):
        REAL.check("1.5")
    assert REAL.check("0.123456789") == "0.123456789"  # normalised without losing digits
    assert REAL.number({"x": "0.25"}, "Test", None) == 0.25
    assert OptionSpec("t", "T", "float", minimum=0.1).range_text() == "at least 0.1"


def test_choices_ignore_case_and_take_aliases() -> None:
    assert PICK.check("PCM_S16LE") == "pcm_s16le"
    assert PICK.choice({"enc": "ULAW"}, "Test") == "pcm_mulaw"
    with pytest.raises(ValueError, match="enc must be one of pcm_s16le, pcm_mulaw, got 'opus'"):
        PICK.choice({"enc": "opus"}, "Test")


def test_text_pattern() -> None:
    assert URL.text({"url": " https://id.example/token "}, "Test") == "https://id.example/token"
    with pytest.raises(ValueError, match="Test option url must be an http\\(s\\) URL, got 'ftp://x'"):
        URL.text({"url": "ftp://x"}, "Test")


def test_h2b_limits_are_written_once() -> None:
    """The settings panel's fields and SET-PARAMS read the same specs."""
    from captioner.engines.uhlive.h2b import UhliveH2BEngine
    from captioner.engines.uhlive.h2b_protocol import H2B_OPTIONS, session_params

    assert UhliveH2BEngine.advanced_options[1:] == H2B_OPTIONS
    assert session_params(EngineOptions(extra={"no_input_timeout": " 45000.0 "}))["no_input_timeout"] == 45000
    assert session_params(EngineOptions(extra={"recognition_timeout": ""}))["recognition_timeout"] == 30000
    with pytest.raises(
        ValueError, match="Uhlive option recognition_timeout must be an integer between 2000 and 600000"
    ):
        session_params(EngineOptions(extra={"recognition_timeout": "1000"}))


def test_uhlive_conversation_checks_model_and_country_like_the_panel() -> None:
    from captioner.engines.uhlive.conversation import UhliveConversationEngine

    engine = UhliveConversationEngine(EngineOptions(language="en", extra={"country": "GB", "model": "en"}))
    assert (engine.model, engine.country) == ("en", "gb")
    with pytest.raises(ValueError, match="Uhlive option country must be a two-letter country code"):
        UhliveConversationEngine(EngineOptions(extra={"country": "France"}))


def test_local_whole_number_options_are_not_truncated() -> None:
    from captioner.engines.local.settings import LocalSettings

    assert LocalSettings.from_options(EngineOptions(extra={"interim_ms": "300", "mode": "FAST"})).interim_ms == 300
    assert LocalSettings.from_options(EngineOptions(extra={"mode": "FAST"})).fast
    with pytest.raises(ValueError, match=r"local engine option vad_mode must be a whole number, got '1\.5'"):
        LocalSettings.from_options(EngineOptions(extra={"vad_mode": "1.5"}))
    with pytest.raises(ValueError, match="local engine option mode must be one of normal, fast"):
        LocalSettings.from_options(EngineOptions(extra={"mode": "slow"}))
