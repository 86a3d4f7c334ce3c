"""Appearance page: font, colours, opacity (with its number), outline, lines, width, clear-after; how speakers
are told apart (:mod:`captioner.ui.settings.speakers_box`); high-contrast preset; a live preview painted as the
overlay paints."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFontComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from captioner.settings import Appearance, Settings
from captioner.ui.settings.appearance_preview import AppearancePreview
from captioner.ui.settings.color_button import ColorButton
from captioner.ui.settings.pages.common import FAST_MS, Page
from captioner.ui.settings.speakers_box import SpeakersBox

HIGH_CONTRAST = {
    "text_color": "#ffffff",
    "interim_color": "#ffff00",
    "background_color": "#000000",
    "background_opacity": 1.0,
    "outline": True,
    "high_contrast": True,
}
HIGH_CONTRAST_MIN_FONT = 32


def high_contrast(a: Appearance) -> Appearance:
    """The high-contrast preset: white on opaque black, yellow interim text, outlined, at least 32 pt."""
    return dataclasses.replace(a, font_size=max(a.font_size, HIGH_CONTRAST_MIN_FONT), **HIGH_CONTRAST)  # type: ignore[arg-type]


class AppearancePage(Page):
    title = "A&ppearance"
    appearance_changed = Signal(object)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base = settings.appearance
        a = settings.appearance
        self._loading = False

        self.font_family = QFontComboBox()
        self.font_family.setAccessibleName("Font family")
        self.font_size = QSpinBox()
        self.font_size.setRange(8, 96)
        self.font_size.setSuffix(" pt")
        self.font_size.setAccessibleName("Font size")
        self.text_color = ColorButton(a.text_color, "Text colour")
        self.interim_color = ColorButton(a.interim_color, "Colour of text still being spoken")
        self.background_color = ColorButton(a.background_color, "Background colour")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setSingleStep(5)
        self.opacity.setPageStep(10)
        self.opacity.setAccessibleName("Background opacity in percent")
        self.opacity_value = QLabel()
        self.opacity_value.setObjectName("opacity_value")
        self.opacity_value.setMinimumWidth(self.opacity_value.fontMetrics().horizontalAdvance("100 %") + 4)
        self.outline = QCheckBox("Outline the text (legible on any background)")
        self.outline.setAccessibleName("Outline the text")
        self.lines = QSpinBox()
        self.lines.setRange(1, 5)
        self.lines.setAccessibleName("Number of caption lines")
        self.max_chars = QSpinBox()
        self.max_chars.setRange(10, 200)
        self.max_chars.setSuffix(" characters")
        self.max_chars.setAccessibleName("Maximum line width in characters")
        self.clear_after = QDoubleSpinBox()
        self.clear_after.setRange(0, 600)
        self.clear_after.setDecimals(1)
        self.clear_after.setSingleStep(1.0)
        self.clear_after.setSuffix(" s")
        self.clear_after.setSpecialValueText("never")
        self.clear_after.setAccessibleName("Clear captions after this many idle seconds (0 = never)")
        self.contrast_button = QPushButton("&High-contrast preset")
        self.contrast_button.setAutoDefault(False)
        self.contrast_button.setAccessibleName("Apply the high-contrast preset")
        self.contrast_button.clicked.connect(lambda: self.set_appearance(high_contrast(self.appearance())))
        self.reset_button = QPushButton("&Reset appearance")
        self.reset_button.setAutoDefault(False)
        self.reset_button.setAccessibleName("Reset the appearance to the defaults")
        self.reset_button.clicked.connect(lambda: self.set_appearance(Appearance()))
        self.speakers = SpeakersBox(a)
        self.preview = AppearancePreview(a)

        form = QFormLayout()
        form.addRow("&Font:", self.font_family)
        form.addRow("Font si&ze:", self.font_size)
        form.addRow("Te&xt colour:", self.text_color)
        form.addRow("&Interim text colour:", self.interim_color)
        form.addRow("&Background colour:", self.background_color)
        opacity_row = QHBoxLayout()
        opacity_row.addWidget(self.opacity, 1)
        opacity_row.addWidget(self.opacity_value)
        opacity_label = QLabel("Background &opacity:")
        opacity_label.setBuddy(self.opacity)
        form.addRow(opacity_label, opacity_row)
        form.addRow("", self.outline)
        form.addRow("&Lines shown:", self.lines)
        form.addRow("&Maximum line width:", self.max_chars)
        form.addRow("&Clear after idle:", self.clear_after)
        presets = QHBoxLayout()
        presets.addWidget(self.contrast_button)
        presets.addWidget(self.reset_button)
        presets.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.speakers)
        layout.addLayout(presets)
        layout.addWidget(self.preview, 1)

        self.set_appearance(a, emit=False)
        self.font_family.currentFontChanged.connect(self._edited)
        for spin in (self.font_size, self.lines, self.max_chars):
            spin.valueChanged.connect(self._edited)
        self.clear_after.valueChanged.connect(self._edited)
        self.opacity.valueChanged.connect(self._edited)
        self.outline.toggled.connect(self._edited)
        for button in (self.text_color, self.interim_color, self.background_color):
            button.color_changed.connect(self._colour_edited)
        self.speakers.changed.connect(self._edited)

    def appearance(self) -> Appearance:
        """The appearance as edited now."""
        return self._current()

    def _from_widgets(self) -> Appearance:
        edited = dataclasses.replace(
            self._base,
            font_family=self.font_family.currentFont().family(),
            font_size=self.font_size.value(),
            text_color=self.text_color.color(),
            interim_color=self.interim_color.color(),
            background_color=self.background_color.color(),
            background_opacity=self.opacity.value() / 100,
            outline=self.outline.isChecked(),
            lines=self.lines.value(),
            max_line_chars=self.max_chars.value(),
            clear_after_s=round(self.clear_after.value(), 1),
        )
        return self.speakers.applied_to(edited)

    def set_appearance(self, a: Appearance, *, emit: bool = True) -> None:
        self._loading = True
        try:
            self.font_family.setCurrentFont(QFont(a.font_family))
            self.font_size.setValue(a.font_size)
            self.text_color.set_color(a.text_color, emit=False)
            self.interim_color.set_color(a.interim_color, emit=False)
            self.background_color.set_color(a.background_color, emit=False)
            self.opacity.setValue(round(a.background_opacity * 100))
            self.outline.setChecked(a.outline)
            self.lines.setValue(a.lines)
            self.max_chars.setValue(a.max_line_chars)
            self.clear_after.setValue(a.clear_after_s)
            self.speakers.set_values(a)
        finally:
            self._loading = False
        # Keep the family as saved when this machine lacks the font (the overlay falls back the same way).
        self._base = a
        self._family_saved = a.font_family
        self._family_shown = self.font_family.currentFont().family()
        self._changed(emit)

    def _current(self) -> Appearance:
        a = self._from_widgets()
        if a.font_family == self._family_shown:
            a = dataclasses.replace(a, font_family=self._family_saved)
        return a

    def _edited(self, *_args: object) -> None:
        if not self._loading:
            self._changed(True)

    def _colour_edited(self, _color: str) -> None:
        if not self._loading:
            self._base = dataclasses.replace(self._base, high_contrast=False)
            self._changed(True)

    def _changed(self, emit: bool) -> None:
        a = self._current()
        self.opacity.setAccessibleDescription(f"{self.opacity.value()} %")
        self.opacity_value.setText(f"{self.opacity.value()} %")
        self.preview.set_appearance(a)
        self.speakers.check_contrast(a)
        if emit:
            self.appearance_changed.emit(a)
            self.edited.emit(FAST_MS)

    def apply(self, settings: Settings) -> Settings:
        return settings.with_changes(appearance=self._current())
