"""With real capture (the PulseAudio test daemon): when the microphone's stream dies mid-meeting, the failure is
reported with its speaker, the system audio goes on being captioned, and the microphone is opened again."""

from __future__ import annotations

import asyncio
import time

import pytest

from captioner.audio.mic import MicrophoneSource
from captioner.captions.events import CaptionEvent, EngineError, Final
from captioner.session.build import SessionRequest
from captioner.session.meeting import prepare_meeting
from tests.audio.pulse import PulseServer
from tests.support.scripted_engine import Script, ScriptedEngine
from tests.support.speech import speech_wav

pytestmark = [pytest.mark.pulse]


def inner(source: object) -> MicrophoneSource:
    """The capture source under the meeting's wrappers."""
    while not isinstance(source, MicrophoneSource):
        source = source.source  # type: ignore[attr-defined]
    return source


async def test_the_microphone_dies_the_others_are_still_captioned_and_it_comes_back(meeting_pulse: PulseServer) -> None:
    ScriptedEngine.script = Script(per_final=10)
    plan = prepare_meeting(SessionRequest(engine="scripted"), overrides={"scripted": ScriptedEngine})
    mic, system = plan.open_sources()
    events: list[CaptionEvent] = []
    meeting = plan.meeting(mic, system, on_event=events.append)
    task = asyncio.create_task(meeting.run())
    player = meeting_pulse.play(speech_wav("two_cities.wav"))
    try:
        async with asyncio.timeout(20):
            while not any(isinstance(e, Final) and e.speaker == "You" for e in events):
                await asyncio.sleep(0.05)
        inner(meeting.you.source)._stream.abort()  # the device goes away: PortAudio ends the stream
        async with asyncio.timeout(10):
            while not any(isinstance(e, EngineError) for e in events):
                await asyncio.sleep(0.05)
        failed_at = time.monotonic()
        [error] = [e for e in events if isinstance(e, EngineError)]
        assert error.speaker == "You" and "stopped delivering audio" in error.message, error
        assert error.retryable  # the microphone is opened again when it can be
        async with asyncio.timeout(20):
            while not any(isinstance(e, Final) and e.speaker == "Others" for e in events[events.index(error) :]):
                await asyncio.sleep(0.05)
        assert not task.done()
        assert time.monotonic() - failed_at < 20
        async with asyncio.timeout(20):
            while not any(isinstance(e, Final) and e.speaker == "You" for e in events[events.index(error) :]):
                await asyncio.sleep(0.05)
    finally:
        player.kill()
        player.wait(10)
        await meeting.stop()
        await asyncio.wait_for(task, 20)
    assert not meeting.failures
