"""The session's stop while it waits to reconnect, and its lag figure across restarts and option changes."""

from __future__ import annotations

import asyncio
import time

import pytest

from captioner.captions.events import AudioLevel, CaptionEvent, EngineState, Status
from captioner.engines.base import EngineFailure, EngineOptions
from captioner.session.session import RetryPolicy, Session
from tests.support.memory_source import PushSource
from tests.support.scripted_engine import Script, ScriptedEngine


@pytest.fixture
def script() -> Script:
    ScriptedEngine.script = Script()
    return ScriptedEngine.script


async def wait_for(cond, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.005)


def reconnecting(events: list[CaptionEvent]) -> bool:
    return any(isinstance(e, Status) and e.state is EngineState.RECONNECTING for e in events)


async def test_stop_interrupts_the_wait_before_a_reconnect(script: Script) -> None:
    script.fail_at_chunk = {i: EngineFailure("cannot reach the server", retryable=True) for i in range(5)}
    script.fail_after = 6
    src = PushSource()
    events: list[CaptionEvent] = []
    session = Session(src, ScriptedEngine, EngineOptions(), on_event=events.append, retry=RetryPolicy(initial=30.0))
    run = asyncio.create_task(session.run())
    src.push(6)
    await wait_for(lambda: reconnecting(events))
    t0 = time.monotonic()
    await session.stop()
    await asyncio.wait_for(run, 5)
    assert time.monotonic() - t0 < 0.5  # not the 30 s backoff
    assert len(script.instances) == 1  # no new connection was started just to be stopped
    assert [line.text for line in session.transcript.finals] == ["c0 c50 c100 c150"]  # what was committed stays
    assert isinstance(events[-1], Status) and events[-1].state is EngineState.STOPPED


async def test_lag_does_not_jump_when_the_engine_restarts_for_new_options(script: Script) -> None:
    script.live_update = False  # a word-boost edit restarts the engine (like the local engine)
    src = PushSource()
    events: list[CaptionEvent] = []
    session = Session(src, ScriptedEngine, EngineOptions(), on_event=events.append, level_interval=0.0)
    run = asyncio.create_task(session.run())
    src.push(100)  # 5 s of audio, all taken by the engine at once
    await wait_for(lambda: bool(script.instances) and len(script.instances[0].received) == 100)
    assert session.lag < 0.1
    await session.update_options(EngineOptions(word_boost=("Beckett",)))
    await wait_for(lambda: len(script.instances) == 2)
    assert session.lag < 0.1  # the new engine has read nothing yet, but nothing waits for it either
    mark = len(events)
    for n in range(1, 21):  # live audio: one chunk at a time, each read by the engine before the next
        src.push(1)
        await wait_for(lambda n=n: len(script.instances[1].received) == n)
    src.end()
    await run
    lags = [e.lag for e in events[mark:] if isinstance(e, AudioLevel)]
    assert len(lags) == 20 and max(lags) < 0.11, max(lags)  # one chunk behind at most, never the 5 s before


async def test_lag_of_a_session_whose_clock_does_not_start_at_zero(script: Script) -> None:
    """A second run on one timeline starts its audio at, say, 35 s: that is not 35 s of lag."""
    src = PushSource()
    src._next = 35.0
    events: list[CaptionEvent] = []
    session = Session(src, ScriptedEngine, EngineOptions(), on_event=events.append, level_interval=0.0)
    run = asyncio.create_task(session.run())
    src.push(10)
    await wait_for(lambda: bool(script.instances) and len(script.instances[0].received) == 10)
    src.end()
    await run
    lags = [e.lag for e in events if isinstance(e, AudioLevel)]
    assert lags and max(lags) < 0.6, max(lags)  # at most the 10 chunks queued before the engine read them


async def test_a_cancelled_session_leaves_no_engine_running(script: Script) -> None:
    script.pace = 1.0  # an engine that takes its time (like one waiting for a server)
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions())
    run = asyncio.create_task(session.run())
    src.push(40)
    await wait_for(lambda: bool(script.instances) and bool(script.instances[0].received))
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    engines = [t for t in asyncio.all_tasks() if t.get_name().startswith("captioner-engine-")]
    await asyncio.sleep(0)
    assert all(t.done() for t in engines)
    heard = len(script.instances[0].received)
    await asyncio.sleep(0.2)
    assert len(script.instances[0].received) == heard  # nothing reads audio any more
