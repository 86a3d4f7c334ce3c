"""Word boost input within the engine's limits: a too-long term is refused (never added, saved or counted) in
one short line that wraps without widening the dialog; an import never goes past the limit and says in one
line how many were left out; "Clear all" can be undone. The real settings dialog and engine limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from captioner import settings as S
from captioner.engines import registry
from captioner.ui.settings.dialog import SettingsDialog

LOCAL = registry.ENGINES["local"].capabilities.word_boost_limits
TERMS = ("tried", "failed", "no matter", "fail better", "Samuel Beckett")


def dialog(qtbot: Any, **settings: Any) -> SettingsDialog:
    d = SettingsDialog(S.Settings(**settings))
    qtbot.addWidget(d)
    d.tabs.setCurrentWidget(d.captions_page)
    d.show()
    qtbot.waitExposed(d)
    return d


def test_a_too_long_term_is_refused_in_one_line_that_does_not_widen_the_dialog(qtbot: Any) -> None:
    assert LOCAL.max_term_chars is not None
    d = dialog(qtbot, engine="local", word_boost=TERMS)
    wb = d.captions_page.word_boost
    width, minimum = d.width(), d.minimumSizeHint().width()
    emitted: list[Any] = []
    d.settings_changed.connect(emitted.append)
    long_term = "x" * 150
    qtbot.keyClicks(wb.entry, long_term)
    qtbot.keyClick(wb.entry, Qt.Key.Key_Return)
    qtbot.wait(300)  # longer than the panel's debounce: nothing was edited, nothing is emitted
    assert wb.terms() == TERMS and long_term not in d.settings().word_boost and emitted == []
    assert wb.count_label.text() == f"5 / {LOCAL.max_terms} terms"
    message = wb.message_label.text()
    assert message.startswith("Not added: “xxx") and f"longer than {LOCAL.max_term_chars} characters" in message
    assert long_term not in message and "\n" not in message  # one short line: the term shortened
    assert wb.warning_label.isHidden()
    qtbot.wait(50)
    assert d.width() == width and d.minimumSizeHint().width() == minimum
    assert wb.message_label.width() <= wb.width()
    d.resize(480, d.height())  # and it wraps when the dialog is narrowed
    qtbot.waitUntil(lambda: d.width() == max(480, minimum))
    assert wb.message_label.width() <= wb.width()


def test_an_item_edited_past_the_limit_keeps_its_text(qtbot: Any) -> None:
    d = dialog(qtbot, engine="assemblyai", word_boost=("Beckett",))
    wb = d.captions_page.word_boost
    wb.list.item(0).setText("y" * 60)  # AssemblyAI takes at most 50 characters
    assert wb.terms() == ("Beckett",) and "Not changed" in wb.message_label.text()
    wb.list.item(0).setText("Samuel Beckett")
    assert wb.terms() == ("Samuel Beckett",) and wb.message_label.isHidden()


def test_an_import_never_goes_past_the_limit_and_says_how_many_were_left_out(qtbot: Any, tmp_path: Path) -> None:
    d = dialog(qtbot, engine="local", word_boost=TERMS)
    wb = d.captions_page.word_boost
    assert LOCAL.max_terms == 500
    f = tmp_path / "names.txt"
    f.write_text("\n".join([*(f"name{i}" for i in range(600)), "z" * 150]) + "\n", encoding="utf-8")
    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        assert wb.import_file(f) == 495
    assert len(sig.args[0].word_boost) == 500 and wb.count_label.text() == "500 / 500 terms"
    assert wb.message_label.text() == (
        "Added 495 terms; left out 106: 1 longer than 100 characters "
        "and 105 beyond Local (offline)'s limit of 500 terms."
    )
    assert wb.warning_label.isHidden()  # no red wall of names
    assert wb.import_file(f) == 0 and wb.count_label.text() == "500 / 500 terms"


def test_clear_all_can_be_undone(qtbot: Any) -> None:
    d = dialog(qtbot, engine="local", word_boost=TERMS)
    wb = d.captions_page.word_boost
    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        qtbot.mouseClick(wb.clear_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].word_boost == () and wb.message_label.text() == "Removed all 5 terms."
    assert wb.undo_button.isVisible()
    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        qtbot.mouseClick(wb.undo_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].word_boost == TERMS and wb.terms() == TERMS
    assert not wb.undo_button.isVisible()
