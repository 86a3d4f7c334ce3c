"""The Moonshine decoder on ONNX Runtime: real speech to text, the token budget, the repetition guard, cancel."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from captioner.engines.moonshine.decoder import Cancel, MoonshineDecoder, repetition_cut, token_budget
from captioner.engines.moonshine.tokenizer import Tokenizer
from tests.moonshine.helpers import samples
from tests.support.speech import TRANSCRIPTS, wer


def test_transcribes_real_speech_with_capitals_and_punctuation(decoder: MoonshineDecoder, tokenizer: Tokenizer) -> None:
    out = decoder.transcribe(samples("beckett.wav"))
    text = tokenizer.decode(out.tokens)
    assert out.stop == "end"
    assert wer(TRANSCRIPTS["beckett.wav"], text) <= 0.1, text
    assert text[0].isupper() and text.rstrip()[-1] in ".!?", text


def test_silence_decodes_to_nothing(decoder: MoonshineDecoder) -> None:
    assert decoder.transcribe(np.zeros(16000, dtype=np.float32)).tokens == ()


def test_token_budget_is_about_six_and_a_half_per_second() -> None:
    assert token_budget(0.0) == 4
    assert token_budget(2.0) == 17
    assert token_budget(8.0) == 56


def test_repetition_guard_cuts_loops_but_keeps_a_line_said_twice() -> None:
    sentence = [10, 11, 12, 13, 14]
    assert repetition_cut(sentence * 2) is None  # "Ah, that's a good story." twice is speech
    assert repetition_cut([1, *sentence * 3]) == 1 + 10  # a third copy is a loop: drop it
    assert repetition_cut([7, 7, 7]) is None  # "no no no"
    assert repetition_cut([5, 7, 7, 7, 7]) == 4
    assert repetition_cut([1, 2, 3]) is None


def test_budget_stops_a_decode(decoder: MoonshineDecoder, monkeypatch: pytest.MonkeyPatch) -> None:
    import captioner.engines.moonshine.decoder as mod

    monkeypatch.setattr(mod, "token_budget", lambda seconds: 3)
    out = decoder.transcribe(samples("two_cities.wav", 1.0, 5.0))
    assert out.stop == "budget" and len(out.tokens) == 3


def test_cancel_from_another_thread_stops_a_decode(decoder: MoonshineDecoder) -> None:
    audio = samples("two_cities.wav", 1.0, 8.0)
    cancel = Cancel()
    cancel.cancel()
    assert decoder.transcribe(audio, cancel=cancel).stop == "cancelled"
    cancel = Cancel()
    timer = threading.Timer(0.05, cancel.cancel)
    timer.start()
    out = decoder.transcribe(audio, cancel=cancel)
    timer.join()
    assert out.stop == "cancelled"
