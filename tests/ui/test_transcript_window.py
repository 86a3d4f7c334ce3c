"""The transcript window: live lines from a real Transcript, search, exports, previous session, autosave folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from captioner import paths
from captioner.captions import export
from captioner.captions.events import Final, Interim
from captioner.captions.transcript import Transcript, finals_in_range, load_autosave
from captioner.ui.transcript_window import TranscriptWindow, format_time

SENTENCES = [
    "It was the best of times,",
    "it was the worst of times,",
    "it was the age of wisdom,",
    "it was the age of foolishness,",
    "it was the epoch of belief,",
    "it was the epoch of incredulity,",
    "it was the season of Light,",
    "it was the season of Darkness, with wisdom",
]


def fill(t: Transcript, sentences=SENTENCES, step: float = 3.0) -> None:
    for i, text in enumerate(sentences):
        t.apply(Interim(line_id=f"1-{i}", text=text.split(",")[0], engine="local", start=i * step))
        t.apply(Final(line_id=f"1-{i}", text=text, engine="local", start=i * step, end=i * step + 2.5))


@pytest.fixture
def window(qtbot):
    def make(transcript: Transcript | None = None) -> TranscriptWindow:
        t = transcript or Transcript()
        w = TranscriptWindow(t)
        qtbot.addWidget(w)
        t.subscribe(w.on_change)
        return w

    return make


def texts(w: TranscriptWindow) -> list[str]:
    items = [w.table.item(r, 1) for r in range(w.table.rowCount())]
    assert all(item is not None for item in items)
    return [item.text() for item in items if item is not None]


def test_live_lines_commit_and_revise_in_place(window) -> None:
    t = Transcript()
    w = window(t)
    t.apply(Interim(line_id="1-0", text="hello wor", engine="local", start=0.0))
    assert w.table.rowCount() == 0  # interim text is the overlay's business
    t.apply(Final(line_id="1-0", text="hello world", engine="local", start=0.0, end=1.0))
    t.apply(Final(line_id="1-1", text="second line", engine="local", start=65.0, end=66.0))
    assert texts(w) == ["hello world", "second line"]
    assert [w.table.item(r, 0).text() for r in range(2)] == ["0:00:00", "0:01:05"]
    t.apply(Final(line_id="1-0", text="Hello, world.", engine="local", start=0.0, end=1.0))  # a formatted revision
    assert texts(w) == ["Hello, world.", "second line"]
    assert [line.text for line in w.lines()] == ["Hello, world.", "second line"]


def test_existing_lines_are_shown_at_once(window) -> None:
    t = Transcript()
    fill(t)
    w = window(t)
    assert texts(w) == SENTENCES


def test_time_column_falls_back_to_the_wall_clock() -> None:
    from captioner.captions.transcript import Line

    assert format_time(Line(line_id="x", text="t", final=True, engine="e", start=3725.4)) == "1:02:05"
    assert format_time(Line(line_id="x", text="t", final=True, engine="e", wall_time=0.0)) == ""
    assert len(format_time(Line(line_id="x", text="t", final=True, engine="e", wall_time=1_700_000_000.0))) == 8


def test_search_highlights_and_steps_through_matches(window, qtbot) -> None:
    t = Transcript()
    fill(t)
    w = window(t)
    qtbot.keyClicks(w.search, "WISDOM")
    qtbot.waitUntil(lambda: w.match_label.text() == "1 of 2", timeout=2000)
    assert [line.line_id for line in w.matches()] == ["1-2", "1-7"]
    assert w.current_match().line_id == "1-2"
    highlighted = [
        r for r in range(w.table.rowCount()) if w.table.item(r, 1).background().style() != Qt.BrushStyle.NoBrush
    ]
    assert highlighted == [2, 7]
    qtbot.keyClick(w.search, Qt.Key.Key_Return)  # Enter: next
    assert w.current_match().line_id == "1-7" and w.match_label.text() == "2 of 2"
    w.next_match()  # wraps around
    assert w.current_match().line_id == "1-2"
    w.previous_match()
    assert w.current_match().line_id == "1-7"
    assert w.visible_lines() == w.lines()  # highlight mode hides nothing
    w.only_matches.setChecked(True)
    assert [line.line_id for line in w.visible_lines()] == ["1-2", "1-7"]
    w.search.clear()
    w.apply_search()
    assert w.visible_lines() == w.lines() and w.match_label.text() == ""


def test_search_no_match_and_live_lines_join_the_search(window, qtbot) -> None:
    t = Transcript()
    fill(t)
    w = window(t)
    w.search.setText("despair")
    w.apply_search()
    assert w.match_label.text() == "no match"
    w.only_matches.setChecked(True)
    assert w.visible_lines() == []
    t.apply(Final(line_id="1-9", text="it was the winter of despair", engine="local", start=30.0, end=32.0))
    assert [line.line_id for line in w.matches()] == ["1-9"]
    assert [line.line_id for line in w.visible_lines()] == ["1-9"]
    t.apply(
        Final(line_id="1-9", text="it was the winter of hope", engine="local", start=30.0, end=32.0)
    )  # revised: no longer a match
    assert w.matches() == [] and w.visible_lines() == []


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json"])
def test_export_all_lines_matches_the_exporters(window, fmt: str, tmp_path: Path) -> None:
    t = Transcript()
    fill(t)
    w = window(t)
    out = tmp_path / f"out.{fmt}"
    w.format.setCurrentIndex(w.format.findData(fmt))
    assert w.export_to(out)
    assert out.read_text(encoding="utf-8") == export.EXPORTERS[fmt](t.finals)
    assert f"Saved {len(SENTENCES)} line(s)" in w.status.text()


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json"])
def test_export_a_time_range(window, fmt: str, tmp_path: Path) -> None:
    t = Transcript()
    fill(t)
    w = window(t)
    w.range.setCurrentIndex(w.range.findData("range"))
    assert w.range_from.isEnabled() and w.range_to.isEnabled()
    w.range_from.setValue(5.0)
    w.range_to.setValue(12.0)
    chosen = w.lines_for_export()
    assert [line.line_id for line in chosen] == ["1-2", "1-3", "1-4"]  # starts 6, 9, 12
    assert chosen == finals_in_range(t.finals, 5.0, 12.0)
    out = tmp_path / f"range.{fmt}"
    assert w.export_to(out, fmt)
    assert out.read_text(encoding="utf-8") == export.EXPORTERS[fmt](chosen)


def test_export_selected_rows(window, tmp_path: Path) -> None:
    t = Transcript()
    fill(t)
    w = window(t)
    w.table.selectRow(1)
    w.table.setSelectionMode(w.table.SelectionMode.MultiSelection)
    w.table.selectRow(3)
    assert w.range.currentData() == "selection"  # selecting several rows offers to export them
    out = tmp_path / "sel.srt"
    assert w.export_to(out, "srt")
    assert out.read_text() == export.to_srt([t.finals[1], t.finals[3]])


def test_export_button_uses_the_save_dialog_and_adds_the_extension(window, tmp_path: Path, monkeypatch) -> None:
    from captioner.ui import transcript_window

    t = Transcript()
    fill(t, SENTENCES[:2])
    w = window(t)
    w.format.setCurrentIndex(w.format.findData("vtt"))
    target = tmp_path / "talk"
    monkeypatch.setattr(transcript_window.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    w.export_button.click()
    assert (tmp_path / "talk.vtt").read_text() == export.to_vtt(t.finals)


def test_export_to_an_unwritable_place_reports_it(window, tmp_path: Path) -> None:
    t = Transcript()
    fill(t, SENTENCES[:1])
    w = window(t)
    assert w.export_to(tmp_path / "no-such-dir" / "x.txt", "txt") is False
    assert w.status.text().startswith("Could not save x.txt")


def test_previous_session_from_autosave(window, tmp_path: Path) -> None:
    old = Transcript(autosave=tmp_path / "old.jsonl")
    fill(old, SENTENCES[:3])
    old.close()
    lines = load_autosave(tmp_path / "old.jsonl")
    live = Transcript()
    live.apply(Final(line_id="2-0", text="today's first line", engine="local", start=0.0))
    w = window(live)
    w.show_lines(lines)
    assert texts(w) == SENTENCES[:3]
    assert not w.banner.isHidden() and "previous session (3 lines)" in w.banner.text()
    live.apply(Final(line_id="2-1", text="said while looking back", engine="local", start=2.0))
    assert texts(w) == SENTENCES[:3]  # the old session stays on screen...
    out = tmp_path / "old.txt"
    w.export_to(out, "txt")
    assert out.read_text() == export.to_txt(lines)  # ...and is what gets exported
    w.back_button.click()
    assert texts(w) == ["today's first line", "said while looking back"]
    assert w.banner.isHidden()


class _UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_autosave_folder(window) -> None:
    catcher = _UrlCatcher()
    # PySide6 wants the slot name as str at run time (bytes raise ValueError); its stubs say bytes.
    QDesktopServices.setUrlHandler("file", catcher, "open")  # type: ignore[arg-type]
    try:
        w = window()
        assert w.open_autosave_folder()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [u.toLocalFile() for u in catcher.urls] == [str(paths.transcripts_dir())]
    assert paths.transcripts_dir().is_dir()


def test_find_shortcuts(window, qtbot) -> None:
    t = Transcript()
    fill(t)
    w = window(t)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    w.table.setFocus()
    qtbot.keyClick(w.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert w.search.hasFocus()
    w.search.setText("times")
    w.apply_search()
    assert w.current_match().line_id == "1-0"
    qtbot.keyClick(w.search, Qt.Key.Key_F3)
    assert w.current_match().line_id == "1-1"
    qtbot.keyClick(w.search, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert w.current_match().line_id == "1-0"
    qtbot.keyClick(w.search, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert w.current_match().line_id == "1-1"  # Shift+Enter: previous, wrapping around


# -- following new lines ---------------------------------------------------------------------


def add_lines(t: Transcript, first: int, n: int) -> None:
    for i in range(first, first + n):
        t.apply(Final(line_id=f"1-{i}", text=f"line {i}", engine="local", start=float(i), end=i + 0.9))


def test_follows_new_lines_at_the_bottom_and_stops_when_scrolled_up(window, qtbot) -> None:
    t = Transcript()
    w = window(t)
    w.resize(500, 300)
    w.show()
    qtbot.waitExposed(w)
    bar = w.table.verticalScrollBar()
    add_lines(t, 0, 40)
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    w.table.selectRow(w.table.rowCount() - 2)  # selecting a row (in view) does not stop following...
    add_lines(t, 40, 5)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    assert w.following
    bar.setValue(5)  # ...scrolling up does
    add_lines(t, 45, 5)
    qtbot.wait(20)
    assert bar.value() == 5 and not w.following
    bar.setValue(bar.maximum())  # back at the bottom: following again
    add_lines(t, 50, 5)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    assert w.following


# -- the export dialog -----------------------------------------------------------------------


class FakeSaveDialog:
    """Stands in for QFileDialog.getSaveFileName: records where it opened, returns what the user typed."""

    def __init__(self) -> None:
        self.opened_at: list[str] = []
        self.answer = ("", "")

    def __call__(self, _parent, _title, suggested, _filters, _selected="") -> tuple[str, str]:
        self.opened_at.append(suggested)
        return self.answer


@pytest.fixture
def save_dialog(monkeypatch) -> FakeSaveDialog:
    from captioner.ui import transcript_window

    fake = FakeSaveDialog()
    monkeypatch.setattr(transcript_window.QFileDialog, "getSaveFileName", fake)
    return fake


def test_the_export_dialog_opens_in_the_folder_last_saved_to(window, save_dialog, tmp_path: Path, qtbot) -> None:
    t = Transcript()
    fill(t, SENTENCES[:2])
    w = window(t)
    assert Path(w.export_bar.folder()) == paths.transcripts_dir().parent  # nothing saved yet: the data folder
    elsewhere = tmp_path / "talks"
    elsewhere.mkdir()
    save_dialog.answer = (str(elsewhere / "monday.txt"), "Plain text (*.txt)")
    with qtbot.waitSignal(w.export_settings_changed) as saved:
        w.export_button.click()
    assert saved.args[0].folder == str(elsewhere.resolve())
    w.export_button.click()
    assert Path(save_dialog.opened_at[-1]).parent == elsewhere.resolve()
    # A new window (the app restarted) gets the remembered folder back from the settings.
    again = TranscriptWindow(t, export=saved.args[0])
    qtbot.addWidget(again)
    assert again.export_bar.folder() == elsewhere.resolve()


@pytest.mark.parametrize(
    ("chosen", "typed", "written", "fmt"),
    [
        ("json", "talk.vtt", "talk.vtt", "vtt"),  # the extension typed wins over the format chosen
        ("txt", "talk.json", "talk.json", "json"),
        ("srt", "talk", "talk.srt", "srt"),  # no extension: the chosen format's is added
        ("txt", "notes.md", "notes.md.txt", "txt"),  # one that names no format: corrected
    ],
)
def test_the_file_name_extension_picks_the_format(
    window, save_dialog, tmp_path: Path, chosen: str, typed: str, written: str, fmt: str
) -> None:
    t = Transcript()
    fill(t, SENTENCES[:3])
    w = window(t)
    w.format.setCurrentIndex(w.format.findData(chosen))
    save_dialog.answer = (str(tmp_path / typed), "")
    w.export_button.click()
    assert (tmp_path / written).read_text(encoding="utf-8") == export.export(fmt, t.finals)
    assert w.format.currentData() == fmt


def test_json_is_never_written_to_a_vtt_file(window, tmp_path: Path) -> None:
    t = Transcript()
    fill(t, SENTENCES[:2])
    w = window(t)
    assert w.export_to(tmp_path / "x.vtt", "json")
    assert (tmp_path / "x.vtt").read_text().startswith("WEBVTT")
    assert "as WebVTT" in w.status.text()


def test_cue_limits_in_the_export_bar_apply_to_subtitles(window, tmp_path: Path, qtbot) -> None:
    t = Transcript()
    long_line = " ".join(SENTENCES)
    t.apply(Final(line_id="1", text=long_line, engine="local", start=0.0, end=20.0))
    w = window(t)
    w.format.setCurrentIndex(w.format.findData("txt"))
    assert not w.export_bar.cue_chars.isVisibleTo(w)  # whole lines: no cue limits
    w.format.setCurrentIndex(w.format.findData("srt"))
    assert w.export_bar.cue_chars.isVisibleTo(w)
    with qtbot.waitSignal(w.export_settings_changed) as changed:
        w.export_bar.cue_chars.setValue(20)
    w.export_bar.cue_lines.setValue(1)
    assert changed.args[0].cue_chars == 20
    assert w.export_to(tmp_path / "x.srt")
    text_rows = [r for r in (tmp_path / "x.srt").read_text().splitlines() if r and "-->" not in r and not r.isdigit()]
    assert max(len(r) for r in text_rows) <= 20
    assert " ".join(text_rows) == long_line


# -- profanity -----------------------------------------------------------------------------------


def test_profanity_is_masked_in_the_window_and_its_exports_and_can_be_shown(window, tmp_path: Path) -> None:
    t = Transcript()
    t.apply(Final(line_id="1", text="for good ol' fucking evil", engine="local", start=0.0, end=2.0))
    w = window(t)
    assert texts(w) == ["for good ol' f****** evil"]
    t.apply(Final(line_id="2", text="shit happens", engine="local", start=3.0, end=4.0))
    assert texts(w)[1] == "s*** happens"
    w.export_to(tmp_path / "x.txt")
    assert (tmp_path / "x.txt").read_text() == "for good ol' f****** evil\ns*** happens\n"
    w.search.setText("fucking")
    w.apply_search()
    assert w.matches() == []  # what is not shown is not found
    w.set_filter_profanity(False)
    assert texts(w) == ["for good ol' fucking evil", "shit happens"]
    assert t.finals[0].text == "for good ol' fucking evil"  # the transcript (and its autosave) keep the raw text
    w.show_lines(list(t.finals))
    w.set_filter_profanity(True)
    assert texts(w) == ["for good ol' f****** evil", "s*** happens"]  # a previous session too


def test_present_brings_back_a_minimized_window(window, qtbot) -> None:
    w = window()
    w.show()
    qtbot.waitExposed(w)
    w.showMinimized()
    w.present()
    assert w.isVisible() and not w.isMinimized()
