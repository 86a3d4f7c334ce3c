"""Uhlive Conversation: a drop mid-utterance, then the session skips the middle of pauses to catch up.

The fake recognises pure-tone bursts and reports times in audio received since
the join origin, as the service does, so the captions' times prove that the
engine maps them back to the source timeline across the skipped silence.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from captioner.audio.file import WavFileSource
from captioner.captions.events import AudioLevel, CaptionEvent, EngineError, Status
from captioner.captions.transcript import Transcript
from captioner.engines.base import Credentials, EngineOptions
from captioner.engines.uhlive.conversation import UhliveConversationEngine
from captioner.session.catch_up import CatchUpPolicy
from captioner.session.session import RetryPolicy, Session
from tests.support.fakes.uhlive import FakeConversationServer, FakeTokenServer, burst_times, tone_wav

# Four utterances, pauses of 1.6 s between them.
PATTERN = [(0, 0.2), (400, 0.5), (0, 1.6), (700, 0.6), (0, 1.6), (1000, 0.4), (0, 1.6), (1300, 0.5), (0, 0.7)]
EXPECTED = burst_times(PATTERN)
CREDS = Credentials(client_id="cid", client_secret="s3cret")


class FakeTimedConversation(UhliveConversationEngine):
    """The engine, declaring the fake's end-of-utterance silence (0.5 s) instead of the 1 s assumed for the service."""

    def endpoint_silence(self) -> float:
        return 0.6


async def test_drop_mid_utterance_then_catch_up(
    conversation_server: FakeConversationServer, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    wav = tone_wav(tmp_path / "paused.wav", PATTERN)
    conversation_server.drop_after_bytes = int(2.6 * 16000)  # in the middle of the second utterance
    events: list[CaptionEvent] = []
    transcript = Transcript()
    opts = EngineOptions(endpoint=conversation_server.url, extra={"auth_endpoint": token_server.url})
    session = Session(
        WavFileSource(wav, 8000, realtime=True),
        lambda o: FakeTimedConversation(o, CREDS),
        opts,
        transcript=transcript,
        on_event=events.append,
        retry=RetryPolicy(initial=0.5, maximum=0.5, max_attempts=3),
        catch_up=CatchUpPolicy(behind=0.5, min_keep=0.5, lead_in=0.2),
    )
    await asyncio.wait_for(session.run(), 30)

    assert len([e for e in events if isinstance(e, EngineError)]) == 1
    _first, second = conversation_server.connections
    total = int(sum(s for _, s in PATTERN) * 16000)
    # The second connection replayed from the end of the first utterance (0.7 s) but left out
    # the middle of the pauses: less audio than the rest of the file.
    replayed = total - int(0.7 * 16000)
    skipped_bytes = replayed - second.bytes
    assert session.skipped_seconds > 1.2
    assert skipped_bytes == pytest.approx(session.skipped_seconds * 16000, abs=1600)
    assert any(isinstance(e, Status) and e.message.startswith("catching up: skipped") for e in events)
    # Every utterance once, the one cut in half included, at its place on the source timeline.
    lines = transcript.finals
    assert [line.text.lower().rstrip(".") for line in lines] == [text for text, _, _ in EXPECTED]
    for line, (_, start, end) in zip(lines, EXPECTED, strict=True):
        assert line.start == pytest.approx(start, abs=0.06)
        assert line.end == pytest.approx(end, abs=0.06)
    # The lag after the reconnect came down by what was skipped.
    lags = [e.lag for e in events if isinstance(e, AudioLevel)]
    assert max(lags) > 1.8
    assert lags[-1] < max(lags) - 1.2
