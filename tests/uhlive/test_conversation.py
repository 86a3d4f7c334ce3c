"""The `uhlive` engine (Stream Conversation) against the fake server, through a real Session."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from captioner.captions.events import EngineError, Final, Interim, Status
from captioner.engines.base import Credentials, EngineFailure, EngineOptions
from captioner.engines.uhlive.conversation import UhliveConversationEngine
from captioner.session.session import RetryPolicy
from tests.support.fakes.uhlive import FakeConversationServer, FakeTokenServer, burst_times
from tests.uhlive.helpers import CUT_BYTES, PATTERN, finals, run_session

EXPECTED = burst_times(PATTERN)


def options(server: FakeConversationServer, tokens: FakeTokenServer, **kw: Any) -> EngineOptions:
    extra = {"auth_endpoint": tokens.url}
    return EngineOptions(endpoint=server.url, extra=extra, **kw)


CREDS = Credentials(client_id="cid", client_secret="s3cret")


async def test_interim_final_normalized(
    conversation_server: FakeConversationServer, token_server: FakeTokenServer, tones: Path
) -> None:
    transcript, events = await run_session(
        UhliveConversationEngine, tones, options(conversation_server, token_server, language="en-GB"), CREDS
    )
    # Committed text is the normalised version of each utterance, in order, at the right place.
    lines = transcript.finals
    assert [line.text for line in lines] == [text[:1].upper() + text[1:] + "." for text, _, _ in EXPECTED]
    for line, (_, start, end) in zip(lines, EXPECTED, strict=True):
        assert line.start == pytest.approx(start, abs=0.06)
        assert line.end == pytest.approx(end, abs=0.06)
    # Each line went interim → final (raw) → final (normalised) under one id.
    for line in lines:
        kinds = [
            (type(e).__name__, getattr(e, "formatted", None))
            for e in events
            if isinstance(e, Interim | Final) and e.line_id == line.line_id
        ]
        assert kinds[0] == ("Interim", None)
        assert kinds[-2:] == [("Final", False), ("Final", True)]
    raw = [e.text for e in finals(events) if not e.formatted]
    assert raw == [text for text, _, _ in EXPECTED]
    # Join as the brief says: our language/country, interim results and rescoring on, linear codec.
    join = conversation_server.joins[0]
    assert (join["model"], join["country"], join["interim_results"], join["rescoring"], join["audio_codec"]) == (
        "en",
        "gb",
        True,
        True,
        "linear",
    )
    conn = conversation_server.connections[0]
    assert not conn.violations
    # Every byte of the file arrived, in 100 ms frames (the last may be shorter), at about real time.
    total = int(sum(s for _, s in PATTERN) * 8000) * 2
    assert abs(conn.bytes - total) <= 4
    assert set(conn.frames[:-1]) == {1600}
    span = conn.frame_times[-1] - conn.frame_times[0]
    assert span >= (len(conn.frames) - 1) * 0.1 - 0.05
    # The leave was acknowledged by our own speaker_left before we closed.
    assert [m[3] for m in conn.texts][-1] == "phx_leave"
    assert any(isinstance(e, Status) and e.state.value == "listening" for e in events)
    assert not any(isinstance(e, EngineError) for e in events)


async def test_bad_client_credentials_are_a_refusal(
    conversation_server: FakeConversationServer, token_server: FakeTokenServer, short_tone: Path
) -> None:
    with pytest.raises(EngineFailure) as info:
        await run_session(
            UhliveConversationEngine,
            short_tone,
            options(conversation_server, token_server),
            Credentials(client_id="cid", client_secret="wrong"),
        )
    assert info.value.refused and not info.value.retryable
    assert "refused the client credentials" in info.value.message and "401" in info.value.message
    assert "wrong" not in info.value.message
    assert len(token_server.requests) == 1  # not retried
    assert conversation_server.connections == []


async def test_bad_token_refused_at_handshake(
    conversation_server: FakeConversationServer, token_server: FakeTokenServer, short_tone: Path
) -> None:
    with pytest.raises(EngineFailure) as info:
        await run_session(
            UhliveConversationEngine,
            short_tone,
            options(conversation_server, token_server),
            Credentials(token="not-a-valid-token"),
        )
    assert info.value.refused and not info.value.retryable
    assert conversation_server.rejected == [403]
    assert "not-a-valid-token" not in info.value.message


async def test_join_error_is_a_refusal(
    conversation_server: FakeConversationServer, token_server: FakeTokenServer, short_tone: Path
) -> None:
    conversation_server.join_error = "subscription expired"
    with pytest.raises(EngineFailure) as info:
        await run_session(UhliveConversationEngine, short_tone, options(conversation_server, token_server), CREDS)
    assert info.value.refused and "subscription expired" in info.value.message
    assert len(conversation_server.connections) == 1


@pytest.mark.parametrize("fault", ["drop", "phx_error"])
async def test_reconnect_loses_no_audio(
    conversation_server: FakeConversationServer, token_server: FakeTokenServer, tones: Path, fault: str
) -> None:
    cut = CUT_BYTES
    if fault == "drop":
        conversation_server.drop_after_bytes = cut
    else:
        conversation_server.phx_error_after_bytes = cut
    transcript, events = await run_session(
        UhliveConversationEngine,
        tones,
        options(conversation_server, token_server),
        CREDS,
        retry=RetryPolicy(initial=0.05, max_attempts=3),
    )
    errors = [e for e in events if isinstance(e, EngineError)]
    assert len(errors) == 1 and errors[0].retryable
    assert len(conversation_server.connections) == 2
    assert len(token_server.requests) == 2  # a fresh token for the new socket
    # Every utterance once, the one cut in half included, at its place on the source timeline.
    lines = transcript.finals
    assert [line.text.lower().rstrip(".") for line in lines] == [text for text, _, _ in EXPECTED]
    for line, (_, start, end) in zip(lines, EXPECTED, strict=True):
        assert line.start == pytest.approx(start, abs=0.06)
        assert line.end == pytest.approx(end, abs=0.06)
    # The new connection started from the end of the last committed line, not later.
    first, second = conversation_server.connections
    replay_from = EXPECTED[0][2]
    assert second.bytes >= int((sum(s for _, s in PATTERN) - replay_from) * 16000) - 1600
    assert first.bytes + second.bytes > int(sum(s for _, s in PATTERN) * 16000)


async def test_secrets_never_logged(
    conversation_server: FakeConversationServer,
    token_server: FakeTokenServer,
    short_tone: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    transcript, _ = await run_session(
        UhliveConversationEngine, short_tone, options(conversation_server, token_server), CREDS
    )
    assert [line.text for line in transcript.finals] == ["Good morning everyone."]
    assert token_server.issued
    for secret in ("s3cret", *token_server.issued):
        assert secret not in caplog.text
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # debug logging was on


def test_capabilities_and_warnings() -> None:
    caps = UhliveConversationEngine.capabilities
    assert (caps.sample_rate, caps.interim_results, caps.word_boost, caps.silence_threshold) == (
        8000,
        True,
        False,
        False,
    )
    assert caps.needs_credentials and caps.realtime_input
    assert set(caps.languages) == {"fr", "en", "es", "de"}
    engine = UhliveConversationEngine(EngineOptions(word_boost=("Kubernetes", "Dupont"), silence_ms=700))
    warnings = engine.validate()
    assert len(warnings) == 2
    assert "no vocabulary boosting" in warnings[0] and "Kubernetes" in warnings[0]
    assert "silence threshold" in warnings[1]
    assert UhliveConversationEngine(EngineOptions()).validate() == []


@pytest.mark.parametrize(
    ("opts", "message"),
    [
        (EngineOptions(language="it"), "does not offer language"),
        (EngineOptions(endpoint="http://example.com"), "ws:// or wss://"),
        (EngineOptions(extra={"auth_endpoint": "ftp://x"}), "http(s) URL"),
    ],
)
def test_bad_options_fail_at_construction(opts: EngineOptions, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        UhliveConversationEngine(opts)
