"""The caption overlay, as a real widget on the offscreen platform (two screens, one high-DPI)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QFontMetricsF, QGuiApplication, QImage, QMouseEvent
from PySide6.QtWidgets import QApplication

from captioner.captions.transcript import Change, Line
from captioner.settings import Appearance, Geometry, OverlaySettings
from captioner.ui.overlay import CaptionOverlay, screen_key
from captioner.ui.overlay_paint import effective_appearance

RED, GREEN = "#ff0000", "#00ff00"


def final(line_id: str, text: str) -> Change:
    return Change(kind="commit", line=Line(line_id=line_id, text=text, final=True, engine="test"))


def interim(line_id: str, text: str, tail: str = "") -> Change:
    return Change(kind="interim", line=Line(line_id=line_id, text=text, final=False, engine="test", tail=tail))


def pixels(widget: Any) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : w * 4]
    return arr.reshape(h, w, 4).copy()


def count_color(arr: np.ndarray, rgb: tuple[int, int, int], tol: int = 40) -> int:
    diff = np.abs(arr[:, :, :3].astype(int) - np.array(rgb)).max(axis=2)
    return int((diff <= tol).sum())


@pytest.fixture
def make_overlay(qtbot: Any) -> Any:
    def make(appearance: Appearance | None = None, overlay: OverlaySettings | None = None) -> CaptionOverlay:
        ov = CaptionOverlay(appearance or Appearance(clear_after_s=0), overlay or OverlaySettings())
        qtbot.addWidget(ov)
        ov.set_status("listening", "Listening")  # captioning: all its lines (not the resting status row alone)
        ov.place()
        ov.show()
        qtbot.waitExposed(ov)
        return ov

    return make


def test_window_is_frameless_on_top_tool_and_never_takes_focus(make_overlay: Any) -> None:
    ov = make_overlay()
    flags = ov.windowFlags()
    for flag in (
        Qt.WindowType.FramelessWindowHint,
        Qt.WindowType.WindowStaysOnTopHint,
        Qt.WindowType.Tool,
        Qt.WindowType.WindowDoesNotAcceptFocus,
    ):
        assert flags & flag, flag
    assert ov.testAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
    assert ov.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    # The platform window carries the no-focus flag (the offscreen platform activates every window it shows,
    # so "focus stays on the window below" is checked under Xvfb in test_screenshot.py).
    assert ov.windowHandle().flags() & Qt.WindowType.WindowDoesNotAcceptFocus


def test_final_and_interim_render_distinctly(make_overlay: Any, qtbot: Any) -> None:
    a = Appearance(text_color=RED, interim_color=GREEN, outline=False, background_opacity=0.0, clear_after_s=0)
    ov = make_overlay(a)
    ov.on_change(final("1", "Committed words here"))
    qtbot.waitUntil(lambda: count_color(pixels(ov), (255, 0, 0)) > 50)
    assert count_color(pixels(ov), (0, 255, 0)) == 0
    ov.on_change(interim("2", "still speaking now"))
    qtbot.waitUntil(lambda: count_color(pixels(ov), (0, 255, 0)) > 50)
    assert ov.visible_lines() == [("Committed words here", False)] or ov.visible_lines()[-1][1] is False
    # the interim is italic: its words are laid out with the italic font
    (row,) = ov.visible_rows()
    assert [w.kind for w in row] == ["final"] * 3 + ["interim"] * 3


def test_tentative_tail_is_dimmer_than_stable_interim(make_overlay: Any, qtbot: Any) -> None:
    a = Appearance(interim_color=GREEN, outline=False, background_opacity=0.0, clear_after_s=0)
    ov = make_overlay(a)
    ov.on_change(interim("1", "stable stable stable"))
    qtbot.waitUntil(lambda: count_color(pixels(ov), (0, 255, 0)) > 50)
    full = pixels(ov)[:, :, 3].astype(int).sum()
    ov.on_change(interim("1", "stable stable stable", tail="stable stable stable"))
    qtbot.waitUntil(lambda: pixels(ov)[:, :, 3].astype(int).sum() < full * 0.8)


def test_committed_text_stays_pixel_identical_while_interim_streams(make_overlay: Any, qtbot: Any) -> None:
    a = Appearance(lines=3, max_line_chars=40, clear_after_s=0)
    ov = make_overlay(a)
    ov.on_change(final("1", "It was the best of times"))
    qtbot.wait(0)  # let the paint happen
    fm = QFontMetricsF(ov.painter.font)
    width = int(fm.horizontalAdvance("It was the best of times"))
    x0 = int((ov.width() - ov.painter.max_text_width(ov.width())) / 2)
    row_h = ov.painter.row_height()
    bottom_row = slice(ov.height() - 12 - row_h, ov.height() - 12)
    reference = pixels(ov)[bottom_row, x0 : x0 + width]
    assert count_color(reference, (255, 255, 255), tol=10) > 100  # the committed text is really in this region
    for text in ["it", "it was", "it was the", "it was the worst"]:
        ov.on_change(interim("2", text))
        assert len(ov.visible_lines()) == 1
        assert np.array_equal(pixels(ov)[bottom_row, x0 : x0 + width], reference)
    # the interim grows past the row: the committed row rolls up by exactly one row, unchanged
    ov.on_change(interim("2", "it was the worst of times it was the age of wisdom"))
    assert len(ov.visible_lines()) == 2
    up = slice(bottom_row.start - row_h, bottom_row.stop - row_h)
    assert np.array_equal(pixels(ov)[up, x0 : x0 + width], reference)


def test_roll_up_respects_line_count_and_width(make_overlay: Any) -> None:
    ov = make_overlay(Appearance(lines=2, max_line_chars=20, clear_after_s=0))
    for i, text in enumerate(["one two three four five", "six seven eight nine ten", "eleven twelve thirteen"]):
        ov.on_change(final(str(i), text))
    lines = ov.visible_lines()
    assert len(lines) == 2
    assert lines[-1][0].endswith("thirteen")
    fm = QFontMetricsF(ov.painter.font)
    limit = 20 * fm.averageCharWidth()
    assert all(fm.horizontalAdvance(t) <= limit for t, _ in lines)
    h2 = ov.height()
    ov.apply_appearance(Appearance(lines=5, max_line_chars=20, clear_after_s=0))
    assert ov.height() > h2
    assert 2 < len(ov.visible_lines()) <= 5


def test_clears_after_idle_but_never_mid_sentence(make_overlay: Any, qtbot: Any) -> None:
    ov = make_overlay(Appearance(clear_after_s=0.15))
    ov.on_change(final("1", "first sentence."))
    ov.on_change(interim("2", "and then"))
    with qtbot.waitSignal(ov._idle.timeout, timeout=3000):
        pass
    assert [t for t, _ in ov.visible_lines()] == ["first sentence. and then"]
    ov.on_change(final("2", "and then it ended."))
    qtbot.waitUntil(lambda: ov.visible_lines() == [], timeout=3000)
    ov.on_change(final("3", "new words"))
    assert ov.visible_lines() == [("new words", True)]


def test_click_through_toggles_the_window_flag_and_back(make_overlay: Any, qtbot: Any) -> None:
    ov = make_overlay()
    with qtbot.waitSignal(ov.click_through_changed) as sig:
        ov.set_click_through(True)
    assert sig.args == [True]
    assert ov.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert ov.isVisible() and ov.overlay.click_through
    ov.set_click_through(False)
    assert not ov.windowFlags() & Qt.WindowType.WindowTransparentForInput
    assert ov.isVisible() and not ov.overlay.click_through


def test_click_through_setting_applies_at_start(make_overlay: Any) -> None:
    ov = make_overlay(overlay=OverlaySettings(click_through=True))
    assert ov.click_through


def _screens() -> dict[str, Any]:
    screens = {s.name(): s for s in QGuiApplication.screens()}
    assert {"Main", "Laptop"} <= set(screens), "tests/ui/conftest.py sets up two offscreen screens"
    return screens


def test_position_presets_are_centred_on_the_chosen_screen(make_overlay: Any) -> None:
    laptop = _screens()["Laptop"]
    ov = make_overlay()
    area = laptop.availableGeometry()
    ov.apply_position("top", laptop)
    g = ov.geometry()
    assert area.contains(g)
    assert abs(g.center().x() - area.center().x()) <= 1
    assert g.top() - area.top() < area.height() // 4
    ov.apply_position("bottom", laptop)
    g = ov.geometry()
    assert area.contains(g) and area.bottom() - g.bottom() < area.height() // 4
    assert ov.overlay.position == "bottom"
    assert screen_key(laptop) in ov.overlay.geometry


def _drag(ov: CaptionOverlay, qtbot: Any, start: QPoint, delta: QPoint) -> None:
    gstart = ov.mapToGlobal(start)
    for etype, gpos, buttons in (
        (QMouseEvent.Type.MouseButtonPress, gstart, Qt.MouseButton.LeftButton),
        (QMouseEvent.Type.MouseMove, gstart + delta, Qt.MouseButton.LeftButton),
        (QMouseEvent.Type.MouseButtonRelease, gstart + delta, Qt.MouseButton.NoButton),
    ):
        local = ov.mapFromGlobal(gpos)
        ev = QMouseEvent(
            etype, QPointF(local), QPointF(gpos), Qt.MouseButton.LeftButton, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(ov, ev)


def test_drag_and_resize_save_geometry_per_screen_and_restore(make_overlay: Any, qtbot: Any) -> None:
    screens = _screens()
    main, laptop = screens["Main"], screens["Laptop"]
    ov = make_overlay()
    ov.apply_position("bottom", main)
    ov.apply_position("bottom", laptop)
    before = ov.geometry()
    _drag(ov, qtbot, QPoint(ov.width() // 2, ov.height() // 2), QPoint(-100, -200))
    assert ov.geometry().topLeft() == before.topLeft() + QPoint(-100, -200)
    _drag(ov, qtbot, QPoint(ov.width() - 2, ov.height() // 2), QPoint(-80, 0))  # right edge: narrower
    assert ov.width() == before.width() - 80
    saved = ov.overlay
    assert saved.position == "custom"
    key = screen_key(laptop)
    assert list(saved.geometry)[-1] == key  # most recent screen last
    g = saved.geometry[key]
    origin = laptop.geometry().topLeft()
    assert (g.x, g.y, g.width) == (ov.x() - origin.x(), ov.y() - origin.y(), ov.width())
    expected = ov.geometry()
    ov.close()

    again = make_overlay(overlay=saved)
    assert again.geometry() == expected
    assert QGuiApplication.screenAt(again.geometry().center()) is laptop


def test_restore_ignores_disconnected_screens_and_clamps(make_overlay: Any) -> None:
    main = _screens()["Main"]
    geometry = {
        screen_key(main): Geometry(1800, 1000, 600, 100),  # partly off-screen: pulled back in
        "Projector 1024x768": Geometry(0, 0, 500, 100),  # not connected: ignored
    }
    ov = make_overlay(overlay=OverlaySettings(position="custom", geometry=geometry))
    assert main.availableGeometry().contains(ov.geometry())
    assert ov.width() == 600


def test_status_level_and_lag(make_overlay: Any, qtbot: Any) -> None:
    ov = make_overlay(Appearance(background_opacity=0.0, clear_after_s=0))
    ov.set_status("error", "No microphone. Check that one is connected.")
    assert ov.status() == ("error", "No microphone. Check that one is connected.")
    quiet = pixels(ov)
    ov.set_level(-6.0)
    green = (0x2F, 0xB3, 0x5A)
    qtbot.waitUntil(lambda: count_color(pixels(ov), green, tol=30) > count_color(quiet, green, tol=30))
    ov.set_lag(3.2)
    qtbot.waitUntil(lambda: count_color(pixels(ov), (0xE0, 0xA5, 0x26), tol=40) > 20)


def test_high_contrast_preset_is_opaque_and_bright() -> None:
    a = effective_appearance(Appearance(high_contrast=True, background_opacity=0.2, text_color="#777777"))
    assert a.background_opacity == 1.0 and a.text_color == "#ffffff" and a.outline
    assert effective_appearance(Appearance()) == Appearance()
