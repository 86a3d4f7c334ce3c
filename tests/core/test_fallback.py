"""Fallback engines: a failing engine that names a fallback hands over to it (the neural default → the light
engine), without losing audio, and the user is told why; an engine that cannot run here at all is replaced by
its registered fallback before any audio is opened."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from captioner.captions.events import CaptionEvent, EngineError, Notice
from captioner.engines import registry
from captioner.engines.base import Engine, EngineFailure, EngineOptions
from captioner.session.build import SessionRequest, prepare
from captioner.session.session import RetryPolicy, Session
from tests.support.memory_source import PushSource
from tests.support.scripted_engine import Script, ScriptedEngine


class LightEngine(ScriptedEngine):
    id = "light"
    name = "Light test engine"


class Unusable(ScriptedEngine):
    id = "unusable"

    @classmethod
    def check_available(cls) -> tuple[bool, str]:
        return False, "its model cannot be loaded here"


@pytest.fixture
def script() -> Script:
    ScriptedEngine.script = LightEngine.script = Script()
    return ScriptedEngine.script


def fallback(engine_id: str, options: EngineOptions) -> Engine:
    assert engine_id == "light"
    return LightEngine(options)


async def test_a_failure_naming_a_fallback_switches_engines_and_replays_from_the_last_final(script: Script) -> None:
    script.fail_at_chunk = {0: EngineFailure("too slow for this computer", retryable=True, fallback="light")}
    src = PushSource()
    events: list[CaptionEvent] = []
    session = Session(
        src, ScriptedEngine, EngineOptions(), on_event=events.append, retry=RetryPolicy(initial=5.0), fallback=fallback
    )
    src.push(12)
    src.end()
    await session.run()  # no 5 s backoff: a fallback is not a reconnect
    assert [type(e) for e in script.instances] == [ScriptedEngine, LightEngine]
    starts = [int(m) for line in session.transcript.finals for m in re.findall(r"c(\d+)", line.text)]
    assert starts == [i * 50 for i in range(12)]  # nothing lost, nothing twice
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert any("too slow for this computer" in m and "Light test engine" in m for m in notices)
    assert not [e for e in events if isinstance(e, EngineError)]
    assert {line.engine for line in session.transcript.finals} == {"scripted", "light"}


async def test_without_a_fallback_factory_the_failure_is_handled_as_usual(script: Script) -> None:
    script.fail_at_chunk = {0: EngineFailure("model missing", retryable=False, fallback="light")}
    src = PushSource()
    session = Session(src, ScriptedEngine, EngineOptions())
    src.push(8)
    src.end()
    with pytest.raises(EngineFailure, match="model missing"):
        await session.run()


@pytest.fixture
def registered() -> Iterator[None]:
    saved = dict(registry.ENGINES)
    registry.register(
        registry.EngineInfo(
            id="unusable",
            name="Unusable",
            module=__name__,
            class_name="Unusable",
            description="test",
            fallback="light",
        )
    )
    registry.register(
        registry.EngineInfo(id="light", name="Light", module=__name__, class_name="LightEngine", description="test")
    )
    yield
    registry.ENGINES.clear()
    registry.ENGINES.update(saved)


def test_an_engine_that_cannot_run_here_is_replaced_by_its_fallback_up_front(registered: None, script: Script) -> None:
    plan = prepare(SessionRequest(engine="unusable", source="x.wav"))
    assert plan.engine_cls is LightEngine and plan.request.engine == "light"
    assert plan.notices == ["Unusable is not usable here: its model cannot be loaded here; using Light instead"]
