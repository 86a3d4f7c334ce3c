"""The `uhlive-h2b` engine (Stream H2B) against the fake server, through a real Session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from captioner.captions.events import EngineError, Final, Interim, SpeechStarted
from captioner.engines.base import Credentials, EngineFailure, EngineOptions
from captioner.engines.uhlive.h2b import UhliveH2BEngine
from captioner.session.session import RetryPolicy
from tests.support.fakes.uhlive import FakeH2BServer, FakeTokenServer, burst_times, tone_wav
from tests.uhlive.helpers import CUT_BYTES, PATTERN, finals, run_session

EXPECTED = burst_times(PATTERN)
CREDS = Credentials(client_id="cid", client_secret="s3cret")
FILE_BYTES = round(sum(s for _, s in PATTERN) * 8000) * 2


def options(
    server: FakeH2BServer, tokens: FakeTokenServer, extra: dict[str, str] | None = None, **kw: Any
) -> EngineOptions:
    return EngineOptions(endpoint=server.url, extra={"auth_endpoint": tokens.url, **(extra or {})}, **kw)


async def test_recognitions_back_to_back_lose_no_audio(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tones: Path
) -> None:
    transcript, events = await run_session(
        UhliveH2BEngine, tones, options(h2b_server, token_server, language="fr", silence_ms=500), CREDS
    )
    lines = transcript.finals
    assert [line.text for line in lines] == [text for text, _, _ in EXPECTED]
    for line, (_, start, end) in zip(lines, EXPECTED, strict=True):
        assert line.start == pytest.approx(start, abs=0.1)
        assert line.end == pytest.approx(end, abs=0.1)
    conn = h2b_server.connections[0]
    assert not conn.violations
    # SET-PARAMS carried the language, the silence threshold and long timers.
    assert conn.params["speech_language"] == "fr"
    assert conn.params["speech_complete_timeout"] == 500
    assert conn.params["no_input_timeout"] >= 10_000 and conn.params["recognition_timeout"] >= 10_000
    # One recognition per utterance, re-armed at once: every byte went into a recognition.
    assert conn.recognitions == len(EXPECTED) + 1
    assert conn.bytes_before_open == 0
    # (Measured: 0 bytes. A frame already in flight when the result is sent could land in the gap on a
    # loaded machine, so allow at most one 100 ms frame per gap; a late re-arm would show far more.)
    assert conn.bytes_idle <= 1600 * (conn.recognitions - 1)
    assert conn.bytes_in_recognition + conn.bytes_idle == conn.bytes
    assert conn.bytes >= FILE_BYTES - 4
    # Each line: speech started, "…" indicator, then the final, under one id.
    for line in lines:
        mine = [e for e in events if isinstance(e, SpeechStarted | Interim | Final) and e.line_id == line.line_id]
        assert [type(e).__name__ for e in mine] == ["SpeechStarted", "Interim", "Final"]
        assert isinstance(mine[1], Interim) and mine[1].text == "…"
    # The session ended with STOP (or a last result) and CLOSE.
    commands = [c["command"] for c in conn.texts]
    assert commands[:3] == ["OPEN", "SET-PARAMS", "RECOGNIZE"]
    assert commands[-1] == "CLOSE"
    assert not any(isinstance(e, EngineError) for e in events)


async def test_last_words_finish_after_the_audio_ends(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    # The file ends in the middle of speech: silence is sent until the service ends the line.
    wav = tone_wav(tmp_path / "cut.wav", [(0, 0.2), (1000, 0.6)])
    transcript, _ = await run_session(UhliveH2BEngine, wav, options(h2b_server, token_server, silence_ms=300), CREDS)
    assert [line.text for line in transcript.finals] == ["see you tomorrow then"]
    assert transcript.finals[0].end == pytest.approx(0.8, abs=0.1)
    conn = h2b_server.connections[0]
    assert conn.bytes > int(0.8 * 16000)  # padding was sent
    assert [c["command"] for c in conn.texts][-2:] == ["STOP", "CLOSE"]


async def test_silence_threshold_reaches_speech_complete_timeout(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    # Two bursts 0.6 s apart: one line with a 900 ms threshold, two lines with 300 ms.
    pattern = [(0, 0.2), (400, 0.4), (0, 0.6), (400, 0.4), (0, 1.0)]
    wav = tone_wav(tmp_path / "gap.wav", pattern)
    t_long, _ = await run_session(UhliveH2BEngine, wav, options(h2b_server, token_server, silence_ms=900), CREDS)
    t_short, _ = await run_session(UhliveH2BEngine, wav, options(h2b_server, token_server, silence_ms=300), CREDS)
    assert [c.params["speech_complete_timeout"] for c in h2b_server.connections] == [900, 300]
    assert len(t_long.finals) == 1
    assert len(t_short.finals) == 2


async def test_no_input_timeouts_rearm_silently(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    wav = tone_wav(tmp_path / "quiet.wav", [(0, 2.6), (700, 0.5), (0, 0.6)])
    transcript, events = await run_session(
        UhliveH2BEngine,
        wav,
        options(h2b_server, token_server, extra={"no_input_timeout": "1000"}, silence_ms=400),
        CREDS,
    )
    conn = h2b_server.connections[0]
    causes = [c["completion_cause"] for c in conn.completions]
    assert causes[:2] == ["NoInputTimeout", "NoInputTimeout"]
    assert "Success" in causes
    assert [line.text for line in transcript.finals] == ["good morning everyone"]
    assert transcript.finals[0].start == pytest.approx(2.6, abs=0.1)
    assert conn.bytes_idle <= 1600 * (conn.recognitions - 1)
    assert not any(isinstance(e, EngineError) for e in events)


async def test_bad_credentials_are_a_refusal(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, short_tone: Path
) -> None:
    with pytest.raises(EngineFailure) as info:
        await run_session(
            UhliveH2BEngine, short_tone, options(h2b_server, token_server), Credentials(token="stale-token")
        )
    assert info.value.refused and not info.value.retryable
    assert h2b_server.rejected == [401]


async def test_invalid_setting_is_a_refusal(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, short_tone: Path
) -> None:
    with pytest.raises(EngineFailure) as info:
        await run_session(
            UhliveH2BEngine,
            short_tone,
            options(h2b_server, token_server, extra={"speech_language": "fr-XX"}),
            CREDS,
        )
    assert info.value.refused and "InvalidParamValue" in info.value.message
    assert len(h2b_server.connections) == 1


@pytest.mark.parametrize("fault", ["drop", "error"])
async def test_reconnect_loses_no_audio(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tones: Path, fault: str
) -> None:
    cut = CUT_BYTES
    if fault == "drop":
        h2b_server.drop_after_bytes = cut
    else:
        h2b_server.error_after_bytes = cut
    transcript, events = await run_session(
        UhliveH2BEngine,
        tones,
        options(h2b_server, token_server, silence_ms=500),
        CREDS,
        retry=RetryPolicy(initial=0.05, max_attempts=3),
    )
    errors = [e for e in events if isinstance(e, EngineError)]
    assert len(errors) == 1 and errors[0].retryable
    assert len(h2b_server.connections) == 2
    lines = transcript.finals
    assert [line.text for line in lines] == [text for text, _, _ in EXPECTED]
    for line, (_, start, end) in zip(lines, EXPECTED, strict=True):
        assert line.start == pytest.approx(start, abs=0.1)
        assert line.end == pytest.approx(end, abs=0.1)
    assert [f.text for f in finals(events) if f.text].count("good morning everyone") == 1


async def test_live_update_applies_to_the_next_recognition(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer
) -> None:
    engine = UhliveH2BEngine(options(h2b_server, token_server, silence_ms=800), CREDS)
    new = engine.options.replace(silence_ms=400, language="en")
    assert await engine.update(new)
    assert engine._override == {"speech_complete_timeout": 400, "speech_language": "en"}
    assert not await engine.update(new.replace(endpoint="ws://127.0.0.1:9"))


def test_capabilities_and_warnings() -> None:
    caps = UhliveH2BEngine.capabilities
    assert (caps.sample_rate, caps.interim_results, caps.word_boost, caps.silence_threshold) == (
        8000,
        False,
        False,
        True,
    )
    assert caps.needs_credentials and caps.realtime_input
    warnings = UhliveH2BEngine(EngineOptions(word_boost=("Dupont",), silence_ms=500)).validate()
    assert len(warnings) == 1 and "no vocabulary boosting" in warnings[0]
    with pytest.raises(ValueError, match="between 100 and 20000"):
        UhliveH2BEngine(EngineOptions(silence_ms=50))
