"""The recogniser with a stand-in decoder: the no-speech checks, the interim cadence, cancelling, stale interims."""

from __future__ import annotations

import itertools
import threading
import time

import numpy as np
import pytest

from captioner.audio.base import AudioChunk, to_pcm16
from captioner.captions.events import EngineEvent, Final, Interim, SpeechStarted
from captioner.engines.moonshine.biasing import BiasTrie
from captioner.engines.moonshine.decoder import Cancel, Decoded, MoonshineDecoder
from captioner.engines.moonshine.recognizer import Recognizer, is_filler
from captioner.engines.moonshine.settings import MoonshineSettings
from captioner.engines.moonshine.tokenizer import Tokenizer, clean_text, drop_repeated_tail
from tests.moonshine.helpers import RATE, samples


class StubDecoder:
    """Says ``text`` for any audio, taking ``seconds``; records what it was asked."""

    def __init__(self, tokenizer: Tokenizer, text: str, seconds: float = 0.0) -> None:
        self.tokens = tuple(tokenizer.encode(text)) if text else ()
        self.seconds = seconds
        self.calls: list[float] = []
        self.started = threading.Event()

    def transcribe(self, audio: np.ndarray, *, bias: BiasTrie | None = None, cancel: Cancel | None = None) -> Decoded:
        self.calls.append(len(audio) / RATE)
        self.started.set()
        end = time.monotonic() + self.seconds
        while time.monotonic() < end:
            if cancel is not None and cancel.cancelled:
                return Decoded(tokens=(), stop="cancelled", steps=0)
            time.sleep(0.002)
        return Decoded(tokens=self.tokens, stop="end", steps=len(self.tokens))


def _recognizer(tokenizer: Tokenizer, stub: StubDecoder, **settings: object) -> Recognizer:
    decoder: MoonshineDecoder = stub  # type: ignore[assignment]
    return Recognizer(MoonshineSettings(**settings), decoder, tokenizer, "moonshine", itertools.count())  # type: ignore[arg-type]


def _feed(rec: Recognizer, audio: np.ndarray, *, finish: bool = True) -> list[EngineEvent]:
    out: list[EngineEvent] = []
    step = RATE // 20
    for i in range(0, len(audio), step):
        piece = audio[i : i + step]
        out += rec.feed(AudioChunk(pcm=to_pcm16(piece), sample_rate=RATE, start=i / RATE, captured_at=0.0))
    return out + (rec.finish() if finish else [])


def test_text_checks() -> None:
    assert clean_text("  Hello,   world. ") == "Hello, world."
    assert clean_text(" ... ?! ") == ""
    assert is_filler("The.") and is_filler("um") and not is_filler("The end.") and not is_filler("Yes.")
    said = "It was the best of times it was the best of times"
    assert drop_repeated_tail(said) == "It was the best of times"
    assert drop_repeated_tail("It was the age of wisdom. It was the age of wisdom.") == "It was the age of wisdom."
    assert drop_repeated_tail("no, no, no") == "no, no, no"  # units of fewer than three words stay


def test_a_lone_filler_at_the_end_of_the_input_is_dropped(tokenizer: Tokenizer) -> None:
    audio = samples("beckett.wav", 0.0, 1.3)  # "Ever tried." with no pause after it: flushed at the end
    events = _feed(_recognizer(tokenizer, StubDecoder(tokenizer, "The")), audio)
    assert not [e for e in events if isinstance(e, Final)], events
    events = _feed(_recognizer(tokenizer, StubDecoder(tokenizer, "Ever tried.")), audio)
    assert [e.text for e in events if isinstance(e, Final)] == ["Ever tried."]


def test_too_little_voiced_audio_is_not_decoded(tokenizer: Tokenizer) -> None:
    stub = StubDecoder(tokenizer, "Hello.")
    audio = np.concatenate([np.zeros(RATE, dtype=np.float32), samples("beckett.wav", 0.33, 0.45)])
    events = _feed(_recognizer(tokenizer, stub, interim=False), np.concatenate([audio, np.zeros(RATE, np.float32)]))
    assert stub.calls == [] and not [e for e in events if isinstance(e, Final)]


def test_interims_wait_three_decode_times_between_them(tokenizer: Tokenizer) -> None:
    stub = StubDecoder(tokenizer, "It was the best of times", seconds=0.2)
    rec = _recognizer(tokenizer, stub)
    audio = samples("two_cities.wav", 0.0, 6.0)
    starts: list[float] = []
    step = RATE // 20
    for i in range(0, len(audio), step):
        chunk = AudioChunk(pcm=to_pcm16(audio[i : i + step]), sample_rate=RATE, start=i / RATE, captured_at=0.0)
        rec.feed(chunk)
        job = rec.interim_job()
        if job is not None:
            starts.append(job.end)
            rec.run_interim(job)
    assert len(starts) >= 3
    assert starts[0] - 1.2 <= 0.5  # speech starts ~1.2 s in; first interim once 400 ms of it are there
    gaps = np.diff(starts)
    assert min(gaps) >= 0.6 - 0.05, gaps  # 3 x 0.2 s decode, more than the 400 ms floor
    assert rec.stats.interims == 1  # the text never changed: one interim event


def test_a_closing_line_cancels_its_interim_and_drops_the_stale_result(tokenizer: Tokenizer) -> None:
    stub = StubDecoder(tokenizer, "Ever tried.", seconds=5.0)
    rec = _recognizer(tokenizer, stub)
    audio = samples("beckett.wav", 0.0, 1.0)
    events = _feed(rec, audio, finish=False)
    job = rec.interim_job()
    assert job is not None and isinstance(events[0], SpeechStarted)
    result: list[list[EngineEvent]] = []
    worker = threading.Thread(target=lambda: result.append(rec.run_interim(job)))
    worker.start()
    assert stub.started.wait(2)
    stub.seconds = 0.0  # the final decodes at once
    t = time.monotonic()
    closing = rec.finish()
    worker.join(2)
    assert time.monotonic() - t < 1.0  # the final did not wait for the 5 s interim
    assert job.cancel.cancelled and result == [[]]
    assert [type(e) for e in closing] == [Final] and rec.stats.interims_cancelled == 1
    assert not [e for e in events if isinstance(e, Interim)]


def test_settings_apply_at_the_next_segment(tokenizer: Tokenizer) -> None:
    rec = _recognizer(tokenizer, StubDecoder(tokenizer, "Ever tried."), interim=False)
    _feed(rec, samples("beckett.wav", 0.0, 0.8), finish=False)  # in speech
    rec.request_update(MoonshineSettings(silence_ms=1500, boost=("Nagg",), interim=False))
    assert rec.segmenter.silence_ms == 500 and rec.bias.terms == ()
    rec.finish()
    assert rec.segmenter.silence_ms == 1500 and rec.bias.terms == ("Nagg",)


@pytest.mark.parametrize("gap", [0.3, -0.5])
def test_a_jump_in_the_timeline_closes_the_line(tokenizer: Tokenizer, gap: float) -> None:
    rec = _recognizer(tokenizer, StubDecoder(tokenizer, "Ever tried."), interim=False)
    events = _feed(rec, samples("beckett.wav", 0.0, 1.0), finish=False)
    later = AudioChunk(pcm=to_pcm16(np.zeros(800, np.float32)), sample_rate=RATE, start=1.0 + gap, captured_at=0.0)
    events += rec.feed(later)
    assert [e.text for e in events if isinstance(e, Final)] == ["Ever tried."]
