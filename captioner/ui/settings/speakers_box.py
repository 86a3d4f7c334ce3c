"""The Appearance page's speaker settings: how speakers are told apart, and the label and colour of "You" and
"Others".

With more than one speaker in a session (or in meeting mode) the overlay and the transcript window show each
speaker's label and/or colour; "You" (the microphone) and "Others" (the system audio) take the label text and
colour set here, speakers told apart by the engine take the palette's colours
(:mod:`captioner.ui.speaker_style`). A chosen colour that is hard to read on the overlay background (contrast
below 4.5:1 over a white or a black window) is pointed out. The labels are only what is shown: transcripts and
exports keep the ids.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QLineEdit, QWidget

from captioner.settings import SPEAKER_LABEL_MAX, Appearance
from captioner.ui.settings.color_button import ColorButton
from captioner.ui.speaker_style import MIN_CONTRAST, SpeakerStyle, worst_contrast

STYLE_NAMES = (
    ("label_and_color", "Label and colour"),
    ("label", "Label only"),
    ("color", "Colour only"),
    ("off", "Do not show speakers"),
)


class SpeakersBox(QGroupBox):
    """The speaker fields; :meth:`applied_to` puts them into an :class:`~captioner.settings.Appearance`."""

    changed = Signal()

    def __init__(self, appearance: Appearance, parent: QWidget | None = None) -> None:
        super().__init__("Speakers", parent)
        self.style_box = QComboBox()
        self.style_box.setAccessibleName("How speakers are told apart")
        for key, text in STYLE_NAMES:
            self.style_box.addItem(text, key)
        self.you_label = self._label_edit("Label of your own speech (microphone)")
        self.you_color = ColorButton(appearance.you_color, "Colour of your own speech")
        self.others_label = self._label_edit("Label of the others' speech (system audio)")
        self.others_color = ColorButton(appearance.others_color, "Colour of the others' speech")
        hint = QLabel("Speakers the engine tells apart (A, B…) get colours chosen to be legible on the overlay.")
        hint.setWordWrap(True)
        hint.setObjectName("speakers_hint")

        grid = QGridLayout(self)
        show = QLabel("S&how speakers:")
        show.setBuddy(self.style_box)
        grid.addWidget(show, 0, 0)
        grid.addWidget(self.style_box, 0, 1, 1, 2)
        for row, (text, edit, button) in enumerate(
            (
                ("&You (microphone):", self.you_label, self.you_color),
                ("O&thers (system audio):", self.others_label, self.others_color),
            ),
            start=1,
        ):
            label = QLabel(text)
            label.setBuddy(edit)
            grid.addWidget(label, row, 0)
            grid.addWidget(edit, row, 1)
            grid.addWidget(button, row, 2)
        self.warning = QLabel()
        self.warning.setObjectName("speakers_warning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        grid.addWidget(hint, 3, 0, 1, 3)
        grid.addWidget(self.warning, 4, 0, 1, 3)
        grid.setColumnStretch(1, 1)

        self.set_values(appearance)
        self.style_box.currentIndexChanged.connect(lambda _i: self._edited())
        for edit in (self.you_label, self.others_label):
            edit.textEdited.connect(lambda _t: self._edited())
        for button in (self.you_color, self.others_color):
            button.color_changed.connect(lambda _c: self._edited())

    @staticmethod
    def _label_edit(name: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setMaxLength(SPEAKER_LABEL_MAX)
        edit.setAccessibleName(name)
        return edit

    def _edited(self) -> None:
        labels = self.style_box.currentData() in ("label_and_color", "label")
        colors = self.style_box.currentData() in ("label_and_color", "color")
        for edit in (self.you_label, self.others_label):
            edit.setEnabled(labels)
        for button in (self.you_color, self.others_color):
            button.setEnabled(colors)
        self.changed.emit()

    def set_values(self, a: Appearance) -> None:
        """Show ``a``'s speaker fields (without emitting :attr:`changed`)."""
        self.blockSignals(True)
        try:
            index = self.style_box.findData(a.speaker_style)
            self.style_box.setCurrentIndex(max(0, index))
            self.you_label.setText(a.you_label)
            self.others_label.setText(a.others_label)
            self.you_color.set_color(a.you_color, emit=False)
            self.others_color.set_color(a.others_color, emit=False)
            self._edited()
        finally:
            self.blockSignals(False)

    def check_contrast(self, a: Appearance) -> str:
        """Warn when a chosen colour is hard to read on ``a``'s overlay background; returns the warning."""
        style = SpeakerStyle(a)
        hard = []
        if style.colors:
            for speaker, label in (("You", a.you_label), ("Others", a.others_label)):
                ratio = worst_contrast(style.any_color(speaker), a)
                if ratio < MIN_CONTRAST:
                    hard.append(f"“{label}” ({ratio:.1f}:1)")
        text = (
            f"Hard to read on the overlay background: {' and '.join(hard)}; 4.5:1 is the least for legible text."
            if hard
            else ""
        )
        self.warning.setText(text)
        self.warning.setVisible(bool(text))
        return text

    def applied_to(self, a: Appearance) -> Appearance:
        """``a`` with the fields as edited (an empty label keeps the default)."""
        default = Appearance()
        return dataclasses.replace(
            a,
            speaker_style=str(self.style_box.currentData()),
            you_label=self.you_label.text().strip() or default.you_label,
            you_color=self.you_color.color(),
            others_label=self.others_label.text().strip() or default.others_label,
            others_color=self.others_color.color(),
        )
