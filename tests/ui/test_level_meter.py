"""The level meter and the level monitor: a real WAV source read on a qasync loop."""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from captioner import settings as S
from captioner.ui.settings.dialog import SettingsDialog
from captioner.ui.settings.level_meter import LevelMeter, LevelMonitor, level_fraction


def sine_wav(path: Path, seconds: float, amplitude: float, rate: int = 16000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (amplitude * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def test_level_fraction_scale() -> None:
    assert level_fraction(-120.0) == 0.0
    assert level_fraction(-60.0) == 0.0
    assert level_fraction(-30.0) == pytest.approx(0.5)
    assert level_fraction(0.0) == 1.0
    assert level_fraction(6.0) == 1.0
    assert level_fraction(math.nan) == 0.0


def test_meter_paints_the_level(qtbot) -> None:
    m = LevelMeter()
    qtbot.addWidget(m)
    m.resize(200, 16)
    m.set_level(-30.0)
    img = m.grab().toImage()
    assert img.pixelColor(40, 8).name() == "#2e7d32"  # filled (green) up to the middle
    assert img.pixelColor(170, 8).name() != "#2e7d32"  # empty beyond
    assert m.accessibleDescription() == "-30 dB"
    m.set_level(-1.0)
    assert m.grab().toImage().pixelColor(190, 8).name() == "#c62828"  # near full scale: red
    m.reset()
    assert m.accessibleDescription() == "no sound"


def test_monitor_reports_the_level_of_a_real_source(qtbot, qloop, tmp_path: Path) -> None:
    wav = sine_wav(tmp_path / "tone.wav", 0.6, 0.5)  # RMS of a 0.5 sine = -9.0 dBFS
    mon = LevelMonitor()
    levels: list[float] = []
    mon.level.connect(levels.append)
    with qtbot.waitSignal(mon.stopped, timeout=5000) as stopped:
        assert mon.start(str(wav))
        assert mon.running
    assert stopped.args == [""]  # the file ended normally
    assert not mon.running
    assert levels[-1] == -120.0  # the meter is reset when the source stops
    measured = levels[:-1]
    assert len(measured) >= 10
    assert all(abs(v - (-9.03)) < 0.3 for v in measured), measured[:5]


def test_monitor_stop_closes_the_source(qtbot, qloop, tmp_path: Path) -> None:
    wav = sine_wav(tmp_path / "long.wav", 30.0, 0.1)
    mon = LevelMonitor()
    with qtbot.waitSignal(mon.level, timeout=5000):
        mon.start(str(wav))
    with qtbot.waitSignal(mon.stopped, timeout=3000) as stopped:
        mon.stop()
    assert stopped.args == [""]
    assert not mon.running


def test_monitor_reports_a_source_that_cannot_open(qtbot, qloop, tmp_path: Path) -> None:
    mon = LevelMonitor()
    with qtbot.waitSignal(mon.stopped, timeout=3000) as stopped:
        mon.start(str(tmp_path / "missing.wav"))
    assert "no such file" in stopped.args[0]


def test_monitor_without_a_running_loop_says_so(qtbot) -> None:
    mon = LevelMonitor()
    with qtbot.waitSignal(mon.stopped, timeout=1000) as stopped:
        assert mon.start("mic") is False
    assert "event loop" in stopped.args[0]


def test_dialog_level_test_runs_and_stops_when_the_dialog_closes(qtbot, qloop, tmp_path: Path) -> None:
    d = SettingsDialog(S.Settings())
    qtbot.addWidget(d)
    d.show()
    page = d.audio_page
    wav = sine_wav(tmp_path / "long.wav", 30.0, 0.5)
    # The page tests the chosen source; point it at a WAV file (this machine has no sound card).
    page.source = lambda: str(wav)  # type: ignore[method-assign]
    qtbot.mouseClick(page.test_button, Qt.MouseButton.LeftButton)
    assert page.test_button.isChecked()
    qtbot.waitUntil(lambda: page.meter.level > -12, timeout=5000)
    assert "Listening to the file long.wav" in page.test_status.text()
    with qtbot.waitSignal(page.monitor.stopped, timeout=3000):
        d.close()
    assert not page.monitor.running
    assert not page.test_button.isChecked()
    assert page.meter.level == -120.0


def test_dialog_level_test_shows_why_a_source_fails(qtbot, qloop) -> None:
    d = SettingsDialog(S.Settings())
    qtbot.addWidget(d)
    page = d.audio_page
    page.source = lambda: "/nonexistent/input.wav"  # type: ignore[method-assign]
    with qtbot.waitSignal(page.monitor.stopped, timeout=3000):
        page.test_button.setChecked(True)
    assert page.test_status.text().startswith("Cannot test this source:")
    assert "no such file" in page.test_status.text()
    assert not page.test_button.isChecked()
