"""Resizing the overlay from its edges: left/right set the width, top/bottom (and corners) the number of lines.

Real widgets on the offscreen platform, driven with QTest mouse presses, moves and releases on the edges. The
line count snaps to whole lines (1–5), follows the drag live, and is saved like any other appearance change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from captioner import settings as settings_store
from captioner.audio.file import WavFileSource
from captioner.captions.transcript import Change, Line
from captioner.settings import Appearance, OverlaySettings, Settings
from captioner.ui.desktop import DesktopApp
from captioner.ui.overlay import CaptionOverlay
from captioner.ui.overlay_layout import row_text
from captioner.ui.overlay_paint import PADDING
from tests.support.speech import speech_wav

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier
SENTENCES = [
    "It was the best of times, it was the worst of times,",
    "it was the age of wisdom, it was the age of foolishness,",
    "it was the epoch of belief, it was the epoch of incredulity,",
    "it was the season of Light, it was the season of Darkness,",
    "it was the spring of hope, it was the winter of despair,",
    "we had everything before us, we had nothing before us,",
]


class Drag:
    """A left-button drag on ``widget`` that starts at a local point and moves by global offsets."""

    def __init__(self, widget: Any, local: QPoint) -> None:
        self.widget = widget
        self.origin = widget.mapToGlobal(local)
        self.at = QPoint(local)
        QTest.mousePress(widget, LEFT, NONE, local)

    def by(self, dx: int, dy: int) -> None:
        # The window moves under the pointer while its top edge is dragged: map from global each time.
        self.at = self.widget.mapFromGlobal(self.origin + QPoint(dx, dy))
        QTest.mouseMove(self.widget, self.at)

    def release(self) -> None:
        QTest.mouseRelease(self.widget, LEFT, NONE, self.at)


def pixels(widget: Any) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : w * 4]
    return arr.reshape(h, w, 4).copy()


def bottom_row(ov: CaptionOverlay) -> np.ndarray:
    """The pixels of the last caption row (rows are bottom-aligned), away from the rounded corners."""
    row = ov.painter.row_height()
    return pixels(ov)[-(PADDING + row) : -PADDING, 20:-20]


@pytest.fixture
def overlay(qtbot: Any) -> Any:
    def make(lines: int = 2) -> CaptionOverlay:
        ov = CaptionOverlay(Appearance(lines=lines, clear_after_s=0), OverlaySettings())
        qtbot.addWidget(ov)
        ov.set_status("listening", "Listening")  # captioning: all its lines (not the resting status row alone)
        ov.place()
        ov.show()
        qtbot.waitExposed(ov)
        return ov

    return make


def caption(ov: CaptionOverlay) -> list[str]:
    """Commit the sentences; return every row of text laid out (more than the overlay shows)."""
    for i, text in enumerate(SENTENCES):
        ov.on_change(Change(kind="commit", line=Line(line_id=str(i), text=text, final=True, engine="test")))
    rows = [row_text(r) for r in ov.layout_.all_rows()]
    assert len(rows) >= 5
    return rows


def test_bottom_edge_sets_the_line_count_live_and_keeps_the_top(overlay: Any) -> None:
    ov = overlay(lines=2)
    rows = caption(ov)
    emitted: list[int] = []
    ov.lines_changed.connect(emitted.append)
    top, width, row = ov.geometry().top(), ov.width(), ov.painter.row_height()
    committed = bottom_row(ov)

    drag = Drag(ov, QPoint(ov.width() // 2, ov.height() - 2))
    drag.by(0, row * 4 // 10)  # less than half a line: no change
    assert ov.appearance.lines == 2 and emitted == []
    drag.by(0, row * 14 // 10)  # nearest whole line: one more
    assert ov.appearance.lines == 3  # live, before the release
    assert ov.height() == ov.painter.needed_height()
    assert ov.visible_lines() == [(text, True) for text in rows[-3:]]
    drag.by(0, row * 20)  # far beyond: at most 5
    assert ov.appearance.lines == 5 and ov.height() == ov.painter.needed_height()
    drag.release()

    assert emitted == [3, 5]  # live: each new count as the drag reaches it
    assert ov.geometry().top() == top and ov.width() == width  # the top edge and the width stay
    assert ov.visible_lines() == [(text, True) for text in rows[-5:]]
    assert np.array_equal(bottom_row(ov), committed)  # committed text does not move


def test_top_edge_keeps_the_bottom_and_stops_at_one_line(overlay: Any) -> None:
    ov = overlay(lines=3)
    rows = caption(ov)
    bottom, row = ov.geometry().bottom(), ov.painter.row_height()
    committed = bottom_row(ov)

    drag = Drag(ov, QPoint(ov.width() // 2, 2))
    drag.by(0, -row)  # up: one line more
    assert ov.appearance.lines == 4
    assert ov.geometry().bottom() == bottom and ov.height() == ov.painter.needed_height()
    drag.by(0, row * 10)  # down, far: at least one line
    assert ov.appearance.lines == 1
    assert ov.geometry().bottom() == bottom and ov.height() == ov.painter.needed_height()
    drag.release()

    assert ov.visible_lines() == [(rows[-1], True)]
    assert np.array_equal(bottom_row(ov), committed)
    assert ov.overlay.position == "custom"  # the new place is remembered like a move


def test_corner_sets_width_and_lines_together(overlay: Any) -> None:
    ov = overlay(lines=2)
    before, row = ov.geometry(), ov.painter.row_height()
    drag = Drag(ov, QPoint(ov.width() - 2, ov.height() - 2))
    drag.by(-100, 2 * row)
    drag.release()
    assert ov.width() == before.width() - 100 and ov.geometry().topLeft() == before.topLeft()
    assert ov.appearance.lines == 4 and ov.height() == ov.painter.needed_height()

    before = ov.geometry()
    drag = Drag(ov, QPoint(2, 2))  # top-left: grows to the left and up
    drag.by(-50, -row)
    drag.release()
    assert ov.geometry().right() == before.right() and ov.geometry().bottom() == before.bottom()
    assert ov.width() == before.width() + 50 and ov.appearance.lines == 5


@pytest.mark.parametrize(
    ("where", "shape"),
    [
        ("left", Qt.CursorShape.SizeHorCursor),
        ("right", Qt.CursorShape.SizeHorCursor),
        ("top", Qt.CursorShape.SizeVerCursor),
        ("bottom", Qt.CursorShape.SizeVerCursor),
        ("top-left", Qt.CursorShape.SizeFDiagCursor),
        ("bottom-right", Qt.CursorShape.SizeFDiagCursor),
        ("top-right", Qt.CursorShape.SizeBDiagCursor),
        ("bottom-left", Qt.CursorShape.SizeBDiagCursor),
        ("middle", Qt.CursorShape.SizeAllCursor),
    ],
)
def test_cursor_shows_what_an_edge_does(overlay: Any, where: str, shape: Qt.CursorShape) -> None:
    ov = overlay()
    w, h = ov.width(), ov.height()
    x = 2 if "left" in where else w - 2 if "right" in where else w // 2
    y = 2 if "top" in where else h - 2 if "bottom" in where else h // 2
    QTest.mouseMove(ov, QPoint(x, y))
    assert ov.cursor().shape() == shape


# -- through the real app: the line count is a setting --------------------------------------------------


def _opener(spec: str, rate: int, device: str | None, realtime: bool) -> WavFileSource:
    return WavFileSource(spec, rate, realtime=True, speed=4.0)


@pytest.fixture
def desktop(qtbot: Any, qloop: Any, fake_engines: Any, run: Any) -> Any:
    apps: list[DesktopApp] = []

    def make(settings: Settings | None = None) -> DesktopApp:
        s = settings or Settings(engine="fake", autostart_captions=False)
        app = DesktopApp(s, source=str(speech_wav("beckett.wav")), engines=fake_engines, opener=_opener)
        apps.append(app)
        app.start()
        qtbot.waitExposed(app.overlay)
        app.overlay.set_status("listening", "Listening")  # as while captioning: every line shown, edges to resize
        return app

    yield make
    for app in apps:
        run(app.shutdown())


def test_dragged_line_count_is_saved_and_the_open_settings_panel_keeps_it(desktop: Any, qtbot: Any, run: Any) -> None:
    app = desktop()
    ov = app.overlay
    assert ov.appearance.lines == 2
    dialog = app.open_settings()
    page = dialog.appearance_page
    page.font_size.setValue(30)  # an edit still waiting in the panel when the edge is dragged
    row = ov.painter.row_height()

    drag = Drag(ov, QPoint(ov.width() // 2, ov.height() - 2))
    drag.by(0, 2 * row)
    drag.release()

    assert ov.appearance.lines == 4 and ov.height() == ov.painter.needed_height()
    assert app.settings.appearance.lines == 4
    assert app.settings.appearance.font_size == 30  # the panel's waiting edit was merged, not dropped
    assert page.lines.value() == 4 and dialog.settings().appearance.lines == 4  # the panel shows it
    qtbot.waitUntil(lambda: settings_store.load().appearance.lines == 4, timeout=3000)

    # Another appearance edit in the panel (live preview, then the debounced change) keeps the four lines.
    page.font_size.setValue(32)
    assert ov.appearance.font_size == 32 and ov.appearance.lines == 4
    dialog.flush()
    assert app.settings.appearance.lines == 4 and ov.appearance.lines == 4
    assert ov.height() == ov.painter.needed_height()
    qtbot.waitUntil(lambda: settings_store.load().appearance.font_size == 32, timeout=3000)
    assert settings_store.load().appearance.lines == 4

    # And the next start shows four lines.
    run(app.shutdown())
    again = desktop(settings_store.load().with_changes(engine="fake", autostart_captions=False))
    assert again.overlay.appearance.lines == 4
    assert again.overlay.height() == again.overlay.painter.needed_height()
