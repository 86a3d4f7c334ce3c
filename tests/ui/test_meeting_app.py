"""Meeting mode in the desktop app: the source "both" in the settings, the Audio page, the tray and overlay menus,
and the controller running the two sessions ("You" from the microphone, "Others" from the system audio).

The sources are the two speech recordings played faster than real time (the microphone: Beckett; the system
audio: A Tale of Two Cities); the engine is the boundary (a scripted engine whose words name the chunks it heard
and which engine heard them, :mod:`tests.support.meeting_engine`). Real capture is in
``test_meeting_app_pulse.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from captioner import settings as settings_store
from captioner.audio.base import AudioChunk, AudioError
from captioner.audio.file import WavFileSource
from captioner.captions.events import Interim
from captioner.captions.transcript import Transcript, load_autosave
from captioner.engines.base import EngineFailure
from captioner.session.session import RetryPolicy
from captioner.settings import Settings
from captioner.ui import status_text
from captioner.ui.controller import CaptionController
from captioner.ui.desktop import DesktopApp
from captioner.ui.settings.dialog import SettingsDialog
from captioner.ui.settings.level_meter import LevelMonitor
from tests.support.meeting_engine import MeetingEngine, meeting_script
from tests.support.speech import speech_wav

FILES = {"mic": "beckett.wav", "system": "two_cities.wav"}
SPEED = {"mic": 4.0, "system": 16.0}
"""Both recordings last about 2.5-2.8 s at these speeds."""
ENGINES = {"meeting-fake": MeetingEngine, "meeting-fake-2": MeetingEngine}


class FailingWav(WavFileSource):
    """A recording that fails like a capture whose device went away, after ``after`` chunks."""

    def __init__(self, *args: Any, after: int, message: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.after, self.message = after, message

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        n = 0
        async for chunk in super().chunks():
            yield chunk
            n += 1
            if n >= self.after:
                raise AudioError(self.message)


def opener(fail: dict[str, str] | None = None, speed: dict[str, float] | None = None) -> Any:
    """Opens "mic" and "system" as the two recordings; a source in ``fail`` fails after 15 chunks with that text."""

    def open_(spec: str, rate: int, device: str | None, realtime: bool) -> WavFileSource:
        path, pace = speech_wav(FILES[spec]), (speed or SPEED)[spec]
        if fail and spec in fail:
            return FailingWav(path, rate, realtime=True, speed=pace, after=15, message=fail[spec])
        return WavFileSource(path, rate, realtime=True, speed=pace)

    return open_


@pytest.fixture
def script() -> Any:
    MeetingEngine.script = meeting_script()
    return MeetingEngine.script


def controller(tmp_path: Path, **kw: Any) -> CaptionController:
    transcript = Transcript(autosave=tmp_path / "autosave.jsonl", many_runs=True)
    settings = Settings(engine="meeting-fake", source="both")
    return CaptionController(settings, transcript=transcript, engines=ENGINES, opener=kw.pop("opener", opener()), **kw)


def engines_of(c: CaptionController, speaker: str) -> set[str]:
    """The engines (instance numbers) whose words make up ``speaker``'s committed lines."""
    return {m for line in c.transcript.finals if line.speaker == speaker for m in re.findall(r"c(\d+)x", line.text)}


def heard_ms(c: CaptionController, speaker: str) -> list[int]:
    return [int(m) for line in c.transcript.finals if line.speaker == speaker for m in re.findall(r"x(\d+)", line.text)]


def test_both_sources_caption_into_one_transcript_and_option_changes_reach_both(
    qtbot: Any, qloop: Any, script: Any, tmp_path: Path
) -> None:
    c = controller(tmp_path)
    states: list[tuple[str, str]] = []
    c.state_changed.connect(lambda s, m: states.append((s, m)))
    assert c.start()
    qtbot.waitUntil(lambda: {"You", "Others"} <= {line.speaker for line in c.transcript.finals}, timeout=10000)
    assert c.meeting is not None and c.session is None
    assert ("listening", "Listening · Microphone and system audio · Fake engine") in states
    c.apply_settings(c.settings.with_changes(word_boost=("Dickens",), silence_ms=900))
    qtbot.waitUntil(lambda: len([u for u in script.updates if u.word_boost == ("Dickens",)]) >= 2, timeout=5000)
    updated = {e.number for e in script.instances if any(u.word_boost == ("Dickens",) for u in e.updates)}
    assert len(updated) == 2 and all(u.silence_ms == 900 for u in script.updates)  # both sessions, live
    qtbot.waitUntil(lambda: not c.running, timeout=15000)
    assert c.state[0] == "stopped"
    you, others = engines_of(c, "You"), engines_of(c, "Others")
    assert len(you) == len(others) == 1 and you != others  # each stream from its own engine session
    # Each speaker's lines cover its own recording (10 s and 44 s of audio), not the other's.
    for speaker, seconds in (("You", 10.0), ("Others", 44.0)):
        ms = heard_ms(c, speaker)
        assert abs((max(ms) - min(ms)) / 1000 - seconds) < 1.5, (speaker, min(ms), max(ms))
    ids = [line.line_id for line in c.transcript.finals]
    assert len(ids) == len(set(ids))
    c.transcript.close()
    saved = load_autosave(tmp_path / "autosave.jsonl")
    assert {line.speaker for line in saved} == {"You", "Others"}
    assert [(line.line_id, line.speaker) for line in saved] == [
        (line.line_id, line.speaker) for line in c.transcript.finals
    ]


def test_changing_the_engine_restarts_the_meeting_on_the_same_transcript(
    qtbot: Any, qloop: Any, script: Any, tmp_path: Path, run: Any
) -> None:
    c = controller(tmp_path, opener=opener(speed={"mic": 2.0, "system": 8.0}))
    assert c.start()
    qtbot.waitUntil(lambda: {"You", "Others"} <= {line.speaker for line in c.transcript.finals}, timeout=10000)
    first = c.meeting
    c.apply_settings(c.settings.with_changes(engine="meeting-fake-2"))
    qtbot.waitUntil(lambda: c.meeting is not None and c.meeting is not first, timeout=10000)

    def runs() -> dict[str, set[str]]:
        out: dict[str, set[str]] = {"You": set(), "Others": set()}
        for line in c.transcript.finals:
            out[line.speaker or ""].add(line.line_id.split(".")[0])
        return out

    qtbot.waitUntil(lambda: all(len(prefixes) == 2 for prefixes in runs().values()), timeout=10000)
    assert len(set.union(*runs().values())) == 4  # each session of each meeting its own prefix
    assert c.state[1] == "Listening · Microphone and system audio · Fake engine"
    run(c.stop())
    assert not c.running and c.state[0] == "stopped"
    ids = [line.line_id for line in c.transcript.finals]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("failure", "shown"),
    [
        (
            {"audio": {"mic": "the microphone was unplugged"}},
            "Microphone stopped: the microphone was unplugged; system audio still captioned",
        ),
        (
            {"engine": EngineFailure("the service gave up", retryable=False)},
            "System audio stopped: the service gave up; microphone still captioned",
        ),
    ],
    ids=["microphone unplugged", "system audio engine gives up"],
)
def test_one_source_fails_and_the_other_keeps_captioning(
    qtbot: Any, qloop: Any, script: Any, tmp_path: Path, failure: dict[str, Any], shown: str
) -> None:
    if "engine" in failure:
        script.fail_at_chunk = {1: failure["engine"]}  # the second engine made: the system audio's
    c = controller(tmp_path, opener=opener(fail=failure.get("audio")))
    troubles: list[str] = []
    errors: list[str] = []
    c.trouble.connect(troubles.append)
    c.error.connect(errors.append)
    assert c.start()
    qtbot.waitUntil(lambda: c.state[0] == "degraded", timeout=10000)
    assert c.state[1] == shown and troubles == [shown]
    failed_speaker = "You" if shown.startswith("Microphone") else "Others"
    going = "Others" if failed_speaker == "You" else "You"
    committed = len([line for line in c.transcript.finals if line.speaker == going])
    qtbot.waitUntil(
        lambda: len([line for line in c.transcript.finals if line.speaker == going]) > committed + 2, timeout=10000
    )
    assert c.running and c.state == ("degraded", shown)  # a LISTENING status of the other does not hide it
    qtbot.waitUntil(lambda: not c.running, timeout=15000)
    assert errors == [] and c.state[0] == "stopped"


def test_a_source_reconnecting_is_named(qtbot: Any, qloop: Any, script: Any, tmp_path: Path, run: Any) -> None:
    script.fail_at_chunk = {1: EngineFailure("the connection dropped", retryable=True)}  # the system audio's engine
    c = controller(tmp_path, retry=RetryPolicy(initial=1.0))
    troubles: list[str] = []
    c.trouble.connect(troubles.append)
    states: list[tuple[str, str]] = []
    c.state_changed.connect(lambda s, m: states.append((s, m)))
    assert c.start()
    qtbot.waitUntil(lambda: bool(troubles), timeout=10000)
    assert troubles == [status_text.interrupted("System audio: the connection dropped")]
    assert ("reconnecting", status_text.reconnecting("System audio: the connection dropped", "retrying")) in states
    yours: list[Interim] = []
    c.caption_event.connect(lambda e: yours.append(e) if isinstance(e, Interim) and e.speaker == "You" else None)
    qtbot.waitUntil(lambda: len(yours) >= 3, timeout=5000)
    assert engines_of(c, "Others") == {"1"} and c.state[0] == "reconnecting"  # your words do not hide the outage
    assert c.state[1].startswith("System audio: the connection dropped")
    # A new engine for the system audio captions on (the first one's lines stay).
    qtbot.waitUntil(lambda: engines_of(c, "Others") >= {"1", "2"} and engines_of(c, "You") == {"0"}, timeout=10000)
    assert c.state[0] == "listening"
    run(c.stop())
    assert c.state[0] == "stopped"


def test_both_sources_failing_is_an_error_naming_each(qtbot: Any, qloop: Any, script: Any, tmp_path: Path) -> None:
    fail = {"mic": "the microphone was unplugged", "system": "the sound server went away"}
    c = controller(tmp_path, opener=opener(fail=fail))
    with qtbot.waitSignal(c.error, timeout=10000) as blocker:
        assert c.start()
    message = blocker.args[0]
    assert message.startswith(
        "Microphone stopped: the microphone was unplugged; System audio stopped: the sound server went away."
    ), message
    assert "Check the microphone and the system-audio source in Settings" in message
    assert c.state == ("error", message)


def test_the_sources_behind_their_audio_are_named_in_the_state(
    qtbot: Any, qloop: Any, script: Any, tmp_path: Path, run: Any
) -> None:
    script.pace = 2.0  # the engines take audio at twice real time; the recordings are played at 8x: both fall behind
    c = controller(tmp_path, opener=opener(speed={"mic": 8.0, "system": 8.0}))
    lags: list[float] = []
    c.lag.connect(lags.append)
    assert c.start()
    qtbot.waitUntil(lambda: c.state[1].count(" s behind") == 2, timeout=10000)
    text = c.state[1]
    where = "Listening · Microphone and system audio · Fake engine"
    pattern = rf"{where} · microphone (\d+) s behind · system audio (\d+) s behind"
    found = re.fullmatch(pattern, text)
    assert found is not None, text
    assert min(int(found[1]), int(found[2])) >= 1 and max(lags) >= 1.0
    print(f"\nstate while both lag: {text!r}; largest lag sent to the overlay: {max(lags):.1f} s")
    run(c.stop(0.5))
    assert "behind" not in c.state[1]


def test_the_source_both_round_trips_through_the_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings_store.save(Settings(source="both", device="usb-headset"), path)
    loaded = settings_store.load(path)
    assert (loaded.source, loaded.device) == ("both", "usb-headset")
    for written, read in (("mic+system", "both"), (" Both ", "both"), ("system", "system"), ("nonsense", "mic")):
        path.write_text(json.dumps({"source": written}))
        assert settings_store.load(path).source == read, written


def test_the_audio_page_offers_both_with_two_level_bars_and_the_cloud_note(qtbot: Any, qloop: Any) -> None:
    d = SettingsDialog(Settings(source="both", engine="assemblyai"), level_monitor=LevelMonitor(opener=opener()))
    qtbot.addWidget(d)
    d.show()
    page = d.audio_page
    assert page.both.isChecked() and page.source() == "both" and d.settings().source == "both"
    assert page.meeting_note.isVisibleTo(page) and "“You”" in page.meeting_note.text()
    assert page.cloud_note.isVisibleTo(page)
    assert "two connections" in page.cloud_note.text() and "twice as much" in page.cloud_note.text()
    assert page.system_meter.isVisibleTo(page) and page.level_label.text() == "Microphone:"
    page.test_button.setChecked(True)
    qtbot.waitUntil(lambda: page.meter.level > -40 and page.system_meter.level > -40, timeout=5000)
    assert page.test_status.text().startswith("Listening to the microphone, Default") and "system audio" in (
        page.test_status.text()
    )
    page.set_engine("moonshine")  # an engine on this computer: one connection is not a thing
    assert not page.cloud_note.isVisibleTo(page) and page.meeting_note.isVisibleTo(page)
    page.set_engine("assemblyai")
    page.mic.setChecked(True)  # back to one source while the test runs: one bar, the other source closed
    assert (
        not page.system_meter.isVisibleTo(page)
        and not page.cloud_note.isVisibleTo(page)
        and not page.meeting_note.isVisibleTo(page)
    )
    qtbot.waitUntil(lambda: not page.system_monitor.running, timeout=3000)
    assert page.monitor.running and page.level_label.text() == "Level:"
    page.close_page()
    assert not page.monitor.running


def test_a_failing_source_of_the_two_bars_is_named(qtbot: Any, qloop: Any) -> None:
    monitor = LevelMonitor(opener=opener(fail={"system": "no monitor of the speakers"}))
    d = SettingsDialog(Settings(source="both"), level_monitor=monitor)
    qtbot.addWidget(d)
    page = d.audio_page
    page.test_button.setChecked(True)
    qtbot.waitUntil(lambda: "Cannot test system audio" in page.test_status.text(), timeout=5000)
    assert page.test_status.text() == "Cannot test system audio: no monitor of the speakers"
    assert page.monitor.running and page.test_button.isChecked()  # the microphone's bar goes on
    page.close_page()


@pytest.fixture
def app(qtbot: Any, qloop: Any, script: Any, run: Any) -> Iterator[Any]:
    apps: list[DesktopApp] = []

    def make(settings: Settings) -> DesktopApp:
        apps.append(DesktopApp(settings, engines=ENGINES, opener=opener(), persist=False))
        apps[-1].start()
        return apps[-1]

    yield make
    while apps:
        run(apps.pop().shutdown())


def test_the_tray_overlay_and_settings_panel_offer_both_and_stay_in_sync(app: Any, qtbot: Any) -> None:
    a = app(Settings(engine="meeting-fake", source="mic", autostart_captions=False))
    tray = a.tray
    assert tray.both_action in tray.menu.actions() and a.overlay.actions().count(tray.both_action) == 1
    assert tray.mic_action.isChecked() and not tray.both_action.isChecked()
    dialog = a.open_settings()
    tray.both_action.trigger()
    assert a.settings.source == "both" and a.settings.device == ""
    assert tray.both_action.isChecked() and not tray.mic_action.isChecked() and not tray.system_action.isChecked()
    assert dialog.audio_page.both.isChecked() and dialog.audio_page.system_meter.isVisibleTo(dialog.audio_page)
    tray.start_action.trigger()
    qtbot.waitUntil(
        lambda: a.controller.state[1] == "Listening · Microphone and system audio · Fake engine", timeout=10000
    )
    assert a.overlay.status()[1] == "Listening · Microphone and system audio · Fake engine"
    qtbot.waitUntil(
        lambda: {"You", "Others"} <= {line.speaker for line in a.controller.transcript.finals}, timeout=10000
    )
    window = a.open_transcript()
    assert {"You", "Others"} <= {line.speaker for line in window.lines()}
    dialog.audio_page.system.setChecked(True)  # chosen in the panel: the menu follows, the meeting stops
    dialog.flush()
    assert a.settings.source == "system" and tray.system_action.isChecked() and not tray.both_action.isChecked()
    qtbot.waitUntil(lambda: a.controller.session is not None, timeout=10000)
    qtbot.waitUntil(lambda: a.controller.state[1] == "Listening · System audio · Fake engine", timeout=10000)
    assert a.controller.meeting is None


def test_the_meeting_choice_has_its_own_key(qtbot: Any, qloop: Any) -> None:
    d = SettingsDialog(Settings(source="mic"))
    qtbot.addWidget(d)
    d.show()
    d.activateWindow()
    qtbot.waitUntil(d.isActiveWindow, timeout=3000)
    qtbot.keyClick(QApplication.focusWidget() or d, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert d.tabs.currentWidget() is d.audio_page  # Alt+A is still the Audio tab's
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as changed:
        qtbot.keyClick(QApplication.focusWidget() or d, Qt.Key.Key_I, Qt.KeyboardModifier.AltModifier)
    assert d.audio_page.both.isChecked() and changed.args[0].source == "both"
