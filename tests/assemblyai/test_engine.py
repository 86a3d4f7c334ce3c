"""The AssemblyAI engine against the fake v3 server, through a real Session (audio paced at 1×)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from captioner.audio.file import WavFileSource
from captioner.captions.events import AudioLevel, EngineError, EngineState, Final, Interim, Notice, Status, Usage
from captioner.engines.assemblyai.audio import mulaw_decode
from captioner.engines.assemblyai.engine import AssemblyAIEngine
from captioner.engines.assemblyai.errors import REJECTED_KEY
from captioner.engines.base import Credentials, EngineFailure, EngineOptions
from captioner.session.catch_up import CatchUpPolicy
from captioner.session.session import RetryPolicy, Session
from tests.assemblyai.helpers import KEY, SCRIPT, RunResult, reference_pcm, run_session, write_noise_wav
from tests.support.fakes.assemblyai import FakeAssemblyAI, Fault, make_turn

TURN1 = SCRIPT[1].words


def opts(fake: FakeAssemblyAI, **kw: Any) -> EngineOptions:
    extra = kw.pop("extra", {})
    return EngineOptions(endpoint=fake.url, extra=extra, **kw)


async def test_captions_two_message_formatting_url_and_headers(wav_2s5: Path) -> None:
    ref = reference_pcm(wav_2s5)
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT, reference_pcm=ref, formatting="two-message") as fake:
        options = opts(
            fake,
            word_boost=("Captioner", "Keanu Reeves"),
            silence_ms=800,
            extra={"end_of_turn_confidence_threshold": "0.6"},
        )
        res = await run_session(wav_2s5, options)
    assert res.error is None
    # One line per turn, formatted text replaced the unformatted one, nothing duplicated.
    assert res.lines() == ["Hello world.", "Good morning, everyone."]
    finals = res.finals()
    assert [(f.line_id, f.text, f.formatted) for f in finals] == [
        ("1-0", "hello world", False),
        ("1-0", "Hello world.", True),
        ("1-1", "good morning everyone", False),
        ("1-1", "Good morning, everyone.", True),
    ]
    # Times on the source timeline (word ms + the start of the first chunk).
    assert finals[1].start == pytest.approx(0.10, abs=0.002) and finals[1].end == pytest.approx(0.68, abs=0.002)
    assert finals[3].start == pytest.approx(1.20, abs=0.002) and finals[3].end == pytest.approx(2.08, abs=0.002)
    # Interim text = transcript + tentative tail; early partial (empty transcript) still shows.
    interims = res.interims()
    assert interims[0].text == "hello" and interims[0].tail == "hello" and interims[0].stable == ""
    assert any(i.text == "hello world" and i.tail == "world" for i in interims)
    assert not any("world world" in i.text or "everyone everyone" in i.text for i in interims)
    # Session info and usage.
    begin = [e for e in res.of(Status) if isinstance(e, Status) and "session" in e.message]
    assert begin and begin[0].state is EngineState.LISTENING
    usage = res.of(Usage)
    assert len(usage) == 1 and isinstance(usage[0], Usage) and usage[0].session_id
    rec = fake.connections[0]
    assert usage[0].audio_seconds == round(rec.audio_seconds)
    assert len(fake.connections) == 1
    # URL and headers.
    assert rec.path == "/v3/ws"
    assert rec.headers["Authorization"] == KEY  # raw key, no Bearer
    assert rec.headers["AssemblyAI-Version"] == "2025-05-12"
    assert rec.params["sample_rate"] == 16000 and rec.params["encoding"] == "pcm_s16le"
    assert rec.params["speech_model"] == "universal-streaming-english"
    assert rec.query["format_turns"] == "true"
    assert rec.params["keyterms_prompt"] == ["Captioner", "Keanu Reeves"]
    assert (rec.params["min_turn_silence"], rec.params["max_turn_silence"]) == (250, 800)
    assert rec.params["end_of_turn_confidence_threshold"] == 0.6
    # Audio: 50 ms frames, all of it, then ForceEndpoint + Terminate, close 1000.
    assert set(rec.frame_ms) == {50.0}
    assert rec.audio_seconds == pytest.approx(2.5)
    assert bytes(rec.audio) == ref
    assert [t["type"] for t in rec.texts] == ["ForceEndpoint", "Terminate"]
    assert rec.close_code == 1000


async def test_captions_in_place_formatting_and_speech_started(wav_2s5: Path) -> None:
    ref = reference_pcm(wav_2s5)
    async with FakeAssemblyAI(
        keys=(KEY,), script=SCRIPT, reference_pcm=ref, formatting="in-place", speech_started=True
    ) as fake:
        res = await run_session(wav_2s5, opts(fake))
    assert res.error is None
    assert res.lines() == ["Hello world.", "Good morning, everyone."]
    assert [(f.line_id, f.text) for f in res.finals()] == [("1-0", "Hello world."), ("1-1", "Good morning, everyone.")]
    assert any(i.text == "Hello world." and i.tail == "world." for i in res.interims())
    from captioner.captions.events import SpeechStarted

    starts = [e for e in res.events if isinstance(e, SpeechStarted)]
    assert [round(s.at or 0, 2) for s in starts] == [0.10, 1.20]


async def test_finals_only_emits_no_interims(wav_2s5: Path) -> None:
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT, formatting="in-place") as fake:
        res = await run_session(wav_2s5, opts(fake, extra={"finals_only": "true", "format_turns": "false"}))
    assert res.error is None
    assert res.interims() == []
    assert res.lines() == ["hello world", "good morning everyone"]
    assert fake.connections[0].query["format_turns"] == "false"


async def test_live_update_sends_update_configuration_without_reconnecting(wav_2s5: Path) -> None:
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT) as fake:
        first = opts(fake, word_boost=("alpha",), silence_ms=1280)
        updated = first.replace(word_boost=("beta", "gamma"), silence_ms=400)
        applied: list[bool] = []

        async def during(session: Session) -> None:
            while not fake.connections or fake.connections[0].frames < 10:
                await asyncio.sleep(0.02)
            await session.update_options(updated)
            applied.append(session.engine is not None)

        res = await run_session(wav_2s5, first, during=during)
    assert res.error is None and applied == [True]
    assert len(fake.connections) == 1  # no reconnect
    rec = fake.connections[0]
    assert rec.params["keyterms_prompt"] == ["alpha"]
    assert (rec.params["min_turn_silence"], rec.params["max_turn_silence"]) == (400, 1280)
    assert rec.updates == [
        {
            "type": "UpdateConfiguration",
            "keyterms_prompt": ["beta", "gamma"],
            "min_turn_silence": 160,
            "max_turn_silence": 400,
        }
    ]
    assert any(isinstance(e, Status) and e.message == "settings applied" for e in res.events)
    # No audio gap: one connection got all 2.5 s.
    assert rec.audio_seconds == pytest.approx(2.5)
    assert res.lines() == ["Hello world.", "Good morning, everyone."]


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("drop", "connection to AssemblyAI lost"),
        ("error3005", "AssemblyAI server error: Session Cancelled: An error occurred"),
        ("expire", "AssemblyAI session expired: Session Expired: Maximum session duration exceeded"),
    ],
)
async def test_reconnect_loses_no_audio(wav_2s5: Path, kind: str, message: str) -> None:
    ref = reference_pcm(wav_2s5)
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT, reference_pcm=ref, faults=(Fault(0, 1.3, kind),)) as fake:
        res = await run_session(wav_2s5, opts(fake))
    assert res.error is None
    errors = [e for e in res.events if isinstance(e, EngineError)]
    assert [(e.message, e.retryable) for e in errors] == [(message, True)]
    assert len(fake.connections) == 2
    first, second = fake.connections
    assert first.close_code == {"drop": 1006, "error3005": 3005, "expire": 3008}[kind]
    # The second connection starts where the last committed caption ended (0.68 s) and replays from there:
    # every sample of the source reached the service, in order.
    assert second.source_offset_found
    assert second.source_offset <= first.audio_seconds
    assert second.source_offset == pytest.approx(0.65, abs=0.001)  # the 50 ms block holding 0.68 s
    assert bytes(second.audio) == ref[int(second.source_offset * 32000) :]
    assert fake.total_audio_seconds >= 2.5
    # Captions: each turn once, with times on the source timeline even after the reconnect.
    assert res.lines() == ["Hello world.", "Good morning, everyone."]
    last = next(f for f in res.finals() if f.text == "Good morning, everyone.")
    assert last.line_id == "2-0"
    assert last.start == pytest.approx(TURN1[0].start, abs=0.002)
    assert last.end == pytest.approx(TURN1[-1].end, abs=0.002)


async def test_rollover_before_expiry_switches_without_a_gap(wav_2s5: Path) -> None:
    ref = reference_pcm(wav_2s5)
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT, reference_pcm=ref, max_session_s=2.0) as fake:
        res = await run_session(wav_2s5, opts(fake, extra={"rollover_seconds": "1.12"}))
    assert res.error is None
    assert not [e for e in res.events if isinstance(e, EngineError)]
    # The first session ends at ~1.15 s (between the turns). The second opens its successor after 1.12 s too
    # (~2.27 s), in the middle of "good morning everyone": the handover waits for a pause, none comes before the
    # audio ends, so the third session gets no audio and is told to finish.
    assert len(fake.connections) == 3
    a, b, c = fake.connections
    assert all(x.close_code == 1000 and x.terminate_received and x.force_endpoints == 1 for x in (a, b, c))
    # Contiguous: the second session starts exactly where the first stopped; no sample twice or lost.
    assert b.source_offset == pytest.approx(a.audio_seconds)
    assert c.audio_seconds == 0
    assert bytes(a.audio) + bytes(b.audio) == ref
    assert res.lines() == ["Hello world.", "Good morning, everyone."]
    assert [f.line_id for f in res.finals()] == ["1-0", "1-0", "1-s1-0", "1-s1-0"]
    assert res.finals()[-1].start == pytest.approx(TURN1[0].start, abs=0.002)
    assert any(isinstance(e, Status) and "switched" in e.message for e in res.events)
    assert len(res.of(Usage)) == 3


async def test_rollover_from_expires_at_keeps_audio_contiguous(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "3s.wav", 3.0)
    ref = reference_pcm(wav)
    async with FakeAssemblyAI(keys=(KEY,), reference_pcm=ref, max_session_s=1.5) as fake:
        res = await run_session(wav, opts(fake))
    assert res.error is None
    assert not [e for e in res.events if isinstance(e, EngineError)]
    assert len(fake.connections) >= 2
    assert all(c.close_code == 1000 for c in fake.connections)
    assert b"".join(bytes(c.audio) for c in fake.connections) == ref


@pytest.mark.parametrize("reject_http", [False, True])
async def test_bad_key_is_refused_not_retried(
    tmp_path: Path, reject_http: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wav = write_noise_wav(tmp_path / "short.wav", 0.5)
    bad = "bad-key-SECRET-4242"
    async with FakeAssemblyAI(keys=(KEY,), reject_http=reject_http) as fake:
        res = await run_session(wav, opts(fake), key=bad)
    assert isinstance(res.error, EngineFailure)
    assert res.error.refused and not res.error.retryable
    assert res.error.message.startswith(REJECTED_KEY)
    assert "Invalid API key" in res.error.message
    # HTTP 401 is final at once; an undocumented 1008 reason is final when it comes twice in a row.
    assert len(fake.connections) == (0 if reject_http else 2)
    assert bad not in caplog.text and bad not in res.error.message
    assert "Authorization: ***" in caplog.text  # the websockets DEBUG lines went through our redaction


async def test_word_boost_over_the_limits_is_trimmed_with_a_warning(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "short.wav", 0.5)
    terms = (*tuple(f"term{i}" for i in range(105)), "x" * 51)
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        res = await run_session(wav, opts(fake, word_boost=terms))
    assert res.error is None
    notices = [e.message for e in res.events if isinstance(e, Notice)]
    assert any("too long" in n and "over 50 characters" in n for n in notices)
    assert any("limited to 100 terms; ignored 5" in n for n in notices)
    sent = fake.connections[0].params["keyterms_prompt"]
    assert sent == [f"term{i}" for i in range(100)]


async def test_mulaw_encoding(wav_2s5: Path) -> None:
    ref = reference_pcm(wav_2s5)
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT) as fake:
        res = await run_session(wav_2s5, opts(fake, extra={"encoding": "pcm_mulaw", "chunk_ms": "100"}))
    assert res.error is None
    rec = fake.connections[0]
    assert rec.params["encoding"] == "pcm_mulaw"
    assert set(rec.frame_ms) == {100.0} and len(rec.audio) == 40000  # 1 byte per sample
    decoded = np.frombuffer(mulaw_decode(bytes(rec.audio)), "<i2").astype(float)
    original = np.frombuffer(ref, "<i2").astype(float)
    snr = 10 * np.log10(np.sum(original**2) / np.sum((original - decoded) ** 2))
    assert snr > 30  # µ-law quantisation only
    assert res.lines() == ["Hello world.", "Good morning, everyone."]


async def test_temporary_token_mode(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "short.wav", 0.5)
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        res = await run_session(wav, opts(fake, extra={"token": "true"}))
    assert res.error is None
    rec = fake.connections[0]
    assert len(fake.token_requests) == 1 and fake.token_requests[0]["expires_in_seconds"] == "60"
    assert "Authorization" not in rec.headers and rec.query["token"].startswith("tok-")
    assert rec.authorized


async def test_unreachable_server_is_retryable(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "short.wav", 0.3)
    res = await run_session(wav, EngineOptions(endpoint="ws://127.0.0.1:9"))
    assert isinstance(res.error, EngineFailure) and not res.error.refused
    errors = [e for e in res.events if isinstance(e, EngineError)]
    assert errors and errors[0].retryable and "cannot reach AssemblyAI at ws://127.0.0.1:9/v3/ws" in errors[0].message


def test_interim_and_final_types_are_the_shared_events() -> None:
    assert Interim.__module__ == Final.__module__ == "captioner.captions.events"


# -- catch-up after a reconnect -------------------------------------------------------------------

# Speech (loud noise) where the scripted words are, near-silence (-81 dBFS noise, still unique so the
# fake can locate every frame) in the pauses: 0.2 s, A, 1.8 s pause, B, 1.8 s, C, 1.8 s, D, 0.4 s.
CATCH_UP_SCRIPT = (
    make_turn(0.2, "hello world", "Hello world."),
    make_turn(2.8, "good morning everyone", "Good morning, everyone."),
    make_turn(5.5, "see you", "See you."),
    make_turn(7.9, "thank you", "Thank you."),
)
CATCH_UP_SPEECH = [(0.2, 0.8), (2.8, 3.7), (5.5, 6.1), (7.9, 8.5)]
CATCH_UP_SECONDS = 8.9


def write_paused_speech_wav(path: Path, rate: int = 16000) -> Path:
    rng = np.random.default_rng(11)
    n = round(CATCH_UP_SECONDS * rate)
    samples = rng.standard_normal(n) * 3.0
    for a, b in CATCH_UP_SPEECH:
        samples[round(a * rate) : round(b * rate)] *= 2000.0 / 3.0
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.clip(-32768, 32767).astype("<i2").tobytes())
    return path


async def test_drop_mid_speech_then_catch_up_keeps_source_times(tmp_path: Path) -> None:
    wav = write_paused_speech_wav(tmp_path / "paused.wav")
    ref = reference_pcm(wav)
    result = RunResult()
    # A drop in the middle of "good morning everyone"; 0.5 s before reconnecting.
    async with FakeAssemblyAI(
        keys=(KEY,), script=CATCH_UP_SCRIPT, reference_pcm=ref, faults=(Fault(0, 3.2, "drop"),)
    ) as fake:
        session = Session(
            WavFileSource(wav, 16000, realtime=True),
            lambda o: AssemblyAIEngine(o, Credentials(api_key=KEY)),
            opts(fake, silence_ms=400),
            transcript=result.transcript,
            on_event=result.events.append,
            retry=RetryPolicy(initial=0.5, maximum=0.5),
            # Smaller than the defaults so that the test needs seconds, not minutes, of audio.
            catch_up=CatchUpPolicy(behind=0.5, min_keep=0.5, lead_in=0.2),
        )
        await asyncio.wait_for(session.run(), 30)
    first, second = fake.connections
    assert first.close_code == 1006
    # The second connection replays from the end of "hello world" and skips the middle of each pause:
    # max_turn_silence (0.4 s) + 0.25 s of every pause is still sent, and 0.2 s before speech.
    assert second.runs[0][1] == pytest.approx(0.75, abs=0.001)
    skipped = [(a[1] + a[2], b[1]) for a, b in itertools.pairwise(second.runs)]
    assert len(skipped) >= 3
    pauses = [(a[1], b[0]) for a, b in itertools.pairwise(CATCH_UP_SPEECH)]
    for gap_start, gap_end in skipped:
        pause_start, pause_end = next(p for p in pauses if p[0] <= gap_start < p[1])
        assert gap_start - pause_start >= 0.65 - 1e-3
        assert pause_end - gap_end >= 0.2 - 1e-3
    assert session.skipped_seconds == pytest.approx(sum(b - a for a, b in skipped), abs=0.001)
    assert session.skipped_seconds > 2.0
    # Every sample that was sent is the source's own, in order; no speech sample was left out.
    for recv0, src0, dur in second.runs:
        a, b = round(recv0 * 32000), round((recv0 + dur) * 32000)
        assert bytes(second.audio[a:b]) == ref[round(src0 * 32000) : round(src0 * 32000) + b - a]
    # Each turn once, at its place on the source timeline (within a frame) despite the skipped audio.
    assert result.lines() == ["Hello world.", "Good morning, everyone.", "See you.", "Thank you."]
    formatted = [f for f in result.finals() if f.formatted]
    for final, turn in zip(formatted, CATCH_UP_SCRIPT, strict=True):
        assert final.start == pytest.approx(turn.words[0].start, abs=0.05)
        assert final.end == pytest.approx(turn.words[-1].end, abs=0.05)
    # The lag after the reconnect came down to the catch-up threshold.
    lags = [e.lag for e in result.events if isinstance(e, AudioLevel)]
    assert max(lags) > 2.0
    assert lags[-1] < 0.8
