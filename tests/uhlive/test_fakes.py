"""The fakes checked against the official `uhlive` SDK (its builders and strict parsers) and golden frames.

If a fake drifted from the protocol, the SDK would refuse its frames here, so the
engine tests cannot pass by agreeing with a wrong fake.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, TypeVar

import numpy as np
import pytest
from uhlive.stream.conversation import Conversation, Ok, SpeakerJoined, SpeakerLeft, Unknown
from uhlive.stream.conversation.error import UhliveError
from uhlive.stream.conversation.events import AudioSegmentDecoded, AudioSegmentNormalized, AudioWordsDecoded
from uhlive.stream.recognition import (
    Closed,
    CompletionCause,
    MethodFailed,
    MethodNotAllowed,
    MethodNotValid,
    Opened,
    ParamsSet,
    RecognitionComplete,
    RecognitionInProgress,
    Recognizer,
    StartOfInput,
    Stopped,
)
from websockets.asyncio.client import connect

from tests.support.fakes.uhlive import IDLE_CLOSE, FakeConversationServer, FakeH2BServer, FakeTokenServer, decode_push

# Golden frames from the protocol brief (verified output of SDK 2.1.0).
GOLDEN_JOIN = (
    '["1","1","conversation:myclient@conv42","phx_join",{"readonly":false,"speaker":"Alice","model":"fr",'
    '"country":"fr","interim_results":true,"rescoring":true,"origin":1700000000000,"audio_codec":"linear"}]'
)
GOLDEN_PUSH_HEAD = b"\x00\x01\x01\x1c\x0b12conversation:myclient@conv42audio_chunk"
GOLDEN_OPEN = (
    '{"command":"OPEN","request_id":1,"channel_id":"pfx","headers":{"custom_id":"cust","audio_codec":"linear",'
    '"session_id":""},"body":""}'
)
E = TypeVar("E")

GOLDEN_COMPLETE: dict[str, Any] = {
    "event": "RECOGNITION-COMPLETE",
    "request_id": 5,
    "channel_id": "6276ee5ec29e4",
    "headers": {},
    "completion_cause": "Success",
    "completion_reason": "success",
    "body": {
        "asr": {
            "transcript": "l e cent trente-sept",
            "confidence": 0.966,
            "start": 1732207126566,
            "end": 1732207132536,
        },
        "nlu": {"type": "builtin:speech/spelling/mixed", "value": "le137", "confidence": 0.9467},
        "grammar_uri": "session:parcel",
        "asr_model": "fr.epellation.v26",
        "version": "1.38.0",
    },
}


def tone(pitch: int, seconds: float) -> bytes:
    t = np.arange(int(seconds * 8000)) / 8000
    return (
        (0.3 * np.sin(2 * np.pi * pitch * t) * 32767).astype("<i2").tobytes() if pitch else bytes(int(seconds * 16000))
    )


def test_sdk_builds_the_golden_conversation_frames() -> None:
    conv = Conversation("myclient", "conv42", "Alice")
    join = conv.join(model="fr", country="fr", interim_results=True, rescoring=True, origin=1700000000000)
    assert join == GOLDEN_JOIN
    conv.receive(json.dumps(["1", "1", conv.topic, "phx_reply", {"status": "ok", "response": {}}]))
    frame = conv.send_audio_chunk(b"\x01\x02")
    assert frame == GOLDEN_PUSH_HEAD + b"\x01\x02"
    assert decode_push(frame) == ("1", "2", "conversation:myclient@conv42", "audio_chunk", b"\x01\x02")


def test_sdk_builds_the_golden_open() -> None:
    assert Recognizer().open("cust", "pfx", audio_codec="linear") == GOLDEN_OPEN


def test_golden_result_and_fake_result_have_the_same_shape() -> None:
    golden = Recognizer()
    golden._state = golden._state.__class__.Recognition  # as after RECOGNITION-IN-PROGRESS
    event = golden.receive(json.dumps(GOLDEN_COMPLETE))
    assert isinstance(event, RecognitionComplete) and event.completion_cause == CompletionCause.Success
    assert event.body is not None and event.body.asr is not None
    assert event.body.asr.transcript == "l e cent trente-sept"


async def test_conversation_fake_speaks_the_sdk_protocol(token_server: FakeTokenServer) -> None:
    async with FakeConversationServer(token_server.issued) as server:
        server.chatter = True
        token = token_server.make_token()
        conv = Conversation("acme", "conf", "Alice")
        async with connect(f"{server.url}/socket/websocket?jwt={token}&vsn=2.0.0") as ws:
            await ws.send(conv.join(model="fr", country="fr", interim_results=True, origin=int(time.time() * 1000)))
            first = conv.receive(await ws.recv())
            assert isinstance(first, Ok) and not conv.left  # joined
            audio = tone(0, 0.2) + tone(1300, 0.8) + tone(0, 0.7)
            for i in range(0, len(audio), 1600):
                await ws.send(conv.send_audio_chunk(audio[i : i + 1600]))
            await ws.send(conv.leave())
            seen = []
            other_topics = 0
            while not conv.left:
                raw = await ws.recv()
                if json.loads(raw)[2] != conv.topic:
                    other_topics += 1  # the SDK would assert on these: clients must filter them
                    continue
                seen.append(conv.receive(raw))
        kinds = [type(e) for e in seen]
        assert other_topics == 1
        assert SpeakerJoined in kinds and Unknown in kinds and SpeakerLeft in kinds
        words = [e for e in seen if isinstance(e, AudioWordsDecoded)]
        final = [e for e in seen if isinstance(e, AudioSegmentDecoded) and e.speaker == "Alice"]
        normalized = [e for e in seen if isinstance(e, AudioSegmentNormalized)]
        assert words and final and normalized
        assert final[0].value == "thank you very much" and normalized[0].value == "Thank you very much."
        assert final[0].id == normalized[0].id == words[0].id
        assert [c.value for c in final[0].components] == final[0].value.split()
        assert final[0].end - final[0].start == pytest.approx(800, abs=40)
        assert final[0].lang == "fr" and final[0].confidence > 0
        assert not server.connections[0].violations


async def test_conversation_fake_join_errors_reach_the_sdk(token_server: FakeTokenServer) -> None:
    async with FakeConversationServer(token_server.issued) as server:
        server.join_error = "unknown subscription"
        conv = Conversation("acme", "conf", "Alice")
        async with connect(f"{server.url}/socket/websocket?jwt={token_server.make_token()}&vsn=2.0.0") as ws:
            await ws.send(conv.join(model="fr"))
            with pytest.raises(UhliveError, match="unknown subscription"):
                conv.receive(await ws.recv())


async def test_h2b_fake_speaks_the_sdk_protocol(token_server: FakeTokenServer) -> None:
    async with FakeH2BServer(token_server.issued) as server:
        rec = Recognizer()
        headers = {"Authorization": f"Bearer {token_server.make_token()}"}  # scheme matched case-insensitively
        async with connect(f"{server.url}/bots", additional_headers=headers) as ws:

            async def expect(kind: type[E]) -> E:
                event = rec.receive(await ws.recv())  # strict: all 7 keys, known enums, state
                assert isinstance(event, kind), event
                return event

            # Wrong state and unknown command, answered with the documented failure events.
            await ws.send(
                json.dumps({"command": "RECOGNIZE", "request_id": 1, "channel_id": "", "headers": {}, "body": ""})
            )
            await expect(MethodNotAllowed)
            await ws.send(
                json.dumps({"command": "DANCE", "request_id": 2, "channel_id": "", "headers": {}, "body": ""})
            )
            await expect(MethodNotValid)
            await ws.send(rec.open("cust", "pfx"))
            opened = await expect(Opened)
            assert rec.channel_id.startswith("pfx")
            assert opened.request_id == 1  # echoes the command's id
            await ws.send(rec.set_params(speech_language="en", no_input_timeout=5000, speech_complete_timeout=400))
            await expect(ParamsSet)
            await ws.send(rec.recognize("builtin:speech/nonsense"))
            failed = await expect(MethodFailed)
            assert failed.completion_cause == CompletionCause.GramLoadFailure
            await ws.send(rec.recognize("builtin:speech/transcribe"))
            await expect(RecognitionInProgress)
            audio = tone(0, 0.2) + tone(400, 0.5) + tone(0, 0.6)
            for i in range(0, len(audio), 1600):
                await ws.send(rec.send_audio_chunk(audio[i : i + 1600]))
            await expect(StartOfInput)
            done = await expect(RecognitionComplete)
            assert done.completion_cause == CompletionCause.Success
            assert done.body is not None and done.body.asr is not None
            assert done.body.asr.transcript == "hello world"
            # A STOP outside a recognition is refused; inside one it stops it.
            await ws.send(
                json.dumps(
                    {"command": "STOP", "request_id": 9, "channel_id": rec.channel_id, "headers": {}, "body": ""}
                )
            )
            await expect(MethodNotAllowed)
            await ws.send(rec.recognize("builtin:speech/transcribe"))
            await expect(RecognitionInProgress)
            await ws.send(rec.stop())
            await expect(Stopped)
            await ws.send(rec.close())
            await expect(Closed)
        for ev in server.connections[0].sent:
            assert set(ev) == {
                "event",
                "request_id",
                "channel_id",
                "headers",
                "completion_cause",
                "completion_reason",
                "body",
            }
        assert set(server.connections[0].completions[0]["body"]) >= set(GOLDEN_COMPLETE["body"]) - {"alternatives"}


# -- the fakes' newer shapes, checked with the SDK ----------------------------------------------------


async def test_pushed_events_carry_join_ref_and_ref_as_the_sdk_sample_frames(token_server: FakeTokenServer) -> None:
    async with FakeConversationServer(token_server.issued) as server:
        conv = Conversation("acme", "conf", "Alice")
        async with connect(f"{server.url}/socket/websocket?jwt={token_server.make_token()}&vsn=2.0.0") as ws:
            await ws.send(conv.join(model="fr", country="fr", interim_results=True, origin=int(time.time() * 1000)))
            conv.receive(await ws.recv())
            audio = tone(0, 0.2) + tone(700, 0.8) + tone(0, 0.7)
            for i in range(0, len(audio), 1600):
                await ws.send(conv.send_audio_chunk(audio[i : i + 1600]))
            await ws.send(conv.leave())
            while not conv.left:
                raw = await ws.recv()
                if json.loads(raw)[2] == conv.topic:
                    conv.receive(raw)
    pushed = [m for m in server.connections[0].sent if m[3] not in ("phx_reply", "phx_close")]
    assert pushed and all(m[0] == "1" and isinstance(m[1], int) for m in pushed)
    assert [m[1] for m in pushed] == sorted(m[1] for m in pushed)


def test_password_grant_form_of_the_sdk_is_accepted(token_server: FakeTokenServer) -> None:
    import urllib.parse
    import urllib.request

    from uhlive.auth import build_authentication_request

    token_server.users["ada"] = "pa55"
    _url, form = build_authentication_request("cid", "", user_id="ada", user_pwd="pa55")
    assert form["grant_type"] == "password"
    data = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(urllib.request.Request(token_server.url, data=data), timeout=5) as resp:
        assert json.loads(resp.read())["access_token"] in token_server.issued
    _url, bad = build_authentication_request("cid", "", user_id="ada", user_pwd="wrong")
    request = urllib.request.Request(token_server.url, data=urllib.parse.urlencode(bad).encode())
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 401 and json.loads(info.value.read())["error"] == "invalid_grant"


async def test_h2b_no_match_below_the_confidence_threshold(token_server: FakeTokenServer) -> None:
    async with FakeH2BServer(token_server.issued) as server:
        rec = Recognizer()
        headers = {"Authorization": f"bearer {token_server.make_token()}"}
        async with connect(f"{server.url}/bots", additional_headers=headers) as ws:
            await ws.send(rec.open("t", "p"))
            assert isinstance(rec.receive(await ws.recv()), Opened)
            results = []
            for threshold, amplitude in ((0.5, 0.1), (0.2, 0.1), (0.5, 0.3)):
                await ws.send(
                    rec.recognize(
                        "builtin:speech/transcribe", speech_complete_timeout=300, confidence_threshold=threshold
                    )
                )
                assert isinstance(rec.receive(await ws.recv()), RecognitionInProgress)
                t = np.arange(4000) / 8000
                burst = (amplitude * np.sin(2 * np.pi * 700 * t) * 32767).astype("<i2").tobytes()
                for chunk in (tone(0, 0.1), burst, tone(0, 0.5)):
                    for i in range(0, len(chunk), 1600):
                        await ws.send(rec.send_audio_chunk(chunk[i : i + 1600]))
                event = rec.receive(await ws.recv())
                while not isinstance(event, RecognitionComplete):
                    assert isinstance(event, StartOfInput)
                    event = rec.receive(await ws.recv())
                results.append(event)
    quiet, lowered, loud = results
    assert quiet.completion_cause == CompletionCause.NoMatch  # a quiet voice: below the default 0.5
    assert quiet.body is not None and quiet.body.asr is not None and quiet.body.nlu is None
    assert quiet.body.asr.confidence < 0.5 and quiet.body.asr.transcript == "good morning everyone"
    assert lowered.completion_cause == CompletionCause.Success  # the same voice with the threshold at 0.2
    assert loud.completion_cause == CompletionCause.Success and loud.body and loud.body.asr
    assert loud.body.asr.confidence > 0.5


async def test_with_latency_in_progress_arrives_after_the_clients_next_step(token_server: FakeTokenServer) -> None:
    from uhlive.stream.recognition import ProtocolError

    async with FakeH2BServer(token_server.issued) as server:
        server.latency = 0.16
        rec = Recognizer()
        headers = {"Authorization": f"bearer {token_server.make_token()}"}
        async with connect(f"{server.url}/bots", additional_headers=headers) as ws:
            await ws.send(rec.open("t", "p"))
            t0 = time.monotonic()
            assert isinstance(rec.receive(await ws.recv()), Opened)
            assert time.monotonic() - t0 >= 0.15  # a round trip
            await ws.send(rec.recognize("builtin:speech/transcribe"))
            # Right after RECOGNIZE, before RECOGNITION-IN-PROGRESS is back, the SDK refuses a STOP.
            with pytest.raises(ProtocolError):
                rec.stop()
            assert isinstance(rec.receive(await ws.recv()), RecognitionInProgress)
            await ws.send(rec.stop())
            assert isinstance(rec.receive(await ws.recv()), Stopped)


@pytest.mark.parametrize("ping", [None, 0.2])
async def test_idle_close_and_pings_keep_the_socket_open(token_server: FakeTokenServer, ping: float | None) -> None:
    async with FakeConversationServer(token_server.issued) as server:
        server.idle_timeout = 0.8  # the service: 60 s
        url = f"{server.url}/socket/websocket?jwt={token_server.make_token()}&vsn=2.0.0"
        async with connect(url, ping_interval=ping, ping_timeout=5) as ws:
            await asyncio.sleep(1.6)
            if ping is None:
                await ws.wait_closed()
                assert (ws.close_code, ws.close_reason) == IDLE_CLOSE
            else:
                assert ws.close_code is None  # still open: the pings were traffic
    assert server.connections[0].idle_closed is (ping is None)
