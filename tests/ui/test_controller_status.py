"""What the controller says: a cloud engine's reason for reconnecting (whole), the source in the state text,
a monitor picked as "the microphone", and no "Connecting" for a restart that only applies new settings.

The AssemblyAI tests run the real engine against a closed port on 127.0.0.1 and a host name that does not
resolve; the others use the scripted engine (the controller is under test).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from captioner import secrets
from captioner.audio.base import AudioChunk
from captioner.audio.file import WavFileSource
from captioner.captions.events import EngineEvent, EngineState, Status
from captioner.session.session import RetryPolicy
from captioner.settings import EngineSettings, Settings
from captioner.ui.controller import CaptionController
from tests.audio.conftest import pulse, pulse_server  # noqa: F401 - fixtures
from tests.audio.pulse import PulseServer
from tests.support.scripted_engine import RestartingEngine, Script, ScriptedEngine
from tests.support.speech import speech_wav


def paced(spec: str, rate: int, device: str | None, realtime: bool) -> WavFileSource:
    """Every source (the microphone too) is the Beckett recording at 4× real time."""
    return WavFileSource(speech_wav("beckett.wav"), rate, realtime=True, speed=4.0)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assemblyai(endpoint: str) -> CaptionController:
    secrets.store("assemblyai", "api_key", "test-key-0123456789")
    settings = Settings(engine="assemblyai", engines={"assemblyai": EngineSettings(endpoint=endpoint)})
    return CaptionController(
        settings, source=str(speech_wav("beckett.wav")), opener=paced, retry=RetryPolicy(initial=0.05, maximum=0.1)
    )


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        (f"ws://127.0.0.1:{closed_port()}", "Cannot reach AssemblyAI at ws://127.0.0.1:"),
        ("ws://captioner-no-such-host.invalid", "Cannot reach AssemblyAI at ws://captioner-no-such-host.invalid"),
    ],
)
def test_a_cloud_engine_that_cannot_connect_says_why_whole(
    qtbot: Any, qloop: Any, run: Any, endpoint: str, reason: str
) -> None:
    c = assemblyai(endpoint)
    states: list[tuple[str, str]] = []
    troubles: list[str] = []
    c.state_changed.connect(lambda s, m: states.append((s, m)))
    c.trouble.connect(troubles.append)
    assert c.start()
    qtbot.waitUntil(lambda: sum("(attempt" in m for _, m in states) >= 3, timeout=20000)
    run(c.shutdown())
    waiting = [m for s, m in states if s == "reconnecting" and "(attempt" in m]
    assert waiting and all(m.startswith(reason) for m in waiting), waiting
    first_failure = next(i for i, (s, _m) in enumerate(states) if s == "reconnecting")
    later = states[first_failure:-1]  # until the shutdown's "stopped"
    assert all(s == "reconnecting" and m.startswith(reason) for s, m in later), later  # never without the reason
    why = waiting[-1].split(" — ")[0]
    assert len(why) > len(reason) + 3 and not why.endswith("…")  # the system's own words follow, uncut
    assert waiting[-1].endswith(")") and "reconnecting in" in waiting[-1]
    assert len(troubles) == 1 and troubles[0].startswith(why)  # one notification, not one per attempt


def test_the_state_text_names_the_source(qtbot: Any, qloop: Any, run: Any, fake_engines: Any) -> None:
    for source, label in (("mic", "Microphone"), ("system", "System audio")):
        c = CaptionController(Settings(engine="fake", source=source), engines=fake_engines, opener=paced)
        c.start()
        qtbot.waitUntil(lambda c=c: c.state[0] == "listening", timeout=10000)
        assert c.state[1] == f"Listening · {label} · Fake engine"
        run(c.shutdown())
    f = CaptionController(
        Settings(engine="fake"), source=str(speech_wav("beckett.wav")), engines=fake_engines, opener=paced
    )
    f.start()
    qtbot.waitUntil(lambda: f.state[0] == "listening", timeout=10000)
    assert f.state[1] == "Listening · beckett.wav · Fake engine"
    run(f.shutdown())


@pytest.mark.pulse
def test_a_monitor_as_the_microphone_is_said(
    qtbot: Any,
    qloop: Any,
    run: Any,
    fake_engines: Any,
    pulse: PulseServer,  # noqa: F811
) -> None:
    """The test sound server has no microphone: its default source is a monitor of an output."""
    c = CaptionController(Settings(engine="fake", source="mic"), engines=fake_engines, opener=paced)
    notices: list[str] = []
    c.notice.connect(notices.append)
    c.start()
    qtbot.waitUntil(lambda: c.state[0] == "listening", timeout=10000)
    listening = c.state[1]
    run(c.shutdown())
    assert "Microphone (really “Monitor of Null Output”: what the computer plays)" in listening
    assert any("records what the computer plays" in n and "System audio" in n for n in notices)


def test_a_restart_for_new_settings_never_shows_connecting(qtbot: Any, qloop: Any, run: Any, fake_engines: Any) -> None:
    c = CaptionController(
        Settings(engine="restarting"), source=str(speech_wav("beckett.wav")), engines=fake_engines, opener=paced
    )
    states: list[str] = []
    lags: list[float] = []
    c.state_changed.connect(lambda s, m: states.append(s))
    c.start()
    qtbot.waitUntil(lambda: len(c.transcript.finals) >= 2, timeout=10000)
    c.lag.connect(lags.append)
    first = len(states)
    c.apply_settings(c.settings.with_changes(word_boost=("Beckett",)))
    qtbot.waitUntil(lambda: len(RestartingEngine.script.instances) == 2, timeout=5000)
    qtbot.waitUntil(lambda: bool(RestartingEngine.script.instances[1].received), timeout=5000)
    c.apply_settings(c.settings.with_changes(word_boost=()))  # a term removed
    qtbot.waitUntil(lambda: len(RestartingEngine.script.instances) == 3, timeout=5000)
    qtbot.waitUntil(lambda: len(RestartingEngine.script.instances[2].received) > 5, timeout=5000)
    run(c.shutdown())
    assert states[first - 1] == "listening"
    assert "connecting" not in states[first:-1], states
    assert lags and max(lags) < 1.0, max(lags)  # the lag never jumps to the time since the start


class PreparingEngine(ScriptedEngine):
    """Reports a first-use step with progress before it listens (as the neural engine does)."""

    id = "preparing"
    name = "Preparing engine"

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        for fraction in (0.25, 1.0):
            yield Status(
                engine=self.id,
                state=EngineState.CONNECTING,
                message=f"preparing the speech model: converting ({fraction:.0%})",
                progress=fraction,
            )
        async for event in super().stream(audio):
            yield event


def test_first_use_progress_is_shown_in_the_state_text(qtbot: Any, qloop: Any, tmp_path: Path) -> None:
    PreparingEngine.script = Script()
    c = CaptionController(
        Settings(engine="preparing"),
        source=str(speech_wav("beckett.wav")),
        engines={"preparing": PreparingEngine},
        realtime=False,
    )
    states: list[str] = []
    c.state_changed.connect(lambda _s, m: states.append(m))
    with qtbot.waitSignal(c.running_changed, check_params_cb=lambda r: r is False, timeout=20000):
        c.start()
    assert any(m.startswith("Preparing the speech model: converting (25%)") for m in states), states
