"""Audio page: microphone, system audio or both (meeting mode), the device, and a live level meter to test it.

Devices are named as the sound server names them (see :mod:`captioner.audio.devices`); the page says so when
the default "microphone" is really a monitor of the speakers, and its texts follow the choice at once. With
both chosen, the device is the microphone's, the level test shows two bars (microphone, system audio), and the
page says who is labelled how and, for a cloud engine, that two connections double the usage. The list
is read again each time the device list is opened and when the page is shown, so a device plugged in or out
while the panel is open appears or goes (a chosen device that went is kept, marked "not found now").
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from captioner.settings import Settings
from captioner.ui.settings.level_meter import LevelMeter, LevelMonitor
from captioner.ui.settings.pages.common import FAST_MS, Page, engine_capabilities, engine_name, note_label

log = logging.getLogger(__name__)

KIND_TEXT = {"mic": "microphones", "system": "system-audio sources"}
SOURCE_WORDS = {"mic": "the microphone", "system": "system audio", "both": "the microphone and system audio"}
TRY_TEXT = {"mic": "speak", "system": "play something", "both": "speak, and play something"}
MEETING_NOTE = (
    "Your microphone is captioned as “You” and the system audio (what the computer plays: the others in a call) "
    "as “Others”, on one transcript. The device below is the microphone. Without headphones the microphone also "
    "hears the speakers: Captioner cancels that echo and drops lines that repeat the others."
)


def cloud_note(engine_id: str) -> str:
    """For a cloud engine: meeting mode's two connections double the usage ('' for an engine on this computer)."""
    caps = engine_capabilities(engine_id)
    if caps is None or not caps.needs_credentials:
        return ""
    name = engine_name(engine_id)
    return (
        f"{name} is a cloud service: captioning both opens two connections to it, one per source, so it uses "
        "twice as much of your account (and costs twice as much) as one source."
    )


def default_monitor_name() -> str:
    """The monitor that the default "microphone" records ('' when it is a real input, or nobody can tell)."""
    try:
        from captioner.audio.devices import microphone_monitor

        found = microphone_monitor(None)
    except Exception as exc:  # no sound system at all must not break the panel
        log.debug("cannot tell what the default microphone records: %s", exc)
        return ""
    return (found.description or found.name) if found is not None else ""


def list_devices() -> tuple[list[Any], str]:
    """Devices from :mod:`captioner.audio.devices`, and a problem to show (``""`` if none)."""
    try:
        from captioner.audio.devices import list_devices as _list
    except ImportError:
        return [], "The device list is not available in this build; the default device will be used."
    try:
        return list(_list()), ""
    except Exception as exc:  # no sound system at all must not break the panel
        log.warning("listing audio devices failed: %s", exc)
        return [], f"Cannot list audio devices ({exc}); the default device will be used."


class DeviceCombo(QComboBox):
    """A combo box that says when its list is about to open (so that the list can be read again first)."""

    opening = Signal()

    def showPopup(self) -> None:
        self.opening.emit()
        super().showPopup()


class AudioPage(Page):
    title = "&Audio"

    def __init__(
        self, settings: Settings, parent: QWidget | None = None, *, monitor: LevelMonitor | None = None
    ) -> None:
        super().__init__(parent)
        self.mic = QRadioButton("&Microphone")
        self.mic.setAccessibleName("Caption the microphone")
        self.system = QRadioButton("S&ystem audio (what the computer plays)")
        self.system.setAccessibleName("Caption system audio")
        self.both = QRadioButton("Microphone and system aud&io (a meeting: You and Others)")
        self.both.setAccessibleName("Caption the microphone and system audio")
        self.group = QButtonGroup(self)
        self.buttons = {"mic": self.mic, "system": self.system, "both": self.both}
        for button in self.buttons.values():
            self.group.addButton(button)
        self.buttons.get(settings.source, self.mic).setChecked(True)
        self.meeting_note = note_label(MEETING_NOTE, name="meeting_note")
        self.cloud_note = note_label(name="cloud_note")
        self._engine = settings.engine

        self.device = DeviceCombo()
        self.device.setObjectName("device")
        self.device.setAccessibleName("Audio device")
        self.device_note = note_label(name="device_note")
        self._devices, problem = list_devices()
        self._device_problem = problem
        self._wanted_device = settings.device
        self._fill_devices()

        self.meter = LevelMeter()
        self.system_meter = LevelMeter()
        self.level_label = QLabel("Level:")
        self.system_label = QLabel("System audio:")
        self.test_button = QPushButton("&Test level")
        self.test_button.setAutoDefault(False)
        self.test_button.setCheckable(True)
        self.test_button.setAccessibleName("Test the audio level of the chosen source")
        self.test_button.toggled.connect(self._toggle_test)
        self.test_status = note_label(name="level_status")
        self.monitor = monitor if monitor is not None else LevelMonitor(self)
        self.monitor.level.connect(self.meter.set_level)
        self.monitor.started.connect(lambda _what: self.test_status.setText(f"Listening to {self._choice()}."))
        self.monitor.stopped.connect(
            lambda message: self._monitor_stopped(message, "the microphone" if self.source() == "both" else "")
        )
        # Meeting mode: the system audio's bar, its source opened the same way.
        self.system_monitor = LevelMonitor(self, sample_rate=self.monitor.sample_rate, opener=self.monitor.opener)
        self.system_monitor.level.connect(self.system_meter.set_level)
        self.system_monitor.stopped.connect(lambda message: self._monitor_stopped(message, "system audio"))
        self._describe_choice()

        self.group.buttonToggled.connect(self._source_toggled)
        self.device.activated.connect(self._device_picked)
        self.device.opening.connect(self.refresh_devices)

        form = QFormLayout()
        form.addRow("&Device:", self.device)
        form.addRow(self.device_note)
        meter_row = QHBoxLayout()
        meter_row.addWidget(self.meter, 1)
        meter_row.addWidget(self.test_button)
        form.addRow(self.level_label, meter_row)
        form.addRow(self.system_label, self.system_meter)
        form.addRow(self.test_status)
        layout = QVBoxLayout(self)
        for button in self.buttons.values():
            layout.addWidget(button)
        layout.addWidget(self.meeting_note)
        layout.addWidget(self.cloud_note)
        layout.addLayout(form)
        layout.addStretch(1)
        self._show_meeting()

    # -- devices ---------------------------------------------------------------------------
    def source(self) -> str:
        return next((source for source, button in self.buttons.items() if button.isChecked()), "mic")

    def set_engine(self, engine_id: str) -> None:
        """The engine chosen on the engine page: a cloud engine's note on meeting mode follows it."""
        self._engine = engine_id
        self._show_meeting()

    def _show_meeting(self) -> None:
        """Meeting mode's notes and second level bar, shown only while both are chosen."""
        meeting = self.source() == "both"
        note = cloud_note(self._engine) if meeting else ""
        self.cloud_note.setText(note)
        self.cloud_note.setVisible(bool(note))
        self.meeting_note.setVisible(meeting)
        self.system_label.setVisible(meeting)
        self.system_meter.setVisible(meeting)
        self.level_label.setText("Microphone:" if meeting else "Level:")
        self.meter.setAccessibleName("Microphone level" if meeting else "Audio level")
        self.system_meter.setAccessibleName("System audio level")

    def refresh_devices(self) -> None:
        """Read the device list again (plugged in or out since), keeping the device chosen."""
        devices, problem = list_devices()
        if (devices, problem) == (self._devices, self._device_problem):
            return
        self._devices, self._device_problem = devices, problem
        self._fill_devices()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh_devices()

    def _fill_devices(self) -> None:
        kind = "mic" if self.source() == "both" else self.source()
        mine = [d for d in self._devices if getattr(d, "kind", "mic") == kind]
        monitor = default_monitor_name() if kind == "mic" else ""
        default = next((str(getattr(d, "name", d)) for d in mine if getattr(d, "default", False)), monitor)
        self.device.blockSignals(True)
        self.device.clear()
        self.device.addItem(f"Default ({default})" if default else "Default", "")
        for d in mine:
            name = str(getattr(d, "name", d))
            self.device.addItem(name, str(getattr(d, "id", name)))
        wanted = self._wanted_device
        if wanted and self.device.findData(wanted) < 0:
            self.device.addItem(f"{wanted} (not found now)", wanted)
        self.device.setCurrentIndex(max(0, self.device.findData(wanted)))
        self.device.blockSignals(False)
        notes = [self._device_problem] if self._device_problem else []
        if monitor:
            notes.append(
                f"No microphone is connected: the default input, “{monitor}”, records what the computer plays, "
                "not your voice. Connect a microphone, or choose System audio if that is what you want captioned."
            )
        elif not mine and not self._device_problem:
            note = f"No {KIND_TEXT[kind]} found; the system default will be used."
            if kind == "system":
                note += " On Linux, system audio needs PulseAudio or PipeWire (a monitor source)."
            notes.append(note)
        self.device_note.setText(" ".join(notes))
        self.device_note.setStyleSheet("color: #8a5300;" if monitor else "")
        self.device_note.setVisible(bool(notes))

    def set_source(self, source: str, device: str) -> None:
        """Show ``source`` and ``device`` chosen elsewhere (the tray menu), without emitting an edit."""
        for button in self.buttons.values():
            button.blockSignals(True)
        self.buttons.get(source, self.mic).setChecked(True)
        for button in self.buttons.values():
            button.blockSignals(False)
        self._wanted_device = device
        self._fill_devices()
        self._show_meeting()
        self._restart_test()
        self._describe_choice()

    def _choice(self) -> str:
        """The chosen source and device in words, e.g. 'system audio: Default (Monitor of Speakers)'."""
        source = self.source()
        if source not in SOURCE_WORDS:  # a WAV file (tests, demos)
            return f"the file {Path(source).name}"
        if source == "both":
            return f"the microphone, {self.device.currentText()}, and system audio"
        return f"{SOURCE_WORDS[source]}: {self.device.currentText()}"

    def _describe_choice(self) -> None:
        """The level line follows the choice at once (never names a source no longer chosen)."""
        if self.test_button.isChecked():
            self.test_status.setText(f"Opening {self._choice()}…")
        else:
            self.test_status.setText(
                f"Captions come from {self._choice()}. Press Test level and {TRY_TEXT.get(self.source(), 'listen')}: "
                f"{'both bars' if self.source() == 'both' else 'the bar'} should move."
            )

    def device_id(self) -> str:
        return str(self.device.currentData() or "")

    def _source_toggled(self, _button: QRadioButton, checked: bool) -> None:
        if not checked:
            return
        self._wanted_device = ""
        self._fill_devices()
        self._show_meeting()
        self._restart_test()
        self._describe_choice()
        self.edited.emit(FAST_MS)

    def _device_picked(self, _index: int) -> None:
        self._wanted_device = self.device_id()
        self._restart_test()
        self._describe_choice()
        self.edited.emit(FAST_MS)

    # -- level test ------------------------------------------------------------------------
    def _toggle_test(self, on: bool) -> None:
        if on:
            self.test_button.setText("S&top test")
            self._describe_choice()
            self._restart_test()
        else:
            self.test_button.setText("&Test level")
            self._stop_test()
            self._describe_choice()

    def _restart_test(self) -> None:
        if not self.test_button.isChecked():
            return
        meeting = self.source() == "both"
        self.monitor.start("mic" if meeting else self.source(), self.device_id())
        if meeting:
            self.system_monitor.start("system")
        else:
            self.system_monitor.stop()
            self.system_meter.reset()

    def _stop_test(self) -> None:
        for monitor, meter in ((self.monitor, self.meter), (self.system_monitor, self.system_meter)):
            monitor.stop()
            meter.reset()

    def _monitor_stopped(self, message: str, which: str = "") -> None:
        """A level test stopped (``which``: the source of meeting mode it tested, '' outside meeting mode)."""
        running = self.monitor.running or self.system_monitor.running
        if message:
            self.test_status.setText(f"Cannot test {which or 'this source'}: {message}")
        elif self.test_button.isChecked() and not running:
            self.test_status.setText("The source stopped.")
        if not running and self.test_button.isChecked():
            self.test_button.blockSignals(True)
            self.test_button.setChecked(False)
            self.test_button.setText("&Test level")
            self.test_button.blockSignals(False)

    def apply(self, settings: Settings) -> Settings:
        return settings.with_changes(source=self.source(), device=self.device_id())

    def close_page(self) -> None:
        self._stop_test()
        self.test_button.blockSignals(True)
        self.test_button.setChecked(False)
        self.test_button.setText("&Test level")
        self.test_button.blockSignals(False)
