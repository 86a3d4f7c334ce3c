"""The Appearance page's speaker settings, as real widgets offscreen."""

from __future__ import annotations

import dataclasses
from typing import Any

from PySide6.QtCore import Qt

from captioner.settings import Appearance, Settings
from captioner.ui.settings.pages.appearance import AppearancePage


def test_speaker_labels_colours_and_style_are_edited_and_applied(qtbot: Any) -> None:
    page = AppearancePage(Settings())
    qtbot.addWidget(page)
    box = page.speakers
    assert (box.you_label.text(), box.others_label.text()) == ("You", "Others")
    emitted: list[Appearance] = []
    page.appearance_changed.connect(emitted.append)
    box.you_label.selectAll()
    qtbot.keyClicks(box.you_label, "Me")
    assert [a.you_label for a in emitted] == ["M", "Me"]  # the overlay previews every keystroke
    box.others_color.set_color("#00ff88")
    box.style_box.setCurrentIndex(box.style_box.findData("color"))
    a = page.apply(Settings()).appearance
    assert (a.you_label, a.others_color, a.speaker_style) == ("Me", "#00ff88", "color")
    assert not box.you_label.isEnabled() and box.you_color.isEnabled()  # colour only: the labels are unused


def test_an_emptied_label_keeps_the_default_and_loading_shows_saved_values(qtbot: Any) -> None:
    saved = dataclasses.replace(Appearance(), others_label="Call", you_color="#112233", speaker_style="label")
    page = AppearancePage(Settings(appearance=saved))
    qtbot.addWidget(page)
    assert page.appearance() == saved
    page.speakers.others_label.clear()
    qtbot.keyClick(page.speakers.others_label, Qt.Key.Key_Backspace)
    assert page.appearance().others_label == "Others"
    page.reset_button.click()
    assert page.appearance().speaker_style == "label_and_color"


def test_a_hard_to_read_speaker_colour_is_pointed_out(qtbot: Any) -> None:
    page = AppearancePage(Settings())
    qtbot.addWidget(page)
    assert page.speakers.check_contrast(page.appearance()) == ""
    page.speakers.you_color.set_color("#303030")
    warning = page.speakers.warning.text()
    assert "“You”" in warning and "4.5:1" in warning and "Others" not in warning
    page.opacity.setValue(20)  # a light window shows through: the default Others colour is hard to read too
    assert "“Others”" in page.speakers.warning.text()
    page.speakers.you_color.set_color("#8fd3ff")
    page.opacity.setValue(90)
    assert page.speakers.warning.text() == ""
