"""The session: retry with replay (no audio lost), live update, seamless restart, stop and flush."""

from __future__ import annotations

import asyncio
import re

import pytest

from captioner.captions.events import AudioLevel, CaptionEvent, EngineError, EngineState, Final, Status, Word
from captioner.captions.transcript import Transcript
from captioner.engines.base import EngineFailure, EngineOptions
from captioner.session.session import RetryPolicy, Session
from tests.support.memory_source import PushSource
from tests.support.scripted_engine import Script, ScriptedEngine

FAST = RetryPolicy(initial=0.01, maximum=0.02)


@pytest.fixture
def script() -> Script:
    ScriptedEngine.script = Script()
    return ScriptedEngine.script


def chunk_ids(session: Session) -> list[int]:
    """Every chunk start (ms) named in a committed caption, in order, duplicates kept."""
    return [int(m) for line in session.transcript.finals for m in re.findall(r"c(\d+)", line.text)]


async def wait_for(cond, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.005)


def expected_ids(n: int) -> list[int]:
    return [i * 50 for i in range(n)]


async def test_every_chunk_is_committed_once(script: Script) -> None:
    src = PushSource()
    events: list[CaptionEvent] = []
    session = Session(src, ScriptedEngine, EngineOptions(), on_event=events.append, retry=FAST)
    src.push(10)
    src.end()
    await session.run()
    assert chunk_ids(session) == expected_ids(10)
    assert len(session.transcript.finals) == 3  # 4 + 4 + 2 (the tail is flushed at the end)
    assert session.transcript.finals[0].line_id == "1-0"
    assert any(isinstance(e, AudioLevel) for e in events)
    assert isinstance(events[-1], Status) and events[-1].state is EngineState.STOPPED


async def test_retryable_failure_reconnects_and_replays_from_last_final(script: Script) -> None:
    script.fail_at_chunk = {0: EngineFailure("connection dropped", retryable=True)}
    src = PushSource()
    events: list[CaptionEvent] = []
    session = Session(src, ScriptedEngine, EngineOptions(), on_event=events.append, retry=FAST)
    src.push(12)
    src.end()
    await session.run()
    # The first engine committed chunks 0-3, then died holding 4-5 as interim: they are replayed.
    assert len(script.instances) == 2
    assert [round(c.start * 1000) for c in script.instances[1].received][:2] == [200, 250]
    assert chunk_ids(session) == expected_ids(12)
    errors = [e for e in events if isinstance(e, EngineError)]
    assert errors and errors[0].retryable and errors[0].message == "connection dropped"
    assert any(isinstance(e, Status) and e.state is EngineState.RECONNECTING for e in events)
    # Ids of the second engine session never collide with the first.
    assert {line.line_id.split("-")[0] for line in session.transcript.finals} == {"1", "2"}


async def test_audio_captured_while_disconnected_is_not_lost(script: Script) -> None:
    script.fail_at_chunk = {0: EngineFailure("drop", retryable=True), 1: EngineFailure("drop", retryable=True)}
    script.fail_after = 5
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions(), retry=RetryPolicy(initial=0.05, maximum=0.05))
    run = asyncio.create_task(session.run())
    src.push(6)
    await wait_for(lambda: len(script.instances) >= 1 and script.instances[0].received)
    src.push(6)  # arrives while the engine is down / reconnecting
    await wait_for(lambda: len(script.instances) >= 3)
    src.push(4)
    src.end()
    await run
    assert chunk_ids(session) == expected_ids(16)


async def test_non_retryable_failure_is_raised_and_not_retried(script: Script) -> None:
    script.fail_at_chunk = {0: EngineFailure("bad key", retryable=False, refused=True)}
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions(), retry=FAST)
    src.push(8)
    src.end()
    with pytest.raises(EngineFailure) as info:
        await session.run()
    assert info.value.refused
    assert len(script.instances) == 1


async def test_gives_up_after_max_attempts(script: Script) -> None:
    script.fail_at_chunk = {i: EngineFailure("server error", retryable=True) for i in range(10)}
    script.fail_after = 1
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions(), retry=RetryPolicy(initial=0.001, max_attempts=3))
    src.push(30)
    src.end()
    with pytest.raises(EngineFailure, match="gave up after 3 attempts"):
        await session.run()
    assert len(script.instances) == 4


async def test_live_update_does_not_restart(script: Script) -> None:
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions(silence_ms=500), retry=FAST)
    run = asyncio.create_task(session.run())
    src.push(5)
    await wait_for(lambda: bool(script.instances) and len(script.instances[0].received) == 5)
    new = EngineOptions(silence_ms=900, word_boost=("Kubernetes",))
    await session.update_options(new)
    src.push(5)
    src.end()
    await run
    assert script.updates == [new]
    assert len(script.instances) == 1
    assert chunk_ids(session) == expected_ids(10)


async def test_seamless_restart_when_engine_cannot_update(script: Script) -> None:
    script.live_update = False
    script.per_final = 100  # the old engine holds everything as interim until it is told to finish
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions(language="en"), retry=FAST)
    run = asyncio.create_task(session.run())
    src.push(7)
    await wait_for(lambda: bool(script.instances) and len(script.instances[0].received) == 7)
    await session.update_options(EngineOptions(language="fr"))
    await wait_for(lambda: len(script.instances) == 2)
    src.push(5)
    src.end()
    await run
    old, new = script.instances
    assert [round(c.start * 1000) for c in old.received] == expected_ids(7)
    assert new.options.language == "fr"
    assert [round(c.start * 1000) for c in new.received] == [i * 50 for i in range(7, 12)]
    assert chunk_ids(session) == expected_ids(12)


async def test_restart_with_invalid_options_keeps_the_running_engine(script: Script) -> None:
    script.live_update = False
    src = PushSource()
    events: list[CaptionEvent] = []
    session = Session(src, ScriptedEngine, EngineOptions(language="en"), on_event=events.append, retry=FAST)
    run = asyncio.create_task(session.run())
    src.push(3)
    await wait_for(lambda: bool(script.instances) and len(script.instances[0].received) == 3)
    await session.update_options(EngineOptions(language="bad"))
    await wait_for(lambda: any(isinstance(e, EngineError) for e in events))
    src.push(5)
    src.end()
    await run
    assert len(script.instances) == 1
    assert session.options.language == "en"
    err = next(e for e in events if isinstance(e, EngineError))
    assert err.message == "settings not applied: unknown language 'bad'" and not err.retryable
    assert chunk_ids(session) == expected_ids(8)


async def test_stop_flushes_the_last_caption(script: Script) -> None:
    script.per_final = 100
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions(), retry=FAST)
    run = asyncio.create_task(session.run())
    src.push(3)
    await wait_for(lambda: bool(session.transcript.live))
    await session.stop()
    await asyncio.wait_for(run, 5)
    assert chunk_ids(session) == expected_ids(3)
    assert not session.transcript.live


async def test_dropped_blocks_are_reported(script: Script) -> None:
    src = PushSource()
    events: list[CaptionEvent] = []
    session = Session(src, ScriptedEngine, EngineOptions(), on_event=events.append, level_interval=100)
    run = asyncio.create_task(session.run())
    src.push(2)
    await wait_for(lambda: bool(script.instances) and len(script.instances[0].received) == 2)
    src.dropped = 3  # reported at once, not at the next level interval
    src.push(2)
    src.end()
    await run
    levels = [e for e in events if isinstance(e, AudioLevel)]
    assert [lv.dropped_blocks for lv in levels] == [0, 3]
    assert levels[0].rms_dbfs > -30  # a 0.1-amplitude tone is about -23 dBFS


async def test_id_prefix_keeps_ids_unique_across_sessions_on_one_transcript(script: Script) -> None:
    transcript = None
    for _ in (1, 2):
        src = PushSource()
        session = Session(src, ScriptedEngine, EngineOptions(), transcript=transcript)
        transcript = session.transcript
        src.push(4)
        src.end()
        await session.run()
    assert transcript is not None
    assert [line.line_id for line in transcript.finals] == ["1-0", "r2.1-0"]


class StepClock:
    """A monotonic clock the test moves on by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _caption_chunks(transcript: Transcript, chunks: int) -> Session:
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions(), transcript=transcript)
    src.push(chunks)
    src.end()
    await session.run()
    return session


async def test_sessions_fed_in_turn_share_one_wall_clock_timeline(script: Script) -> None:
    clock = StepClock()
    transcript = Transcript(many_runs=True, clock=clock)
    first = await _caption_chunks(transcript, 8)  # two lines: 0.0-0.2 s and 0.2-0.4 s of its source
    clock.now += 35.0  # the user switched the source 35 s after captioning started
    second = await _caption_chunks(transcript, 4)  # its source starts at 0 again
    clock.now += 50.0
    third = await _caption_chunks(transcript, 4)
    assert (first.offset, second.offset, third.offset) == (0.0, 35.0, 85.0)
    times = [(line.start, line.end) for line in transcript.finals]
    assert [t for pair in times for t in pair] == pytest.approx([0.0, 0.2, 0.2, 0.4, 35.0, 35.2, 85.0, 85.2])


async def test_a_session_after_one_faster_than_real_time_starts_after_its_last_line(script: Script) -> None:
    clock = StepClock()  # no wall-clock time passes: a file captioned as fast as the engine goes
    transcript = Transcript(clock=clock)
    await _caption_chunks(transcript, 8)
    second = await _caption_chunks(transcript, 4)
    assert second.offset == pytest.approx(0.4)
    starts = [line.start or 0.0 for line in transcript.finals]
    assert starts == sorted(starts) == pytest.approx([0.0, 0.2, 0.4])


async def test_word_times_move_onto_the_transcript_timeline_too() -> None:
    clock = StepClock()
    transcript = Transcript(many_runs=True, clock=clock)
    transcript.run_offset()  # a first session started…
    clock.now += 20.0
    session = Session(PushSource(), ScriptedEngine, EngineOptions(), transcript=transcript)
    session.offset = transcript.run_offset()
    final = Final(line_id="0", text="a b", engine="e", start=1.0, end=2.0, words=(Word(text="a", start=1.0, end=1.5),))
    moved = session._labels(1, final)
    assert isinstance(moved, Final) and (moved.start, moved.end) == (21.0, 22.0)
    assert [(w.start, w.end) for w in moved.words] == [(21.0, 21.5)]


async def test_the_first_session_keeps_its_source_times(script: Script) -> None:
    events: list[CaptionEvent] = []
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions(), on_event=events.append)
    src.push(4)
    src.end()
    await session.run()
    finals = [e for e in events if isinstance(e, Final)]
    assert [(f.start, f.end) for f in finals] == [(0.0, pytest.approx(0.2))]
    assert session.offset == 0.0


async def test_backoff_policy() -> None:
    p = RetryPolicy(initial=0.5, maximum=4)
    assert [p.delay(i) for i in range(1, 6)] == [0.5, 1, 2, 4, 4]
