"""The `uhlive-h2b` engine on a network with latency, and speech the service is unsure of: the SDK's state
machine is followed (no STOP before RECOGNITION-IN-PROGRESS), "(unclear)" instead of a vanishing line, the
``confidence_threshold`` option, and the audio lost between two recognitions, measured."""

from __future__ import annotations

from pathlib import Path

import pytest

from captioner.captions.events import EngineError, Final
from captioner.engines.base import Credentials, EngineOptions
from captioner.engines.uhlive.h2b import UhliveH2BEngine
from tests.support.fakes.uhlive import FakeH2BServer, FakeTokenServer, tone_wav
from tests.uhlive.helpers import PATTERN, run_session

CREDS = Credentials(client_id="cid", client_secret="s3cret")
RTT = 0.16  # an 80 ms network each way


def options(server: FakeH2BServer, tokens: FakeTokenServer, **kw: object) -> EngineOptions:
    extra = {"auth_endpoint": tokens.url, **kw.pop("extra", {})}  # type: ignore[dict-item]
    return EngineOptions(endpoint=server.url, extra=extra, **kw)  # type: ignore[arg-type]


async def test_the_end_of_audio_right_after_a_result_waits_for_in_progress_before_stop(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    # The audio ends mid-line: silence is sent until the result comes; the engine re-arms at once, and the
    # end of the audio follows before RECOGNITION-IN-PROGRESS is back (a round trip later).
    h2b_server.latency = RTT
    wav = tone_wav(tmp_path / "cut.wav", [(0, 0.2), (700, 0.5), (0, 0.2)])
    transcript, events = await run_session(
        UhliveH2BEngine, wav, options(h2b_server, token_server, silence_ms=400), CREDS
    )
    assert [line.text for line in transcript.finals] == ["good morning everyone"]
    assert not [e for e in events if isinstance(e, EngineError)]
    conn = h2b_server.connections[0]
    commands = [c["command"] for c in conn.texts]
    assert commands[-3:] == ["RECOGNIZE", "STOP", "CLOSE"]
    # STOP went out only after the server had said the recognition was in progress.
    stop = commands.index("STOP")
    assert conn.sent[-1]["event"] == "CLOSED" and not conn.violations
    assert not any(e["event"] == "METHOD-NOT-ALLOWED" for e in conn.sent), commands[stop:]


async def test_speech_below_the_confidence_threshold_shows_unclear(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    pattern = [(0, 0.2), (400, 0.5), (0, 0.8), (700, 0.6), (0, 0.8)]
    wav = tone_wav(tmp_path / "quiet.wav", pattern, quiet={3})  # "good morning everyone", said quietly
    transcript, _ = await run_session(UhliveH2BEngine, wav, options(h2b_server, token_server, silence_ms=500), CREDS)
    assert [line.text for line in transcript.finals] == ["hello world", "(unclear)"]
    unclear = transcript.finals[1]
    assert unclear.start == pytest.approx(1.5, abs=0.15) and unclear.end == pytest.approx(2.1, abs=0.15)
    causes = [c["completion_cause"] for c in h2b_server.connections[0].completions]
    assert causes[:2] == ["Success", "NoMatch"]  # the service did hear the quiet speech, unsure of it


async def test_a_click_is_no_line_at_all(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    # 60 ms of sound: the service hears something start, then matches nothing. Not speech: no "(unclear)".
    wav = tone_wav(tmp_path / "click.wav", [(0, 0.2), (700, 0.06), (0, 0.8), (400, 0.5), (0, 0.8)])
    transcript, events = await run_session(
        UhliveH2BEngine, wav, options(h2b_server, token_server, silence_ms=500), CREDS
    )
    assert [line.text for line in transcript.finals] == ["hello world"]
    assert [c["completion_cause"] for c in h2b_server.connections[0].completions][:2] == ["NoMatch", "Success"]
    assert any(isinstance(e, Final) and e.text == "" for e in events)  # the "…" line was closed


async def test_confidence_threshold_option_reaches_set_params(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    pattern = [(0, 0.2), (700, 0.6), (0, 0.8)]
    wav = tone_wav(tmp_path / "quiet.wav", pattern, quiet={1})
    opts = options(h2b_server, token_server, silence_ms=500, extra={"confidence_threshold": "0.2"})
    transcript, _ = await run_session(UhliveH2BEngine, wav, opts, CREDS)
    assert h2b_server.connections[0].params["confidence_threshold"] == 0.2
    assert [line.text for line in transcript.finals] == ["good morning everyone"]


async def test_speech_that_starts_as_a_result_arrives_loses_nothing(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    # The second utterance starts 0.1 s after the first recognition ends on the server: on a 300 ms round
    # trip its first 0.2 s arrive before the next RECOGNIZE. They are sent again right after it.
    h2b_server.latency = 0.3
    wav = tone_wav(tmp_path / "close.wav", [(0, 0.2), (400, 0.5), (0, 0.6), (700, 0.6), (0, 0.8)])
    transcript, _ = await run_session(UhliveH2BEngine, wav, options(h2b_server, token_server, silence_ms=500), CREDS)
    assert [line.text for line in transcript.finals] == ["hello world", "good morning everyone"]
    conn = h2b_server.connections[0]
    assert conn.bytes_idle > 0  # some audio did reach the server between the two recognitions…
    assert conn.heard[1] == pytest.approx(0.6, abs=0.03)  # …and all of the second utterance was heard


async def test_the_round_trip_between_recognitions_is_measured_and_replayed(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, tones: Path
) -> None:
    h2b_server.latency = RTT
    transcript, _ = await run_session(
        UhliveH2BEngine, tones, options(h2b_server, token_server, language="fr", silence_ms=500), CREDS
    )
    assert [line.text for line in transcript.finals] == [
        "hello world",
        "good morning everyone",
        "see you tomorrow then",
    ]
    conn = h2b_server.connections[0]
    gaps = conn.recognitions - 1
    # What reaches the server between a result and the next RECOGNIZE is the audio in flight for a round trip
    # (measured here: one 100 ms frame per gap on a 160 ms round trip); it is sent again into the next
    # recognition, so every utterance was heard whole.
    per_gap = conn.bytes_idle / gaps
    assert 0 < per_gap <= RTT * 16000 + 1600, per_gap
    replayed = conn.bytes - conn.bytes_in_recognition - conn.bytes_idle
    assert replayed == 0  # (the replayed frames went into recognitions: counted there)
    assert conn.bytes >= sum(round(s * 8000) * 2 for _, s in PATTERN) + conn.bytes_idle - 4
    assert conn.heard == pytest.approx([0.5, 0.6, 0.4], abs=0.03)  # the last recognition was stopped


async def test_an_account_with_a_user_and_a_password_logs_in(
    h2b_server: FakeH2BServer, token_server: FakeTokenServer, short_tone: Path
) -> None:
    token_server.users["ada"] = "pa55-word"
    creds = Credentials(client_id="cid", username="ada", password="pa55-word")
    transcript, _ = await run_session(UhliveH2BEngine, short_tone, options(h2b_server, token_server), creds)
    assert [line.text for line in transcript.finals] == ["good morning everyone"]
    assert token_server.requests[0]["grant_type"] == "password"
