"""The Audio page follows the chosen source at once, and names devices as the sound server does.

The level test opens sources with an opener that plays the Beckett recording (the page is under test); the
device names come from a real PulseAudio test server (``tests/audio/conftest.py``).
"""

from __future__ import annotations

from typing import Any

import pytest

from captioner import settings as S
from captioner.audio.file import WavFileSource
from captioner.ui.settings.dialog import SettingsDialog
from captioner.ui.settings.level_meter import LevelMonitor
from tests.audio.conftest import pulse, pulse_server  # noqa: F401 - fixtures
from tests.audio.pulse import PulseServer
from tests.support.speech import speech_wav

MIC = "captioner_page_mic"


def paced(spec: str, rate: int, device: str | None, realtime: bool) -> WavFileSource:
    return WavFileSource(speech_wav("beckett.wav"), rate, realtime=True, speed=1.0)


def test_the_level_line_follows_the_chosen_source_at_once(qtbot: Any, qloop: Any) -> None:
    d = SettingsDialog(S.Settings(source="mic"), level_monitor=LevelMonitor(opener=paced))
    qtbot.addWidget(d)
    page = d.audio_page
    assert "the microphone" in page.test_status.text()
    page.test_button.setChecked(True)
    qtbot.waitUntil(lambda: page.test_status.text().startswith("Listening to the microphone"), timeout=5000)
    page.test_button.setChecked(False)
    page.system.setChecked(True)  # chosen after a test of the microphone
    text = page.test_status.text()
    assert "system audio" in text and "microphone" not in text
    page.test_button.setChecked(True)
    assert page.test_status.text().startswith("Opening system audio")
    qtbot.waitUntil(lambda: page.test_status.text().startswith("Listening to system audio"), timeout=5000)
    page.mic.setChecked(True)  # switched while the test runs: never the old source's name
    assert "system audio" not in page.test_status.text()
    qtbot.waitUntil(lambda: page.test_status.text().startswith("Listening to the microphone"), timeout=5000)
    page.close_page()


@pytest.mark.pulse
def test_devices_are_named_by_the_sound_server(qtbot: Any, pulse: PulseServer) -> None:  # noqa: F811
    module = pulse.pactl("load-module", "module-null-source", f"source_name={MIC}").strip()
    try:
        d = SettingsDialog(S.Settings(source="mic"))
        qtbot.addWidget(d)
        page = d.audio_page
        items = [page.device.itemText(i) for i in range(page.device.count())]
        # No microphone is the default here: the default source is a monitor, and the page says so.
        assert items == ["Default (Monitor of Null Output)", "Null Input"]
        assert page.device.itemData(1) == MIC
        assert "No microphone is connected" in page.device_note.text()
        assert "Monitor of Null Output" in page.device_note.text() and page.device_note.isVisibleTo(page)
        pulse.pactl("set-default-source", MIC)
        d2 = SettingsDialog(S.Settings(source="mic"))
        qtbot.addWidget(d2)
        items = [d2.audio_page.device.itemText(i) for i in range(d2.audio_page.device.count())]
        assert items == ["Default (Null Input)", "Null Input"]
        assert not d2.audio_page.device_note.text()
        d2.audio_page.system.setChecked(True)
        system = [d2.audio_page.device.itemText(i) for i in range(d2.audio_page.device.count())]
        assert system[0] == "Default (Monitor of Null Output)" and len(system) == 3
        assert not any(name in ("pulse", "default") or "(default)" in name for name in items + system)
    finally:
        pulse.pactl("set-default-source", f"{pulse.other_sink}.monitor")
        pulse.pactl("unload-module", module)
