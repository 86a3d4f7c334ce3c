"""Captions page: word boost list and silence threshold, both checked against the selected engine; the profanity
filter."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QGroupBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from captioner.settings import SILENCE_MS_RANGE, Settings
from captioner.ui.settings.pages.common import (
    FAST_MS,
    Page,
    engine_capabilities,
    engine_name,
    note_label,
    silence_explanation,
)
from captioner.ui.settings.word_boost_editor import WordBoostEditor

SILENCE_STEP_MS = 50


class CaptionsPage(Page):
    title = "&Captions"

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        boost_box = QGroupBox("&Word boost: words and names to recognise more readily")
        self.word_boost = WordBoostEditor(settings.word_boost)
        self.word_boost.terms_changed.connect(lambda _t: self.edited.emit(FAST_MS))
        boost_layout = QVBoxLayout(boost_box)
        boost_layout.addWidget(self.word_boost)

        silence_box = QGroupBox("Silence &threshold: when a caption line is finalised")
        lo, hi = SILENCE_MS_RANGE
        self.silence = QSlider(Qt.Orientation.Horizontal)
        self.silence.setObjectName("silence_ms")
        self.silence.setAccessibleName("Silence threshold in milliseconds")
        self.silence.setRange(lo, hi)
        self.silence.setSingleStep(SILENCE_STEP_MS)
        self.silence.setPageStep(500)
        self.silence.setTickInterval(500)
        self.silence.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.silence.setValue(settings.silence_ms)
        self.silence_value = QLabel()
        self.silence_value.setObjectName("silence_value")
        self.silence_value.setMinimumWidth(70)
        self.silence_value.setBuddy(self.silence)
        self.silence_explanation = note_label(name="silence_explanation")
        self.silence_note = note_label(name="silence_note")
        self.silence_note.setStyleSheet("color: #8a5300;")
        self.silence.valueChanged.connect(self._silence_moved)
        row = QHBoxLayout()
        row.addWidget(self.silence, 1)
        row.addWidget(self.silence_value)
        silence_layout = QVBoxLayout(silence_box)
        silence_layout.addLayout(row)
        silence_layout.addWidget(self.silence_explanation)
        silence_layout.addWidget(self.silence_note)
        # Mnemonics of group boxes focus their first child.
        boost_box.setFocusProxy(self.word_boost.entry)
        silence_box.setFocusProxy(self.silence)

        self.filter_profanity = QCheckBox("&Filter profanity: show swear words and slurs as f***")
        self.filter_profanity.setObjectName("filter_profanity")
        self.filter_profanity.setToolTip(
            "In the captions, the transcript window and exports. The autosaved transcript keeps every word."
        )
        self.filter_profanity.setChecked(settings.filter_profanity)
        self.filter_profanity.toggled.connect(lambda _on: self.edited.emit(FAST_MS))

        layout = QVBoxLayout(self)
        layout.addWidget(boost_box, 1)
        layout.addWidget(silence_box)
        layout.addWidget(self.filter_profanity)
        self._update_silence_text()
        self.set_engine(settings.engine)

    def set_engine(self, engine_id: str) -> None:
        caps = engine_capabilities(engine_id)
        name = engine_name(engine_id)
        self.word_boost.set_capabilities(caps, name)
        if caps is None:
            note = f"{name} is not installed here, so whether it uses this setting is not known."
        elif not caps.silence_threshold:
            note = f"{name} does not let Captioner set this: it decides on its own when a line is final."
        else:
            note = ""
        self.silence_note.setText(note)
        self.silence_note.setVisible(bool(note))

    def silence_ms(self) -> int:
        # Snap to the step so that keyboard and mouse give the same round values.
        v = self.silence.value()
        return int(round(v / SILENCE_STEP_MS) * SILENCE_STEP_MS)

    def _update_silence_text(self) -> None:
        ms = self.silence_ms()
        self.silence_value.setText(f"{ms} ms")
        self.silence.setAccessibleDescription(f"{ms} milliseconds")
        self.silence_explanation.setText(silence_explanation(ms))

    def _silence_moved(self, _value: int) -> None:
        self._update_silence_text()
        self.edited.emit(FAST_MS)

    def apply(self, settings: Settings) -> Settings:
        lo, hi = SILENCE_MS_RANGE
        return settings.with_changes(
            word_boost=self.word_boost.terms(),
            silence_ms=min(hi, max(lo, self.silence_ms())),
            filter_profanity=self.filter_profanity.isChecked(),
        )
