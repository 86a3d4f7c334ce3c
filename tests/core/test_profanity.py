"""The profanity filter: which words, how they are masked, and where (CLI output and files; the autosave raw)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from captioner import cli, paths
from captioner.captions.events import Final, Interim, Word
from captioner.captions.profanity import is_profane, mask, mask_event
from tests.core.test_cli import write_wav
from tests.support.scripted_engine import Script, ScriptedEngine


@pytest.mark.parametrize(
    "word",
    ["fuck", "Fucking", "motherfucker", "shit", "shitty", "bullshit", "cunts", "bitches", "asshole", "wanker"],
)
def test_profane_words_and_their_endings(word: str) -> None:
    assert is_profane(word)


@pytest.mark.parametrize(
    "word", ["Scunthorpe", "assistant", "cocktail", "class", "shitake", "bass", "hello", "Dickens", "damn", "hell"]
)
def test_ordinary_and_mild_words_are_left_alone(word: str) -> None:
    assert not is_profane(word)


def test_mask_keeps_the_first_letter_and_the_length() -> None:
    text = "for good ol' fuck evil, Shit! fuckin' hell"
    masked = mask(text)
    assert masked == "for good ol' f*** evil, S***! f*****' hell"
    assert len(masked) == len(text) and mask(masked) == masked


def test_an_interim_keeps_its_tentative_tail_aligned() -> None:
    ev = mask_event(Interim(line_id="1", text="what the fuck is", engine="e", tail="fuck is"))
    assert isinstance(ev, Interim) and (ev.text, ev.tail, ev.stable) == ("what the f*** is", "f*** is", "what the")
    words = (Word(text="shit", start=0.0, end=0.3),)
    final = mask_event(Final(line_id="1", text="shit", engine="e", words=words))
    assert isinstance(final, Final) and final.text == "s***" and final.words[0].text == "s***"


class SwearingEngine(ScriptedEngine):
    """Says the same swear word in every line."""

    def name_of(self, chunk):
        return "fucking"


@pytest.fixture
def swearing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from captioner.engines import registry

    SwearingEngine.script = Script()
    registry.register(registry.EngineInfo("swearing", "Swearing", __name__, "SwearingEngine", "test"))
    yield
    registry.ENGINES.pop("swearing", None)


@pytest.mark.parametrize("fmt", ["text", "jsonl", "srt", "vtt"])
def test_cli_masks_its_output_and_files_but_the_autosave_keeps_every_word(
    swearing: None, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = write_wav(tmp_path / "a.wav", seconds=0.5)
    out_file = tmp_path / f"out.{fmt}"
    args = ["caption", "--engine", "swearing", "--source", str(wav), "--no-realtime", "--format", fmt]
    assert cli.main([*args, "--output", str(out_file)]) == 0
    shown = capsys.readouterr().out + out_file.read_text()
    assert "f******" in shown and "fucking" not in shown
    saved = [json.loads(r) for p in paths.transcripts_dir().glob("*.jsonl") for r in p.read_text().splitlines()]
    assert saved and all("fucking" in r["text"] for r in saved)
    assert cli.main([*args, "--no-filter-profanity", "--no-autosave"]) == 0
    assert "fucking" in capsys.readouterr().out
