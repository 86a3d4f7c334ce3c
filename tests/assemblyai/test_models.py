"""The one model table: every family recognised by name, its defaults, and the parameters it takes, as
the request builder, the live update and ``endpoint_silence()`` use them (the fake server is the judge)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from captioner.engines.assemblyai.engine import AssemblyAIEngine
from captioner.engines.assemblyai.request import build_url
from captioner.engines.base import Credentials, EngineOptions
from captioner.session.session import Session
from tests.assemblyai.helpers import KEY, SCRIPT, run_session, write_noise_wav
from tests.support.fakes.assemblyai import FakeAssemblyAI

U3 = ("u3-rt-pro", "universal-3-5-pro", "universal-3-6-pro")


def engine(**kw: object) -> AssemblyAIEngine:
    extra = kw.pop("extra", {})
    return AssemblyAIEngine(EngineOptions(extra=extra, **kw), Credentials(api_key=KEY))  # type: ignore[arg-type]


def query(e: AssemblyAIEngine) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(build_url(e.config)).query).items()}


@pytest.mark.parametrize("model", U3)
def test_u3_family_models_get_no_universal_streaming_parameters(model: str) -> None:
    e = engine(silence_ms=1000, extra={"speech_model": model, "end_of_turn_confidence_threshold": "0.6"})
    q = query(e)
    assert "end_of_turn_confidence_threshold" not in q and "format_turns" not in q
    assert (q["min_turn_silence"], q["max_turn_silence"]) == ("100", "1000")  # U3: 1/10 of it, at least 100
    assert any("does not take end_of_turn_confidence_threshold" in w for w in e.validate())


@pytest.mark.parametrize(
    ("model", "seconds"),
    [
        ("universal-streaming-english", 1.28),
        ("whisper-rt", 1.28),
        ("u3-rt-pro", 1.0),
        ("universal-3-5-pro", 1.536),
        ("universal-3-6-pro", 1.536),
        ("a-model-from-next-year", 1.536),
    ],
)
def test_endpoint_silence_is_the_family_default(model: str, seconds: float) -> None:
    assert engine(extra={"speech_model": model}).endpoint_silence() == pytest.approx(seconds)
    assert engine(silence_ms=700, extra={"speech_model": model}).endpoint_silence() == pytest.approx(0.7)


def test_parameters_the_model_does_not_take_are_left_out_with_a_warning() -> None:
    e = engine(
        extra={"speech_model": "universal-streaming-english", "mode": "max_accuracy", "voice_focus": "far-field"}
    )
    q = query(e)
    assert "mode" not in q and "voice_focus" not in q
    assert [w for w in e.validate() if "does not take" in w] == [
        "AssemblyAI model universal-streaming-english does not take mode; ignored",
        "AssemblyAI model universal-streaming-english does not take voice_focus; ignored",
    ]
    u3 = query(engine(extra={"speech_model": "universal-3-6-pro", "mode": "max_accuracy", "voice_focus": "far-field"}))
    assert (u3["mode"], u3["voice_focus"]) == ("max_accuracy", "far-field")


def test_speaker_labels_and_the_retired_inactivity_option() -> None:
    e = engine(extra={"speaker_labels": "true", "max_speakers": "3", "inactivity_timeout": "30"})
    q = query(e)
    assert (q["speaker_labels"], q["max_speakers"]) == ("true", "3")
    assert "inactivity_timeout" not in q
    assert any(w.startswith("inactivity_timeout is no longer used") for w in e.validate())


def test_a_language_no_model_has_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no AssemblyAI streaming model transcribes language 'tlh'"):
        engine(language="tlh")
    with pytest.raises(ValueError, match=r"does not support language 'ja'.*speech_model=universal-3-5-pro"):
        engine(language="ja", extra={"speech_model": "u3-rt-pro"})


async def live_change(model: str, first: EngineOptions, second: EngineOptions, tmp_path: Path) -> FakeAssemblyAI:
    wav = write_noise_wav(tmp_path / "2s.wav", 2.5)
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT) as fake:
        first = first.replace(endpoint=fake.url, extra={"speech_model": model})
        second = second.replace(endpoint=fake.url, extra={"speech_model": model})

        async def during(session: Session) -> None:
            while not fake.connections or fake.connections[0].frames < 10:
                await asyncio.sleep(0.02)
            await session.update_options(second)

        res = await run_session(wav, first, during=during)
    assert res.error is None
    return fake


async def test_live_silence_change_on_u3_5_uses_its_own_mapping(tmp_path: Path) -> None:
    fake = await live_change(
        "universal-3-5-pro", EngineOptions(silence_ms=1500), EngineOptions(silence_ms=600), tmp_path
    )
    assert len(fake.connections) == 1
    assert fake.connections[0].updates == [
        {"type": "UpdateConfiguration", "min_turn_silence": 100, "max_turn_silence": 600}
    ]


@pytest.mark.parametrize("model", ["universal-3-5-pro", "universal-3-6-pro"])
async def test_clearing_the_silence_on_u3_5_reconnects_instead_of_sending_presets(tmp_path: Path, model: str) -> None:
    # The service sets these models' silences per mode: a cleared setting can only be restored by a new session.
    fake = await live_change(model, EngineOptions(silence_ms=1500), EngineOptions(), tmp_path)
    assert [c.updates for c in fake.connections] == [[], []]
    first, second = fake.connections
    assert (first.params["min_turn_silence"], first.params["max_turn_silence"]) == (150, 1500)
    assert "min_turn_silence" not in second.params and "max_turn_silence" not in second.params


async def test_clearing_the_silence_on_universal_streaming_restores_its_defaults_live(tmp_path: Path) -> None:
    fake = await live_change("universal-streaming-english", EngineOptions(silence_ms=800), EngineOptions(), tmp_path)
    assert len(fake.connections) == 1
    assert fake.connections[0].updates == [
        {"type": "UpdateConfiguration", "min_turn_silence": 400, "max_turn_silence": 1280}
    ]
