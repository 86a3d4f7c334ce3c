"""Catch-up after a reconnect: realtime-input engines skip the middle of long pauses, never speech.

The scripted cloud engine takes audio at most ``SPEED`` × real time and the
source is pushed at the same speed, so seconds of audio run in a fraction of
a second of wall time; every figure below is in source seconds.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from captioner.captions.events import AudioLevel, CaptionEvent, EngineState, Status
from captioner.engines.base import EngineFailure, EngineOptions
from captioner.session.backlog import NoiseFloor
from captioner.session.catch_up import CatchUpPolicy
from captioner.session.session import RetryPolicy, Session
from tests.support.memory_source import PushSource
from tests.support.scripted_engine import Script, ScriptedCloudEngine, ScriptedEngine

SPEED = 16.0
CHUNK = 0.05


def pattern(speech: float, pause: float, bursts: int, tail: float = 0.6) -> list[bool]:
    """``True`` for a speech chunk: ``bursts`` × (speech, pause), then a last burst and ``tail`` of silence."""
    one = [True] * round(speech / CHUNK) + [False] * round(pause / CHUNK)
    return one * bursts + [True] * round(speech / CHUNK) + [False] * round(tail / CHUNK)


async def push_live(src: PushSource, kinds: list[bool], noise: float = 0.0001, speech: float = 0.1) -> None:
    """Push ``kinds`` as a live source would, at ``SPEED`` × real time, then end."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for i, loud in enumerate(kinds):
        delay = t0 + i * CHUNK / SPEED - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if loud:
            src.push(1) if speech == 0.1 else src.push_silence(1, amplitude=speech)
        else:
            src.push_silence(1, amplitude=noise)
    src.end()


def ids(text: str, kind: str) -> list[int]:
    return [int(m) for m in re.findall(rf"{kind}(\d+)", text)]


def speech_ids(kinds: list[bool]) -> list[int]:
    return [round(i * CHUNK * 1000) for i, loud in enumerate(kinds) if loud]


@pytest.fixture
def script() -> Script:
    script = Script(endpoint_ms=500, pace=SPEED)
    ScriptedEngine.script = script
    return script


async def run(
    engine: type[ScriptedEngine],
    kinds: list[bool],
    *,
    retry_after: float = 0.25,
    policy: CatchUpPolicy | None = None,
    noise: float = 0.0001,
    speech: float = 0.1,
) -> tuple[Session, list[CaptionEvent]]:
    src = PushSource()
    events: list[CaptionEvent] = []
    session = Session(
        src,
        engine,
        EngineOptions(),
        on_event=events.append,
        retry=RetryPolicy(initial=retry_after, maximum=retry_after),
        level_interval=0.0,
        catch_up=policy,
    )
    pusher = asyncio.create_task(push_live(src, kinds, noise, speech))
    await asyncio.wait_for(session.run(), 20)
    await pusher
    return session, events


def lags(events: list[CaptionEvent]) -> list[float]:
    return [e.lag for e in events if isinstance(e, AudioLevel)]


async def test_lag_returns_below_threshold_and_every_speech_chunk_is_captioned_once(script: Script) -> None:
    kinds = pattern(speech=1.0, pause=4.0, bursts=4)
    script.fail_at_chunk = {0: EngineFailure("connection dropped", retryable=True)}
    script.fail_after = 210  # mid-speech: the third burst is 10.0-11.0 s
    session, events = await run(ScriptedCloudEngine, kinds)

    _first, second = script.instances
    # The second connection replayed from the end of the last committed line (6.0 + 0.5 s endpoint)…
    assert round(second.received[0].start, 2) == 6.5
    # …far behind the live edge, and caught up by skipping pauses: below the threshold again.
    level_lags = lags(events)
    assert max(level_lags) > 3.0
    assert level_lags[-1] < 1.5
    assert session.skipped_seconds > 2.0
    caught = [e for e in events if isinstance(e, Status) and e.message.startswith("catching up: skipped")]
    assert caught and all(e.state is EngineState.LISTENING for e in caught)

    # Every speech chunk is in exactly one committed line, one line per burst, in order.
    committed = [ids(line.text, "c") for line in session.transcript.finals]
    assert sorted(i for line in committed for i in line) == speech_ids(kinds)
    assert [line for line in committed if line] == [
        speech_ids(kinds)[k * 20 : (k + 1) * 20] for k in range(len(speech_ids(kinds)) // 20)
    ]

    # What was skipped: only silence, never the first 1.3 s of a pause nor the 0.3 s before speech.
    got = [round(c.start * 1000) for c in second.received]
    loud = set(speech_ids(kinds))
    skipped = sorted(set(range(got[0], got[-1] + 1, 50)) - set(got))
    assert skipped and not loud & set(skipped)
    for ms in skipped:
        before = max(x for x in loud if x < ms)
        after = min((x for x in loud if x > ms), default=len(kinds) * 50)
        assert ms - (before + 50) >= 1300 - 1 and after - (ms + 50) >= 300 - 1


async def test_short_pauses_are_not_skipped(script: Script) -> None:
    # Pauses of 1.5 s: shorter than what is always kept (1.3 s) plus the lead-in (0.3 s).
    kinds = pattern(speech=1.0, pause=1.5, bursts=4)
    script.fail_at_chunk = {0: EngineFailure("connection dropped", retryable=True)}
    script.fail_after = 60
    session, _events = await run(ScriptedCloudEngine, kinds)
    assert session.skipped_seconds == 0.0
    second = script.instances[1]
    got = [round(c.start * 1000) for c in second.received]
    assert got == list(range(got[0], got[0] + 50 * len(got), 50))  # contiguous to the end
    assert sorted(i for line in session.transcript.finals for i in ids(line.text, "c")) == speech_ids(kinds)


async def test_engines_without_realtime_input_are_unaffected(script: Script) -> None:
    kinds = pattern(speech=1.0, pause=4.0, bursts=2)
    script.fail_at_chunk = {0: EngineFailure("connection dropped", retryable=True)}
    script.fail_after = 30
    session, _events = await run(ScriptedEngine, kinds)
    assert session.skipped_seconds == 0.0
    got = [round(c.start * 1000) for c in script.instances[1].received]
    assert got == list(range(got[0], len(kinds) * 50, 50))


async def test_catch_up_can_be_turned_off(script: Script) -> None:
    kinds = pattern(speech=1.0, pause=4.0, bursts=2)
    script.fail_at_chunk = {0: EngineFailure("connection dropped", retryable=True)}
    script.fail_after = 30
    session, events = await run(ScriptedCloudEngine, kinds, policy=CatchUpPolicy(enabled=False))
    assert session.skipped_seconds == 0.0
    assert lags(events)[-1] > 1.5  # stays behind


async def test_noisy_room_pauses_are_skipped_by_the_noise_floor(script: Script) -> None:
    # Room noise at about -47 dBFS (above the fixed -50 dBFS), speech at about -23 dBFS.
    script.quiet_dbfs = -40.0
    kinds = pattern(speech=1.0, pause=4.0, bursts=3)
    script.fail_at_chunk = {0: EngineFailure("connection dropped", retryable=True)}
    script.fail_after = 110
    session, events = await run(ScriptedCloudEngine, kinds, noise=0.0063)
    assert session.skipped_seconds > 2.0
    assert lags(events)[-1] < 1.5
    assert sorted(i for line in session.transcript.finals for i in ids(line.text, "c")) == speech_ids(kinds)


@pytest.mark.parametrize(
    ("floor", "threshold"),
    [(-120.0, -50.0), (-62.0, -50.0), (-55.0, -45.0), (-48.0, -38.0), (-30.0, -35.0)],
)
def test_silence_threshold_follows_the_noise_floor(floor: float, threshold: float) -> None:
    assert CatchUpPolicy().threshold(floor) == threshold


def test_noise_floor_is_the_recent_minimum() -> None:
    nf = NoiseFloor(window=1.0)
    assert nf.value == -120.0
    for i, level in enumerate([-30.0, -60.0, -40.0, -35.0]):
        nf.add(0.5 * (i + 1), level)
    assert nf.value == -60.0  # 1.0 s: still in the window at 2.0 s
    nf.add(2.6, -45.0)  # the -60 (ended at 1.0 s) is now older than the window
    assert nf.value == -45.0
