"""Meeting mode in the desktop app with real capture: the PulseAudio test daemon of ``tests/meeting`` (the default
sink's monitor is the system audio; a remapped source made the default is the microphone) and the app's own way of
opening sources. The engine is scripted (its words name the chunks it heard, speech ``c…`` or silence ``s…``), so
the test can tell which recording reached which speaker."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from captioner.audio.mic import MicrophoneSource
from captioner.settings import Settings
from captioner.ui.desktop import DesktopApp
from captioner.ui.meeting_runner import MeetingRunner
from tests.audio.pulse import PulseServer
from tests.meeting.conftest import meeting_pulse, meeting_server  # noqa: F401 - fixtures
from tests.support.meeting_engine import MeetingEngine, meeting_script
from tests.support.speech import speech_wav

pytestmark = [pytest.mark.pulse]


def speech_lines(app: DesktopApp, speaker: str) -> list[str]:
    """The committed lines of ``speaker`` that heard speech (a chunk named ``c…``)."""
    return [
        line.text
        for line in app.controller.transcript.finals
        if line.speaker == speaker and re.search(r"\bc\d+x", line.text)
    ]


def listening_meeting(app: DesktopApp, qtbot: Any) -> MeetingRunner:
    """The app's running meeting, once it listens."""
    c = app.controller
    qtbot.waitUntil(lambda: c.meeting is not None and c.state[0] == "listening", timeout=15000)
    assert c.meeting is not None
    return c.meeting


@pytest.fixture
def app(qtbot: Any, qloop: Any, run: Any, meeting_pulse: PulseServer) -> Iterator[DesktopApp]:  # noqa: F811
    MeetingEngine.script = meeting_script(quiet_dbfs=-50.0)
    settings = Settings(engine="meeting-fake", source="both", autostart_captions=True)
    a = DesktopApp(settings, engines={"meeting-fake": MeetingEngine}, persist=False)
    a.start()
    yield a
    run(a.shutdown())


def test_real_audio_through_both_sources_gives_lines_labelled_you_and_others(
    app: DesktopApp,
    meeting_pulse: PulseServer,  # noqa: F811
    qtbot: Any,
) -> None:
    c, meeting = app.controller, listening_meeting(app, qtbot)
    assert c.state[1] == "Listening · Microphone and system audio · Fake engine"
    levels: dict[str, list[float]] = {"You": [], "Others": []}

    def note_levels(_db: float) -> None:
        for speaker, seen in levels.items():
            seen.append(meeting.levels[speaker])

    c.level.connect(note_levels)

    mic = meeting_pulse.play(speech_wav("beckett.wav"), sink=meeting_pulse.other_sink)  # "you" speak
    try:
        qtbot.waitUntil(lambda: len(speech_lines(app, "You")) >= 3, timeout=20000)
        assert speech_lines(app, "Others") == []  # the system audio is silent: no speech heard there
        assert max(levels["You"]) > -35 and max(levels["Others"], default=-120.0) < -60
    finally:
        mic.kill()
        mic.wait(10)
    others = meeting_pulse.play(speech_wav("two_cities.wav"))  # "the others" speak, through the speakers
    try:
        qtbot.waitUntil(lambda: len(speech_lines(app, "Others")) >= 3, timeout=20000)
    finally:
        others.kill()
        others.wait(10)
    you_engines = {m for text in speech_lines(app, "You") for m in re.findall(r"c(\d+)x", text)}
    others_engines = {m for text in speech_lines(app, "Others") for m in re.findall(r"c(\d+)x", text)}
    assert len(you_engines) == len(others_engines) == 1 and you_engines != others_engines
    assert c.state[0] == "listening"
    window = app.open_transcript()
    assert {"You", "Others"} <= {line.speaker for line in window.lines()}


def test_the_microphone_going_away_is_shown_and_the_system_audio_is_still_captioned(
    app: DesktopApp,
    meeting_pulse: PulseServer,  # noqa: F811
    qtbot: Any,
) -> None:
    """The microphone's stream ends (as when it is unplugged): the state names the microphone and that it is being
    retried, the others' lines keep coming meanwhile, and the microphone is captured again on its own."""
    c = app.controller
    capture: Any = listening_meeting(app, qtbot).meeting.you.source
    while not isinstance(capture, MicrophoneSource):  # under the meeting's wrappers (reconnect, clock, canceller)
        capture = capture.source
    states: list[tuple[str, str]] = []
    c.state_changed.connect(lambda state, text: states.append((state, text)))
    others = meeting_pulse.play(speech_wav("two_cities.wav"))
    try:
        qtbot.waitUntil(lambda: len(speech_lines(app, "Others")) >= 2, timeout=20000)
        gone = time.monotonic()
        capture._stream.abort()  # the device goes away: PortAudio ends the stream
        qtbot.waitUntil(lambda: any(s == "reconnecting" for s, _ in states), timeout=10000)
        shown_after = time.monotonic() - gone
        state = next(text for s, text in states if s == "reconnecting")
        assert state.startswith("Microphone: ") and "stopped delivering audio" in state and "retrying" in state, state
        before = len(speech_lines(app, "Others"))
        qtbot.waitUntil(lambda: len(speech_lines(app, "Others")) >= before + 1, timeout=20000)
        next_line = time.monotonic() - gone
        qtbot.waitUntil(lambda: c.state[0] == "listening", timeout=15000)
        back_after = time.monotonic() - gone
        print(
            f"\nmicrophone gone: shown after {shown_after:.2f} s ({state!r}); next 'Others' line {next_line:.2f} s; "
            f"listening to both again after {back_after:.2f} s"
        )
        assert shown_after < 5.0
        assert c.running and c.meeting is not None and c.meeting.meeting.you.source is not None
        assert not any(s in ("degraded", "error") for s, _ in states), states
    finally:
        others.kill()
        others.wait(10)
