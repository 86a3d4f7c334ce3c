"""Meeting mode's sessions: lines and events carry their speaker; two sessions at once on one transcript never
share a line id; a source that fails is reported while the other goes on; option changes reach both."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest

from captioner.audio.base import AudioChunk, AudioError
from captioner.captions.events import AudioLevel, CaptionEvent, EngineError, EngineEvent, Final, Status
from captioner.captions.transcript import Transcript
from captioner.engines.base import EngineOptions
from captioner.session.build import SessionRequest
from captioner.session.meeting import Meeting, is_meeting, prepare_meeting
from captioner.session.session import Session
from tests.support.memory_source import PushSource
from tests.support.scripted_engine import Script, ScriptedEngine

OVERRIDES = {"scripted": ScriptedEngine}


@pytest.fixture(autouse=True)
def script() -> Script:
    ScriptedEngine.script = Script()
    return ScriptedEngine.script


class FailingSource(PushSource):
    """A live source that can fail the way a capture does (``AudioError`` from ``chunks()``)."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: str | None = None

    def fail(self, message: str) -> None:
        self.failure = message
        self.end()

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        async for chunk in super().chunks():
            yield chunk
        if self.failure is not None:
            raise AudioError(self.failure)


class DiarisingEngine(ScriptedEngine):
    """Labels its own lines (like an engine with speaker labels)."""

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        async for ev in super().stream(audio):
            yield (
                ev
                if not isinstance(ev, Final)
                else Final(line_id=ev.line_id, text=ev.text, engine=ev.engine, speaker="B")
            )


async def test_a_session_labels_its_lines_and_events_with_its_speaker() -> None:
    src = PushSource()
    events: list[CaptionEvent] = []
    session = Session(src, ScriptedEngine, EngineOptions(), on_event=events.append, speaker="You")
    src.push(8)
    src.end()
    await session.run()
    assert [line.speaker for line in session.transcript.finals] == ["You", "You"]
    assert all(e.speaker == "You" for e in events if isinstance(e, Status | AudioLevel))
    # An engine that names its speakers keeps its names.
    src = PushSource()
    session = Session(src, DiarisingEngine, EngineOptions(), speaker="Others")
    src.push(4)
    src.end()
    await session.run()
    assert [line.speaker for line in session.transcript.finals] == ["B"]


async def test_a_failing_source_ends_the_session_with_its_error_after_captioning_what_it_heard() -> None:
    src = FailingSource()
    session = Session(src, ScriptedEngine, EngineOptions())
    src.push(4)
    src.fail("microphone stopped delivering audio (disconnected?)")
    with pytest.raises(AudioError, match="disconnected"):
        await session.run()
    assert len(session.transcript.finals) == 1


def test_both_and_mic_plus_system_ask_for_meeting_mode() -> None:
    assert is_meeting("both") and is_meeting("mic+system") and is_meeting(" Mic+System ")
    assert not is_meeting("mic") and not is_meeting("system") and not is_meeting("both.wav")


async def run_meeting(meeting: Meeting, mic: PushSource, system: PushSource, chunks: int = 12) -> None:
    task = asyncio.create_task(meeting.run())
    for _ in range(chunks):
        mic.push(1)
        system.push_silence(1)
        await asyncio.sleep(0.005)
    mic.end()
    system.end()
    await asyncio.wait_for(task, 10)


@pytest.mark.parametrize("many_runs", [True, False])
async def test_both_sessions_write_one_transcript_with_their_speakers_and_distinct_ids(many_runs: bool) -> None:
    plan = prepare_meeting(SessionRequest(engine="scripted"), overrides=OVERRIDES)
    mic, system = PushSource(), PushSource()
    transcript = Transcript(many_runs=many_runs)
    meeting = plan.meeting(mic, system, transcript=transcript)
    await run_meeting(meeting, mic, system)
    you = [line for line in transcript.finals if line.speaker == "You"]
    others = [line for line in transcript.finals if line.speaker == "Others"]
    assert len(you) == 3 and len(others) == 3
    ids = [line.line_id for line in transcript.finals]
    assert len(set(ids)) == len(ids)
    prefix_you, prefix_others = meeting.you.id_prefix, meeting.others.id_prefix
    assert prefix_you != prefix_others
    assert all(line.line_id.startswith(f"{prefix_you}1-") for line in you)
    assert all(line.line_id.startswith(f"{prefix_others}1-") for line in others)
    # One timeline: the lines of both speakers start at about the same moments (they were captured together).
    assert abs(you[0].start - others[0].start) < 0.5  # type: ignore[operator]
    assert meeting.canceller is not None and meeting.canceller.processed_seconds == pytest.approx(0.6)


async def test_when_one_source_fails_the_other_goes_on_and_the_failure_is_reported() -> None:
    plan = prepare_meeting(SessionRequest(engine="scripted"), overrides=OVERRIDES)
    mic, system = FailingSource(), PushSource()
    events: list[CaptionEvent] = []
    meeting = plan.meeting(mic, system, on_event=events.append)
    task = asyncio.create_task(meeting.run())
    mic.push(4)
    system.push_silence(4)
    await asyncio.sleep(0.05)
    mic.fail("microphone Test stopped delivering audio (disconnected?)")
    await asyncio.sleep(0.05)
    assert not task.done()
    system.push_silence(8)  # the others are still captioned
    await asyncio.sleep(0.05)
    system.end()
    await asyncio.wait_for(task, 10)  # one failure does not fail the meeting
    [error] = [e for e in events if isinstance(e, EngineError)]
    assert error.speaker == "You" and not error.retryable
    assert "disconnected" in error.message and "Others still captioned" in error.message
    others = [line for line in meeting.transcript.finals if line.speaker == "Others"]
    assert len(others) == 3
    assert set(meeting.failures) == {"You"}


async def test_when_both_sources_fail_the_meeting_fails() -> None:
    plan = prepare_meeting(SessionRequest(engine="scripted"), overrides=OVERRIDES)
    mic, system = FailingSource(), FailingSource()
    meeting = plan.meeting(mic, system)
    task = asyncio.create_task(meeting.run())
    mic.push(2)
    system.fail("the system audio is gone")
    mic.fail("the microphone is gone")
    with pytest.raises(AudioError, match="microphone is gone"):
        await asyncio.wait_for(task, 10)


async def test_option_changes_reach_both_sessions(script: Script) -> None:
    plan = prepare_meeting(SessionRequest(engine="scripted"), overrides=OVERRIDES)
    mic, system = PushSource(), PushSource()
    meeting = plan.meeting(mic, system)
    task = asyncio.create_task(meeting.run())
    mic.push(1)
    system.push(1)
    await asyncio.sleep(0.05)
    boosted = EngineOptions(word_boost=("Captioner",), silence_ms=700)
    await meeting.update_options(boosted)
    assert script.updates == [boosted, boosted]
    assert {s.engine.options.word_boost for s in meeting.sessions if s.engine} == {("Captioner",)}
    await meeting.stop()
    await asyncio.wait_for(task, 10)


class PaidEngine(ScriptedEngine):
    """Stands for a cloud engine: needs credentials."""

    id = "paid"
    name = "Paid engine"
    capabilities = dataclasses.replace(ScriptedEngine.capabilities, needs_credentials=True)


async def test_a_cloud_engine_is_said_to_be_used_twice(script: Script) -> None:
    request = SessionRequest(engine="paid", api_key="key")
    plan = prepare_meeting(request, overrides={"paid": PaidEngine})
    assert any("two connections to Paid engine" in n for n in plan.you.notices)
    assert not any(
        "two connections" in n
        for n in prepare_meeting(SessionRequest(engine="scripted"), overrides=OVERRIDES).you.notices
    )
