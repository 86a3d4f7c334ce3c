"""The fake v3 server is checked against the official ``assemblyai`` SDK (1.8.2), so it cannot drift
into agreeing with our own client's bugs: the SDK connects, streams, and its pydantic models parse
every Begin/Turn/SpeechStarted/Termination frame the fake sends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
import pytest
from assemblyai.streaming.v3 import (
    AsyncRealTimeTranscriber,
    BeginEvent,
    RealTimeError,
    RealTimeEvents,
    RealTimeParameters,
    RealTimeSessionParameters,
    RealTimeTranscriberOptions,
    SpeakerRevisionEvent,
    SpeechModel,
    SpeechStartedEvent,
    StreamingMode,
    TerminationEvent,
    TurnEvent,
)

from tests.assemblyai.helpers import KEY, SCRIPT
from tests.support.fakes.assemblyai import FakeAssemblyAI, ScriptTurn, make_turn

CHUNK = b"\x01\x00" * 800  # 50 ms at 16 kHz


class Collector:
    def __init__(self, client: AsyncRealTimeTranscriber) -> None:
        self.begin: list[BeginEvent] = []
        self.turns: list[TurnEvent] = []
        self.speech: list[SpeechStartedEvent] = []
        self.terminations: list[TerminationEvent] = []
        self.errors: list[RealTimeError] = []
        self.revisions: list[SpeakerRevisionEvent] = []
        client.on(RealTimeEvents.Begin, lambda _c, e: self.begin.append(e))
        client.on(RealTimeEvents.Turn, lambda _c, e: self.turns.append(e))
        client.on(RealTimeEvents.SpeechStarted, lambda _c, e: self.speech.append(e))
        client.on(RealTimeEvents.Termination, lambda _c, e: self.terminations.append(e))
        client.on(RealTimeEvents.Error, lambda _c, e: self.errors.append(e))


def sdk_client(fake: FakeAssemblyAI, key: str = KEY) -> tuple[AsyncRealTimeTranscriber, Collector]:
    client = AsyncRealTimeTranscriber(
        RealTimeTranscriberOptions(api_host=fake.url, api_key=key, max_connection_retries=0, terminate_timeout=3)
    )
    return client, Collector(client)


async def stream_paced(client: AsyncRealTimeTranscriber, seconds: float) -> None:
    """Send ``seconds`` of audio in 50 ms chunks at real time, as a microphone would."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i in range(round(seconds / 0.05)):
        await asyncio.sleep(max(0.0, t0 + (i + 1) * 0.05 - loop.time()))
        await client.stream(CHUNK)


@pytest.mark.parametrize("formatting", ["two-message", "in-place"])
async def test_sdk_streams_and_parses_every_frame(formatting: str) -> None:
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT, formatting=formatting, speech_started=True) as fake:
        client, got = sdk_client(fake)
        await client.connect(
            RealTimeParameters(
                sample_rate=16000,
                format_turns=True,
                keyterms_prompt=["AssemblyAI", "Keanu Reeves"],
                min_turn_silence=300,
                max_turn_silence=1200,
                speech_model=SpeechModel.universal_streaming_english,
            )
        )
        await stream_paced(client, 2.6)
        await client.set_params(RealTimeSessionParameters(keyterms_prompt=["Captioner"], min_turn_silence=200))
        await client.disconnect(terminate=True)

    assert got.errors == []
    assert len(got.begin) == 1 and got.begin[0].id
    assert len(got.terminations) == 1 and got.terminations[0].audio_duration_seconds == 3  # 2.6 s rounded
    assert len(got.speech) == 2
    rec = fake.connections[0]
    # What the SDK sends, as the fake recorded it: raw key, capitalised booleans, JSON keyterms.
    assert rec.headers["Authorization"] == KEY
    assert rec.query["format_turns"] == "True" and rec.params["format_turns"] is True
    assert rec.params["keyterms_prompt"] == ["AssemblyAI", "Keanu Reeves"]
    assert rec.params["min_turn_silence"] == 300 and rec.params["max_turn_silence"] == 1200
    assert rec.updates == [{"type": "UpdateConfiguration", "keyterms_prompt": ["Captioner"], "min_turn_silence": 200}]
    assert rec.terminate_received and rec.close_code == 1000
    assert all(50 <= ms <= 1000 for ms in rec.frame_ms)
    # Turns: cumulative, one turn_order per scripted turn, end_of_turn only at the end.
    eots = [t for t in got.turns if t.end_of_turn]
    if formatting == "two-message":
        assert [(t.turn_order, t.turn_is_formatted) for t in eots] == [(0, False), (0, True), (1, False), (1, True)]
        assert [t.transcript for t in eots] == [
            "hello world",
            "Hello world.",
            "good morning everyone",
            "Good morning, everyone.",
        ]
    else:
        assert [(t.turn_order, t.turn_is_formatted) for t in eots] == [(0, True), (1, True)]
        assert [t.transcript for t in eots] == ["Hello world.", "Good morning, everyone."]
    partials = [t for t in got.turns if not t.end_of_turn]
    # An early partial: words heard, none final yet, empty transcript.
    assert any(t.transcript == "" and t.words and not t.words[0].word_is_final for t in partials)
    # transcript only holds final words; words add the tentative tail.
    for t in partials:
        final_words = [w.text for w in t.words if w.word_is_final]
        assert t.transcript == " ".join(final_words)


async def test_sdk_sees_bad_key_as_1008() -> None:
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        client, got = sdk_client(fake, key="wrong")
        await client.connect(RealTimeParameters(sample_rate=16000))
        await asyncio.wait_for(fake_closed(fake), 5)
        await client.disconnect()
    assert fake.connections[0].close_code == 1008
    assert got.begin == []
    assert [e.code for e in got.errors] == [1008]
    assert "Unauthorized Connection" in str(got.errors[0])


async def fake_closed(fake: FakeAssemblyAI) -> None:
    while not fake.connections:
        await asyncio.sleep(0.01)
    await fake.connections[0].closed.wait()


async def test_sdk_sees_http_401_when_rejected_at_handshake() -> None:
    async with FakeAssemblyAI(keys=(KEY,), reject_http=True) as fake:
        client, got = sdk_client(fake, key="wrong")
        await client.connect(RealTimeParameters(sample_rate=16000))
        await client.disconnect()
    assert [e.code for e in got.errors] == [401]
    assert fake.connections == []


async def test_fake_closes_3007_when_audio_is_sent_too_fast() -> None:
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        client, got = sdk_client(fake)
        await client.connect(RealTimeParameters(sample_rate=16000))
        for _ in range(40):  # 2 s of audio at once
            await client.stream(CHUNK)
        await asyncio.wait_for(fake_closed(fake), 5)
        await client.disconnect()
    assert fake.connections[0].close_code == 3007
    assert "Audio Transmission Rate Exceeded" in fake.connections[0].close_reason
    assert [e.code for e in got.errors] == [3007]


async def test_fake_closes_3007_on_a_short_chunk() -> None:
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        client, got = sdk_client(fake)
        await client.connect(RealTimeParameters(sample_rate=16000))
        await client.stream(b"\x00\x00" * 320)  # 20 ms
        await asyncio.wait_for(fake_closed(fake), 5)
        await client.disconnect()
    rec = fake.connections[0]
    assert rec.close_code == 3007
    assert rec.close_reason == "Input duration violation: 20 ms. Expected between 50 and 1000 ms"
    assert [e.code for e in got.errors] == [3007]


async def test_fake_error_frame_then_3005_reaches_the_sdk() -> None:
    from tests.support.fakes.assemblyai import Fault

    async with FakeAssemblyAI(keys=(KEY,), faults=(Fault(0, 0.2, "error3005"),)) as fake:
        client, got = sdk_client(fake)
        await client.connect(RealTimeParameters(sample_rate=16000))
        await stream_paced(client, 0.3)
        await asyncio.wait_for(fake_closed(fake), 5)
        await client.disconnect()
    assert fake.connections[0].close_code == 3005
    assert got.errors and got.errors[0].code == 3005
    assert "Session Cancelled" in str(got.errors[0])


async def test_fake_expires_the_session_with_3008() -> None:
    async with FakeAssemblyAI(keys=(KEY,), max_session_s=0.5) as fake:
        client, got = sdk_client(fake)
        await client.connect(RealTimeParameters(sample_rate=16000))
        await stream_paced(client, 0.8)
        await asyncio.wait_for(fake_closed(fake), 5)
        await client.disconnect()
    assert fake.connections[0].close_code == 3008
    assert [e.code for e in got.errors] == [3008]


async def test_fake_bad_text_frames_close_3006() -> None:
    from websockets.asyncio.client import connect

    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        cases = (("nope", "Invalid JSON"), ("[]", "Invalid Message:"), ('{"type":"X"}', "Invalid Message Type"))
        for payload, reason in cases:
            async with connect(f"{fake.url}/v3/ws?sample_rate=16000", additional_headers={"Authorization": KEY}) as ws:
                begin = json.loads(await ws.recv())
                assert begin["type"] == "Begin"
                await ws.send(payload)
                await ws.wait_closed()
                assert ws.close_code == 3006
                assert reason in (ws.close_reason or "")


async def test_fake_token_endpoint_issues_one_time_tokens() -> None:
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{fake.port}") as http:
            bad = await http.get("/v3/token", params={"expires_in_seconds": 60}, headers={"Authorization": "wrong"})
            assert bad.status_code == 401 and "error" in bad.json()
            bad_param = await http.get("/v3/token", params={"expires_in_seconds": 0}, headers={"Authorization": KEY})
            assert bad_param.status_code == 400
            ok = await http.get("/v3/token", params={"expires_in_seconds": 60}, headers={"Authorization": KEY})
            assert ok.status_code == 200
            token = ok.json()["token"]
        # The SDK puts a token in the Authorization header; first use works, second is refused (one-time).
        for expected in ("Begin", 1008):
            client = AsyncRealTimeTranscriber(
                RealTimeTranscriberOptions(api_host=fake.url, token=token, max_connection_retries=0)
            )
            got = Collector(client)
            await client.connect(RealTimeParameters(sample_rate=16000))
            await asyncio.wait_for(_until(lambda g=got: bool(g.begin or g.errors)), 5)
            await client.disconnect()
            if expected == "Begin":
                assert got.begin and not got.errors
            else:
                assert [e.code for e in got.errors] == [1008]


async def _until(cond: Callable[..., bool]) -> None:
    while not cond():
        await asyncio.sleep(0.01)


# -- the fake's newer shapes, each parsed by the SDK's own models ----------------------------------


def paused_turn(start: float = 0.2, **kw: object) -> ScriptTurn:
    """ "My name is — Sonny.": a pause inside one turn (the U3 family sends a partial there)."""
    first = make_turn(start, "my name is", "My name is")
    second = make_turn(start + 1.5, "sonny", "Sonny.")
    return ScriptTurn(first.words + second.words, **kw)  # type: ignore[arg-type]


async def sdk_session(fake: FakeAssemblyAI, seconds: float, **params: object) -> Collector:
    client, got = sdk_client(fake)
    client.on(RealTimeEvents.SpeakerRevision, lambda _c, e: got.revisions.append(e))
    await client.connect(RealTimeParameters(sample_rate=16000, **params))  # type: ignore[arg-type]
    await stream_paced(client, seconds)
    await client.disconnect(terminate=True)
    assert got.errors == []
    return got


@pytest.mark.parametrize("model", ["u3-rt-pro", "universal-3-5-pro", "universal-3-6-pro"])
async def test_u3_family_partials_carry_the_whole_text_with_no_final_word(model: str) -> None:
    async with FakeAssemblyAI(keys=(KEY,), script=(paused_turn(),)) as fake:
        got = await sdk_session(fake, 3.0, speech_model=SpeechModel(model))
    partials = [t for t in got.turns if not t.end_of_turn]
    # At the pause: the whole partial, ending in an em dash, every word still tentative.
    pause = next(t for t in partials if t.transcript.endswith("—"))
    assert pause.transcript == "My name is—" and not any(w.word_is_final for w in pause.words)
    assert all(not w.word_is_final for t in partials for w in t.words)
    assert all(t.transcript for t in partials)  # never the Universal-Streaming "final words only" shape
    [final] = [t for t in got.turns if t.end_of_turn]
    assert (final.transcript, final.turn_is_formatted, final.end_of_turn_confidence) == ("My name is Sonny.", True, 1)
    assert all(w.word_is_final for w in final.words)
    assert len(got.speech) == 1  # SpeechStarted before the turn
    [begin] = got.begin
    assert begin.configuration is not None and begin.configuration.model == model
    rec = fake.connections[0]
    assert begin.configuration.mode == (None if model == "u3-rt-pro" else "balanced")  # 3.5/3.6: set by mode
    # The turn ended on its terminal punctuation once min_turn_silence (the model's default) had passed.
    assert (rec.params.get("min_turn_silence"), rec.params.get("max_turn_silence")) == (None, None)


async def test_whisper_sends_silence_turns_and_tagged_non_speech() -> None:
    script = (make_turn(0.2, "hola amigo", "Hola, amigo.", language="es"), make_turn(3.0, "musica", tag="Música"))
    async with FakeAssemblyAI(keys=(KEY,), script=script, whisper_silence_s=1.0) as fake:
        got = await sdk_session(fake, 4.2, speech_model=SpeechModel.whisper_rt, language_detection=True)
    eots = [t for t in got.turns if t.end_of_turn]
    silent = [t for t in eots if t.transcript == " silence  silence"]
    assert silent and all(t.words[0].text == "" and t.language_code for t in silent)
    raw = [m for m in fake.connections[0].sent if m.get("type") == "Turn" and m["end_of_turn"]]
    assert {m["utterance"] for m in raw} >= {"[ Silence] [ Silence]", "[Música]"}
    spoken = next(t for t in eots if "hola" in t.transcript)
    assert spoken.language_code == "es" and spoken.language_confidence == pytest.approx(0.9)


async def test_speaker_labels_and_the_speaker_revision_before_termination() -> None:
    script = (
        make_turn(0.1, "good morning to you all", speaker="alice"),
        make_turn(2.0, "thanks and good morning", speaker="bob", live_speaker="alice"),
    )
    async with FakeAssemblyAI(keys=(KEY,), script=script) as fake:
        got = await sdk_session(fake, 3.8, speaker_labels=True, max_speakers=2)
    eots = [t for t in got.turns if t.end_of_turn]
    assert [t.speaker_label for t in eots] == ["A", "A"]  # the second turn was labelled wrongly live
    assert all(w.speaker == "A" for t in eots for w in t.words)
    [revision] = got.revisions
    assert [(r.turn_order, r.speaker_label) for r in revision.revisions] == [(1, "B")]
    assert all(w.speaker == "B" for w in revision.revisions[0].words)
    kinds = [m["type"] for m in fake.connections[0].sent]
    assert kinds[-2:] == ["SpeakerRevision", "Termination"]


async def test_late_formatted_end_of_turn_and_empty_end_of_turn() -> None:
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT, format_lag=0.5, empty_force_endpoint=True) as fake:
        client, got = sdk_client(fake)
        await client.connect(RealTimeParameters(sample_rate=16000, format_turns=True))
        await stream_paced(client, 2.6)
        await client.force_endpoint()
        await client.disconnect(terminate=True)
    assert got.errors == []
    orders = [(t.turn_order, t.end_of_turn, t.turn_is_formatted) for t in got.turns]
    # The formatted end of turn 0 arrives after the first partials of turn 1.
    formatted0 = orders.index((0, True, True))
    assert any(o == 1 and not eot for o, eot, _f in orders[:formatted0])
    empty = [t for t in got.turns if t.end_of_turn and not t.words]
    assert empty and empty[0].transcript == "" and empty[0].turn_order == 2


async def test_transient_1008_then_success_and_parameters_a_model_refuses() -> None:
    reason = "Unauthorized connection: Incorrect padding"
    async with FakeAssemblyAI(keys=(KEY,), refusals=(reason,)) as fake:
        first, got1 = sdk_client(fake)
        await first.connect(RealTimeParameters(sample_rate=16000))
        await asyncio.wait_for(_until(lambda: bool(got1.errors)), 5)
        await first.disconnect()
        got2 = await sdk_session(fake, 0.2)
    assert [(e.code, str(e)) for e in got1.errors] == [(1008, reason)]
    assert got2.begin
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        client, got = sdk_client(fake)
        await client.connect(
            RealTimeParameters(
                sample_rate=16000, speech_model=SpeechModel.universal_streaming_english, mode=StreamingMode.balanced
            )
        )
        await asyncio.wait_for(_until(lambda: bool(got.errors)), 5)
        await client.disconnect()
    assert [e.code for e in got.errors] == [3006]  # the SDK words 3006 itself ("Input validation error")
    assert fake.connections[0].close_reason == "Invalid Message: mode not supported by universal-streaming-english"
