"""Two Moonshine engines at once (meeting mode) load the model once: they share the decoder and the VAD
session, caption independently, and the model is freed when the last one ends."""

from __future__ import annotations

import asyncio
import gc
import weakref

import numpy as np
import pytest

from captioner.captions.events import EngineEvent
from captioner.engines.base import EngineOptions
from captioner.engines.moonshine import decoder as decoder_module
from captioner.engines.moonshine import model
from captioner.engines.moonshine.engine import MoonshineEngine
from captioner.engines.moonshine.recognizer import Recognizer
from tests.moonshine.helpers import chunks_of, samples, text_of
from tests.support.speech import TRANSCRIPTS, wer


async def test_two_engines_at_once_share_one_model_and_caption_independently() -> None:
    if model.find_model() is None and model.wheel_model_dir() is None:
        pytest.skip("needs the moonshine-cpp wheel's model files (or a prepared model)")
    beckett, cities = samples("beckett.wav"), samples("two_cities.wav", 0.0, 10.0)
    a, b = MoonshineEngine(EngineOptions()), MoonshineEngine(EngineOptions())
    results = await asyncio.wait_for(
        asyncio.gather(
            *(asyncio.create_task(collect_and_keep(engine, audio)) for engine, audio in ((a, beckett), (b, cities)))
        ),
        120,
    )
    (events_a, rec_a), (events_b, rec_b) = results
    assert rec_a.decoder is rec_b.decoder
    assert rec_a.vad._session is rec_b.vad._session
    assert rec_a.vad is not rec_b.vad  # each stream keeps its own VAD state
    assert wer(TRANSCRIPTS["beckett.wav"], text_of(events_a)) <= 0.2
    assert "best of times" in text_of(events_b).lower()
    shared = weakref.ref(rec_a.decoder)
    del rec_a, rec_b, a, b, results
    gc.collect()
    assert shared() is None  # nobody holds the model any more: it is freed
    assert all(ref() is None for ref in decoder_module._shared.values())


async def collect_and_keep(engine: MoonshineEngine, audio: np.ndarray) -> tuple[list[EngineEvent], Recognizer]:
    events = [ev async for ev in engine.stream(chunks_of(audio))]
    assert engine.recognizer is not None
    return events, engine.recognizer
