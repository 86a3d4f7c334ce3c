"""The transcript window with speakers and detected languages, as real widgets offscreen."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QTableWidgetItem

from captioner.captions.events import Final
from captioner.captions.transcript import Transcript
from captioner.settings import Appearance
from captioner.ui.speaker_style import MIN_CONTRAST, PALETTE, SpeakerStyle, contrast_ratio
from captioner.ui.transcript_rows import CAPTION, SPEAKER, language_tag
from captioner.ui.transcript_window import TranscriptWindow
from tests.support.scripted_engine import Turn, conversation

MEETING = [
    Turn(speaker="Others", start=0.0, text="shall we start with the budget"),
    Turn(speaker="You", start=3.0, text="yes please"),
    Turn(speaker="Others", start=5.0, text="bonjour à tous", language="fr"),
    Turn(speaker="Others", start=8.0, text="and in English again", language="en-GB"),
]


@pytest.fixture
def window(qtbot: Any) -> Any:
    def make(turns: list[Turn], **kwargs: Any) -> tuple[TranscriptWindow, Transcript]:
        t = Transcript()
        w = TranscriptWindow(t, **kwargs)
        qtbot.addWidget(w)
        t.subscribe(w.on_change)
        for ev in conversation(turns):
            t.apply(ev)
        return w, t

    return make


def _column(w: TranscriptWindow, col: int) -> list[str]:
    return [_item(w, r, col).text() for r in range(w.table.rowCount())]


def _item(w: TranscriptWindow, row: int, col: int) -> QTableWidgetItem:
    item = w.table.item(row, col)
    assert item is not None
    return item


def test_each_line_shows_its_speaker_in_the_speakers_colour(window: Any) -> None:
    w, _ = window(MEETING)
    assert not w.table.isColumnHidden(SPEAKER)
    assert w.table.horizontalHeader().visualIndex(SPEAKER) == 1  # between the time and the caption
    assert _column(w, SPEAKER) == ["Others", "You", "Others", "Others"]
    style = SpeakerStyle(Appearance())
    for row, speaker in enumerate(("Others", "You")):
        cell = _item(w, row, SPEAKER)
        assert cell.background().color().name() == style.any_color(speaker)
        assert cell.foreground().color().name() == "#000000"


def test_black_on_every_speaker_colour_is_legible() -> None:
    style = SpeakerStyle(Appearance())
    ratios = {c: contrast_ratio("#000000", c) for c in {*PALETTE, style.any_color("You"), style.any_color("Others")}}
    print("\nblack text on the speaker cells: " + ", ".join(f"{c} {r:.1f}" for c, r in sorted(ratios.items())))
    assert min(ratios.values()) >= MIN_CONTRAST


def test_a_line_in_another_language_is_tagged(window: Any) -> None:
    w, _ = window(MEETING)
    assert _column(w, CAPTION) == [
        "shall we start with the budget",
        "yes please",
        "[fr] bonjour à tous",
        "and in English again",  # en-GB is English: no tag
    ]
    w.set_expected_language("fr-FR")
    assert _column(w, CAPTION)[2:] == ["bonjour à tous", "[en] and in English again"]
    assert [line.text for line in w.lines()][2] == "bonjour à tous"  # the tag is display only


def test_language_tags_ignore_what_is_no_language() -> None:
    line = conversation([Turn(speaker=None, start=0.0, text="x", language="de")])[-1]
    assert isinstance(line, Final)
    transcript = Transcript()
    change = transcript.apply(line)
    assert change is not None
    assert language_tag(change.line, "") == "[de]"
    assert language_tag(change.line, "auto") == "[de]"  # automatic detection: English is expected
    assert language_tag(change.line, "de_DE") == ""
    assert language_tag(dataclasses.replace(change.line, language="??"), "") == ""


def test_search_still_finds_lines_and_ignores_the_tag(window: Any) -> None:
    w, _ = window(MEETING)
    w.search.setText("bonjour")
    w.apply_search()
    assert [line.text for line in w.matches()] == ["bonjour à tous"]
    w.search.setText("[fr]")
    w.apply_search()
    assert w.matches() == []


def test_copy_and_export_of_a_selection_name_the_speaker(window: Any, qtbot: Any) -> None:
    w, _ = window(MEETING)
    w.table.selectRow(1)  # the "You" line alone
    assert w.copy_selection() == "You: yes please\n"
    assert QGuiApplication.clipboard().text() == "You: yes please\n"
    assert w.export_text("txt", w.selected_lines()) == "You: yes please\n"
    assert "You: yes please" in w.export_text("srt", w.selected_lines())
    QGuiApplication.clipboard().clear()
    w.show()
    qtbot.waitExposed(w)
    w.table.setFocus()
    # selectRow() extends the selection when the application thinks Ctrl is held (an earlier test's key
    # event can leave that state behind offscreen): start from an empty selection.
    w.table.clearSelection()
    w.table.selectRow(0)
    qtbot.keyClick(w.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "Others: shall we start with the budget\n"


def test_one_speaker_shows_no_speaker_column(window: Any) -> None:
    w, _ = window([Turn(speaker="A", start=0.0, text="alone"), Turn(speaker=None, start=1.0, text="still alone")])
    assert w.table.isColumnHidden(SPEAKER)
    w.table.selectRow(0)
    assert w.copy_selection() == "alone\n"


def test_labels_follow_the_appearance_and_revisions_relabel(window: Any) -> None:
    w, t = window([Turn(speaker="A", start=0.0, text="hello"), Turn(speaker="B", start=1.0, text="hi")])
    assert _column(w, SPEAKER) == ["A", "B"]
    first = t.finals[0]
    t.apply(Final(line_id=first.line_id, text=first.text, engine=first.engine, start=first.start, speaker="B"))
    assert _column(w, SPEAKER) == ["B", "B"]  # the engine's speaker revision relabels the earlier line
    w, _ = window(MEETING)
    w.set_appearance(Appearance(you_label="Me", others_label="Call"))
    assert _column(w, SPEAKER) == ["Call", "Me", "Call", "Call"]
    assert [line.speaker for line in w.lines()] == ["Others", "You", "Others", "Others"]
    w.set_appearance(Appearance(speaker_style="off"))
    assert w.table.isColumnHidden(SPEAKER)


def test_the_app_gives_the_window_the_labels_and_the_expected_language(desktop: Any) -> None:
    from captioner.settings import EngineSettings, Settings

    start = Settings(engine="fake", autostart_captions=False, engines={"fake": EngineSettings(language="de")})
    app = desktop(start)
    window = app.open_transcript()
    assert window.expected_language == "de"
    dialog = app.open_settings()
    edited = dialog.settings().with_changes(
        engine="fake",
        appearance=Appearance(you_label="Me"),
        engines={"fake": EngineSettings(language="fr")},
    )
    dialog.settings_changed.emit(edited)
    assert window.speaker_style.name("You") == "Me"
    assert window.expected_language == "fr"
