"""The `uhlive` engine (Stream Conversation) against the fake server, through a real Session."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from captioner.captions.events import EngineError, Final, Interim, Status
from captioner.engines.base import Credentials, EngineFailure, EngineOptions
from captioner.engines.uhlive_conversation import UhliveConversationEngine
from captioner.session import RetryPolicy
from tests.uhlive.conftest import PATTERN
from tests.uhlive.fakes import FakeConversationServer, FakeTokenServer, burst_times
from tests.uhlive.helpers import finals, run_session

EXPECTED = burst_times(PATTERN)


def options(server: FakeConversationServer, tokens: FakeTokenServer, **kw: object) -> EngineOptions:
    extra = {"auth_endpoint": tokens.url}
    return EngineOptions(endpoint=server.url, extra=extra, **kw)  # type: ignore[arg-type]


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
