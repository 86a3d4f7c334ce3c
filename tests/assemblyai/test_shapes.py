"""Today's turn shapes through the engine and a real Session: the U3 family, Whisper's silence turns,
the formatted end of turn arriving late, an end of turn with no words, and the model picked for a
language (audio paced at 1× against the fake server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from captioner.captions.events import Notice
from captioner.engines.base import EngineOptions
from tests.assemblyai.helpers import KEY, SCRIPT, reference_pcm, run_session, write_noise_wav
from tests.support.fakes.assemblyai import FakeAssemblyAI, ScriptTurn, make_turn


def opts(fake: FakeAssemblyAI, **kw: Any) -> EngineOptions:
    return EngineOptions(endpoint=fake.url, extra=kw.pop("extra", {}), **kw)


def paused_turn(start: float = 0.2) -> ScriptTurn:
    first = make_turn(start, "my name is", "My name is")
    second = make_turn(start + 1.5, "sonny", "Sonny.")
    return ScriptTurn(first.words + second.words)


@pytest.mark.parametrize("model", ["u3-rt-pro", "universal-3-5-pro"])
async def test_u3_partial_is_shown_once_not_twice(tmp_path: Path, model: str) -> None:
    wav = write_noise_wav(tmp_path / "3s.wav", 3.0)
    async with FakeAssemblyAI(keys=(KEY,), script=(paused_turn(),), reference_pcm=reference_pcm(wav)) as fake:
        res = await run_session(wav, opts(fake, extra={"speech_model": model}))
    assert res.error is None
    texts = [i.text for i in res.interims()]
    assert "My name is—" in texts
    for interim in res.interims():
        # The whole U3 partial is tentative: shown once, all of it as the tail.
        assert interim.text.count("My") == 1, interim.text
        assert interim.tail == interim.text and interim.stable == ""
    assert res.lines() == ["My name is Sonny."]
    assert [f.formatted for f in res.finals()] == [True]


async def test_whisper_silence_turns_are_not_captions(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "4s.wav", 4.2)
    script = (make_turn(0.2, "annyeong haseyo", "Annyeong haseyo.", language="ko"), make_turn(3.0, "x", tag="Music"))
    async with FakeAssemblyAI(keys=(KEY,), script=script, reference_pcm=reference_pcm(wav)) as fake:
        res = await run_session(wav, opts(fake, language="ko", word_boost=("Seoul",)))
    assert res.error is None
    rec = fake.connections[0]
    # Korean is neither a Universal-Streaming nor a Universal-3.5 Pro language: Whisper, which takes no keyterms.
    assert rec.params["speech_model"] == "whisper-rt"
    assert "keyterms_prompt" not in rec.params and "language" not in rec.params
    notices = [e.message for e in res.events if isinstance(e, Notice)]
    assert any("whisper-rt takes no word boost" in n and "1 term(s) ignored" in n for n in notices)
    silent = [m for m in rec.sent if m.get("type") == "Turn" and m["utterance"].startswith("[")]
    assert len(silent) >= 2  # the fake did send [Silence] and [Music] turns
    assert res.lines() == ["Annyeong haseyo."]
    assert not any("silence" in i.text.lower() or "music" in i.text.lower() for i in res.interims())
    assert [line.language for line in res.transcript.finals] == ["ko"]


async def test_a_u3_5_language_goes_to_universal_3_5_pro_with_language_codes(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "1s.wav", 1.0)
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        res = await run_session(wav, opts(fake, language="ja", word_boost=("Tokyo",)))
    assert res.error is None
    rec = fake.connections[0]
    assert rec.params["speech_model"] == "universal-3-5-pro"
    assert rec.params["language_codes"] == ["ja"] and rec.params["keyterms_prompt"] == ["Tokyo"]
    assert "format_turns" not in rec.params  # finals of the U3 family are always formatted


async def test_late_formatted_end_of_turn_replaces_its_own_line(wav_2s5: Path) -> None:
    async with FakeAssemblyAI(
        keys=(KEY,), script=SCRIPT, reference_pcm=reference_pcm(wav_2s5), format_lag=0.6, empty_force_endpoint=True
    ) as fake:
        res = await run_session(wav_2s5, opts(fake))
    assert res.error is None
    kinds = [
        (m["turn_order"], m["end_of_turn"], m["turn_is_formatted"])
        for m in fake.connections[0].sent
        if "turn_order" in m
    ]
    assert kinds.index((1, False, False)) < kinds.index((0, True, True))  # interleaved, as the fake promised
    assert res.lines() == ["Hello world.", "Good morning, everyone."]
    # The empty end of turn (ForceEndpoint with nothing said) adds no line and no empty final.
    assert all(f.text for f in res.finals())
