"""The Moonshine engine's real-time guard and failures: drop interims, then hand over to the light engine.

A stand-in decoder "takes" a set share of real time on a fake clock, so falling behind is simulated in a
fraction of a second and without depending on this machine's speed.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator
from types import SimpleNamespace

import numpy as np
import pytest

import captioner.engines.moonshine.engine as engine_mod
import captioner.engines.moonshine.recognizer as recognizer_mod
from captioner.audio.base import AudioChunk, to_pcm16
from captioner.captions.events import EngineEvent, EngineState, Final, Interim, Status
from captioner.engines.base import EngineFailure, EngineOptions
from captioner.engines.moonshine.biasing import BiasTrie
from captioner.engines.moonshine.decoder import Cancel, Decoded
from captioner.engines.moonshine.engine import MoonshineEngine
from captioner.engines.moonshine.model import ModelUnavailable
from captioner.engines.moonshine.recognizer import Recognizer
from captioner.engines.moonshine.settings import MoonshineSettings
from captioner.engines.moonshine.tokenizer import Tokenizer
from captioner.engines.moonshine.vad import SileroVad
from tests.moonshine.helpers import RATE, samples


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds

    def wait_until(self, t: float) -> None:
        with self._lock:
            self.now = max(self.now, t)


class SlowDecoder:
    """Decodes in ``rtf`` x the audio's duration on the fake clock."""

    def __init__(self, tokenizer: Tokenizer, clock: Clock, rtf: float) -> None:
        self.tokens = tuple(tokenizer.encode("Hello there."))
        self.clock, self.rtf = clock, rtf

    def transcribe(self, audio: np.ndarray, *, bias: BiasTrie | None = None, cancel: Cancel | None = None) -> Decoded:
        self.clock.advance(self.rtf * len(audio) / RATE)
        return Decoded(tokens=self.tokens, stop="end", steps=1)


def _run(tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch, rtf: float, seconds: float) -> list[EngineEvent]:
    clock = Clock()
    monkeypatch.setattr(engine_mod, "time", SimpleNamespace(monotonic=clock.monotonic))
    monkeypatch.setattr(recognizer_mod, "time", SimpleNamespace(perf_counter=clock.monotonic))

    def load(settings: MoonshineSettings, engine_id: str, ids: itertools.count[int], progress: object) -> Recognizer:
        slow = SlowDecoder(tokenizer, clock, rtf)
        return Recognizer(settings, slow, tokenizer, engine_id, ids, SileroVad())  # type: ignore[arg-type]

    monkeypatch.setattr(engine_mod, "load_recognizer", load)
    speech = samples("two_cities.wav", 0.0, 44.0)
    audio = np.tile(speech, int(np.ceil(seconds / 44.0)))[: int(seconds * RATE)]
    t0 = clock.monotonic()

    async def live() -> AsyncIterator[AudioChunk]:
        step = RATE // 20
        for i in range(0, len(audio), step):
            start = i / RATE
            captured = t0 + start + step / RATE
            clock.wait_until(captured)  # a live source: a block exists once it has been captured
            yield AudioChunk(pcm=to_pcm16(audio[i : i + step]), sample_rate=RATE, start=start, captured_at=captured)

    events: list[EngineEvent] = []

    async def consume() -> None:
        async for ev in MoonshineEngine(EngineOptions()).stream(live()):
            events.append(ev)

    try:
        asyncio.run(asyncio.wait_for(consume(), 60))
    except EngineFailure as exc:
        events.append(Status(engine="test", state=EngineState.STOPPED, message=f"failure {exc.fallback} {exc}"))
        assert exc.retryable
    return events


def _degraded(events: list[EngineEvent]) -> list[str]:
    return [e.message for e in events if isinstance(e, Status) and e.state is EngineState.DEGRADED]


def _failure(events: list[EngineEvent]) -> list[str]:
    return [e.message for e in events if isinstance(e, Status) and e.state is EngineState.STOPPED]


def test_keeping_up_changes_nothing(tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _run(tokenizer, monkeypatch, rtf=0.05, seconds=88.0)  # this VM decodes at ~0.03
    assert not _degraded(events)
    assert len([e for e in events if isinstance(e, Final)]) >= 10


def test_too_slow_for_interims_drops_them_and_goes_on_with_finals(
    tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _run(tokenizer, monkeypatch, rtf=0.5, seconds=88.0)
    degraded = _degraded(events)
    assert len(degraded) == 1 and "finals only: this computer is too slow for live interim text" in degraded[0]
    assert not _failure(events)
    at = next(i for i, e in enumerate(events) if isinstance(e, Status) and e.state is EngineState.DEGRADED)
    assert not [e for e in events[at:] if isinstance(e, Interim)]
    assert len([e for e in events[at:] if isinstance(e, Final)]) >= 5


def test_too_slow_even_for_finals_hands_over_to_the_light_engine(
    tokenizer: Tokenizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _run(tokenizer, monkeypatch, rtf=1.5, seconds=88.0)
    assert len(_degraded(events)) == 1  # interims went first
    failure = _failure(events)
    assert len(failure) == 1 and failure[0].startswith("failure local ")
    assert "too slow" in failure[0] and "light offline engine takes over" in failure[0]


def test_a_model_that_cannot_be_prepared_hands_over_to_the_light_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(progress: object = None) -> None:
        raise ModelUnavailable("The Moonshine base English model is not available: no network.")

    monkeypatch.setattr(engine_mod, "ensure_model", unavailable)

    async def nothing() -> AsyncIterator[AudioChunk]:
        return
        yield

    async def consume() -> None:
        async for _ in MoonshineEngine(EngineOptions()).stream(nothing()):
            pass

    with pytest.raises(EngineFailure) as info:
        asyncio.run(consume())
    assert info.value.fallback == "local" and not info.value.retryable
    assert "no network" in info.value.message and "light offline engine takes over" in info.value.message


def test_availability_does_not_load_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    import captioner.engines.moonshine.decoder as decoder_mod

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("check_available loaded the model")

    monkeypatch.setattr(decoder_mod.MoonshineDecoder, "__init__", refuse)
    ok, why = MoonshineEngine.check_available()
    assert isinstance(ok, bool) and why
