"""The word boost editor on its own: add, remove, edit, paste many, import, validation against limits."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from captioner.engines.base import Capabilities, WordBoostLimits
from captioner.ui.settings.word_boost_editor import WordBoostEditor, split_terms

LIMITED = Capabilities(
    sample_rate=16000,
    interim_results=True,
    word_boost=True,
    live_update=True,
    silence_threshold=True,
    word_boost_limits=WordBoostLimits(max_terms=3, max_term_chars=10),
)
UNSUPPORTED = Capabilities(
    sample_rate=8000,
    interim_results=True,
    word_boost=False,
    live_update=False,
    silence_threshold=False,
    notes="the API has no vocabulary option",
)


def make(qtbot, terms=()) -> WordBoostEditor:
    w = WordBoostEditor(tuple(terms))
    qtbot.addWidget(w)
    return w


def test_split_terms_handles_lines_commas_tabs_comments() -> None:
    text = "Kubernetes\r\n  Dr.   Nguyen \n\n# a comment\nfoo,bar\tbaz\n"
    assert split_terms(text) == ["Kubernetes", "Dr. Nguyen", "foo", "bar", "baz"]


def test_add_with_enter_and_button_without_duplicates(qtbot) -> None:
    w = make(qtbot)
    with qtbot.waitSignal(w.terms_changed) as sig:
        qtbot.keyClicks(w.entry, "PySide")
        qtbot.keyClick(w.entry, Qt.Key.Key_Return)
    assert sig.args == [("PySide",)]
    assert w.entry.text() == ""
    w.entry.setText("qasync")
    qtbot.mouseClick(w.add_button, Qt.MouseButton.LeftButton)
    w.entry.setText("PySide")  # already there
    w.add_from_entry()
    assert w.terms() == ("PySide", "qasync")
    assert w.count_label.text() == "2 terms"


def test_remove_selected_and_delete_key(qtbot) -> None:
    w = make(qtbot, ["a", "b", "c", "d"])
    w.list.item(1).setSelected(True)
    w.list.item(2).setSelected(True)
    with qtbot.waitSignal(w.terms_changed):
        qtbot.mouseClick(w.remove_button, Qt.MouseButton.LeftButton)
    assert w.terms() == ("a", "d")
    w.list.setCurrentRow(0)
    w.list.setFocus()
    qtbot.keyClick(w.list, Qt.Key.Key_Delete)
    assert w.terms() == ("d",)


def test_editing_an_item_in_place_and_emptying_it_removes_it(qtbot) -> None:
    w = make(qtbot, ["teh", "x"])
    with qtbot.waitSignal(w.terms_changed) as sig:
        w.list.item(0).setText("the")
    assert sig.args == [("the", "x")]
    w.list.item(1).setText("   ")
    assert w.terms() == ("the",)
    assert w.list.count() == 1


def test_paste_many_from_the_clipboard(qtbot) -> None:
    w = make(qtbot, ["one"])
    QGuiApplication.clipboard().setText("two\nthree\none\n\nfour\n")
    with qtbot.waitSignal(w.terms_changed):
        qtbot.mouseClick(w.paste_button, Qt.MouseButton.LeftButton)
    assert w.terms() == ("one", "two", "three", "four")


def test_import_file_and_unreadable_file(qtbot, tmp_path: Path) -> None:
    w = make(qtbot)
    f = tmp_path / "terms.txt"
    f.write_text("\ufeffalpha\nbeta\n# comment\ngamma delta\n", encoding="utf-8")
    assert w.import_file(f) == 3
    assert w.terms() == ("alpha", "beta", "gamma delta")
    assert w.import_file(tmp_path / "missing.txt") == 0
    assert "Cannot import missing.txt" in w.message_label.text()
    assert not w.message_label.isHidden()


def test_import_button_uses_the_file_dialog(qtbot, tmp_path: Path, monkeypatch) -> None:
    f = tmp_path / "names.txt"
    f.write_text("Ada\nGrace\n")
    from captioner.ui.settings import word_boost_editor

    monkeypatch.setattr(word_boost_editor.QFileDialog, "getOpenFileName", lambda *a, **k: (str(f), ""))
    w = make(qtbot)
    with qtbot.waitSignal(w.terms_changed):
        qtbot.mouseClick(w.import_button, Qt.MouseButton.LeftButton)
    assert w.terms() == ("Ada", "Grace")


def test_limits_mark_saved_terms_this_engine_will_not_use(qtbot) -> None:
    w = make(qtbot, ["short", "much-too-long-term", "b", "c", "d"])  # saved while another engine was chosen
    w.set_capabilities(LIMITED, "Test engine")
    assert w.count_label.text() == "5 / 3 terms"
    warning = w.warning_label.text()
    assert warning == (
        "Test engine will not use 2 terms (in red): 1 longer than 10 characters and 1 beyond its limit of 3 terms."
    )
    assert not w.warning_label.isHidden()
    flagged = [w.list.item(i).text() for i in range(w.list.count()) if w.list.item(i).toolTip()]
    assert flagged == ["much-too-long-term", "d"]
    assert "up to 3 terms" in w.note_label.text() and "at most 10 characters" in w.note_label.text()
    # Removing the problems clears the warning.
    w.set_terms(("short", "b"))
    assert w.warning_label.text() == "" and w.warning_label.isHidden()


def test_unsupported_engine_note_and_unknown_engine(qtbot) -> None:
    w = make(qtbot, ["x"])
    w.set_capabilities(UNSUPPORTED, "Other engine")
    assert "Other engine does not support word boost" in w.note_label.text()
    assert "the API has no vocabulary option" in w.note_label.text()
    assert w.warning_label.isHidden()
    w.set_capabilities(None, "Missing engine")
    assert "not installed here" in w.note_label.text()
    assert w.terms() == ("x",)  # the terms are kept for other engines
