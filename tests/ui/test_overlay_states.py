"""The overlay at rest and with something to say, where presets put it, and the panel's overlay controls.

Real widgets on the offscreen platform (two screens, see conftest.py): a stopped overlay with no captions
shrinks to its status row, hanging from the same edge; an error is shown whole in the caption area while
there are no captions; presets keep the width the user chose and big fonts keep the bottom margin; the
settings panel stays above the overlay; the appearance preview wraps whole words and the opacity slider
shows its number; the XWayland choice is offered only on Wayland; the click-through shortcut can be changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QFontMetricsF, QGuiApplication, QImage, QKeySequence
from PySide6.QtTest import QTest

from captioner.captions.transcript import Change, Line
from captioner.settings import Appearance, OverlaySettings, Settings
from captioner.ui.desktop import DesktopApp
from captioner.ui.overlay import CaptionOverlay
from captioner.ui.overlay_geometry import edge_margin
from captioner.ui.overlay_paint import _WRAP
from captioner.ui.settings.appearance_preview import SAMPLE_FINALS, SAMPLE_INTERIM, AppearancePreview
from captioner.ui.settings.dialog import SettingsDialog
from captioner.ui.settings.pages.overlay import OverlayPage

LONG_ERROR = (
    "AssemblyAI needs an API key: enter it in Settings → Engine (it is kept in the system keyring), or set "
    "ASSEMBLYAI_API_KEY in the environment, then start captions again from the tray menu."
)


def commit(ov: CaptionOverlay, line_id: str, text: str) -> None:
    ov.on_change(Change(kind="commit", line=Line(line_id=line_id, text=text, final=True, engine="test")))


def pixels(widget: Any) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : w * 4]
    return arr.reshape(h, w, 4).copy()


@pytest.fixture
def overlay(qtbot: Any) -> Any:
    def make(appearance: Appearance | None = None, **settings: Any) -> CaptionOverlay:
        ov = CaptionOverlay(appearance or Appearance(lines=5, clear_after_s=0), OverlaySettings(**settings))
        qtbot.addWidget(ov)
        ov.place()
        ov.show()
        qtbot.waitExposed(ov)
        return ov

    return make


def area() -> Any:
    return QGuiApplication.primaryScreen().availableGeometry()


# -- at rest ------------------------------------------------------------------------------------------


def test_a_stopped_overlay_without_captions_is_only_its_status_row(overlay: Any) -> None:
    ov = overlay(position="bottom")
    ov.set_status("listening", "Listening")
    full = ov.geometry()
    assert full.height() == ov.painter.needed_height() and not ov.compact
    ov.set_status("stopped", "Stopped")
    assert ov.compact and ov.height() == ov.painter.compact_height() < full.height() // 3
    assert ov.geometry().bottom() == full.bottom()  # shrunk towards the bottom edge it hangs from
    commit(ov, "1", "captions again")  # captions shown: every line, the same bottom edge
    assert not ov.compact and ov.geometry() == full


def test_at_the_top_the_resting_overlay_keeps_its_top_edge(overlay: Any) -> None:
    ov = overlay(position="top")
    ov.set_status("connecting", "Connecting")
    top = ov.geometry().top()
    ov.set_status("idle", "Not captioning")
    assert ov.compact and ov.geometry().top() == top


def test_an_error_is_shown_whole_in_the_caption_area(overlay: Any) -> None:
    ov = overlay(Appearance(lines=2, clear_after_s=0))
    ov.set_status("error", LONG_ERROR)
    assert not ov.compact  # an error is never shrunk away
    assert ov.message_shown() == LONG_ERROR
    # Whole: wrapped in a font in which all of it fits the caption area.
    rect = ov.painter._message_rect(ov.width(), ov.height())
    font = ov.painter.message_font(LONG_ERROR, ov.width(), ov.height())
    assert QFontMetricsF(font).boundingRect(rect, _WRAP, LONG_ERROR).height() <= rect.height()
    # And drawn there: the error colour on several rows of the caption area, below the status row.
    arr = pixels(ov).astype(int)
    red = (arr[..., 0] > 200) & (arr[..., 1] < 170) & (arr[..., 2] < 170)
    captions = ov.painter.captions_rect(ov.width(), ov.height())
    rows = np.flatnonzero(red[captions.top() :].any(axis=1))
    assert rows.size and rows.max() - rows.min() > QFontMetricsF(font).lineSpacing()
    commit(ov, "1", "a caption")  # captions take the area back
    assert ov.message_shown() == ""


def test_a_short_status_stays_in_its_row(overlay: Any) -> None:
    ov = overlay()
    ov.set_status("listening", "Listening · Local (offline)")
    assert ov.message_shown() == ""


# -- place --------------------------------------------------------------------------------------------


def test_a_position_preset_keeps_a_custom_width(overlay: Any) -> None:
    ov = overlay(position="bottom")
    ov.set_status("listening", "Listening")
    start = ov.width()
    QTest.mousePress(ov, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(ov.width() - 2, 30))
    QTest.mouseMove(ov, QPoint(ov.width() - 2 + 150, 30))
    QTest.mouseRelease(ov, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(ov.width() - 2, 30))
    assert ov.width() == start + 150
    ov.apply_position("top")
    assert ov.width() == start + 150 and ov.y() == area().top() + edge_margin(area())
    assert ov.geometry().center().x() == pytest.approx(area().center().x(), abs=1)
    ov.apply_position("bottom")
    assert ov.width() == start + 150


def test_a_big_font_keeps_the_bottom_margin(overlay: Any) -> None:
    ov = overlay(Appearance(lines=2, clear_after_s=0), position="bottom")
    ov.set_status("listening", "Listening")
    bottom = area().bottom() + 1 - edge_margin(area())
    assert ov.geometry().bottom() + 1 == bottom
    ov.apply_appearance(Appearance(lines=3, font_size=50, clear_after_s=0))
    assert ov.height() == ov.painter.needed_height()
    assert ov.geometry().bottom() + 1 == bottom  # it grew upwards, keeping its margin


def test_the_settings_panel_stays_above_the_overlay(qtbot: Any, qloop: Any, run: Any) -> None:
    app = DesktopApp(Settings(autostart_captions=False, offer_last_transcript=False), persist=False)
    app.start()
    try:
        dialog = app.open_settings()
        qtbot.waitExposed(dialog)
        # A transient of the overlay: window managers stack it above the overlay, in its layer.
        assert dialog.windowHandle().transientParent() is app.overlay.windowHandle()
    finally:
        run(app.shutdown())


# -- the panel ----------------------------------------------------------------------------------------


def test_the_preview_wraps_whole_words_and_never_elides(qtbot: Any) -> None:
    preview = AppearancePreview(Appearance(font_size=50, lines=3, max_line_chars=60))
    qtbot.addWidget(preview)
    preview.resize(420, 300)
    rows = preview.sample_lines()
    assert len(rows) == 3 and rows[-1][1] is False
    words = " ".join([*SAMPLE_FINALS, SAMPLE_INTERIM]).split()
    shown = " ".join(text for text, _ in rows).split()
    assert "…" not in " ".join(shown)
    assert shown == words[-len(shown) :]  # the last words, every one whole
    assert preview.minimumSizeHint().height() >= preview._painter.needed_height()  # room for every line


def test_the_opacity_slider_shows_its_number(qtbot: Any) -> None:
    d = SettingsDialog(Settings(appearance=Appearance(background_opacity=0.85)))
    qtbot.addWidget(d)
    page = d.appearance_page
    assert page.opacity_value.text() == "85 %"
    page.opacity.setValue(40)
    assert page.opacity_value.text() == "40 %"


@pytest.mark.parametrize(
    ("env", "offered"), [({"XDG_SESSION_TYPE": "x11"}, False), ({"WAYLAND_DISPLAY": "wayland-0"}, True)]
)
def test_xwayland_is_offered_only_on_wayland(qtbot: Any, monkeypatch: Any, env: dict[str, str], offered: bool) -> None:
    for var in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    page = OverlayPage(Settings())
    qtbot.addWidget(page)
    page.show()
    assert page.xwayland.isVisibleTo(page) is offered
    assert page.xwayland_note.isVisibleTo(page) is offered


def test_the_click_through_shortcut_can_be_changed_and_bad_ones_are_refused(qtbot: Any) -> None:
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    page = d.overlay_page
    assert page.shortcut.keySequence().toString() == "Ctrl+Shift+L"
    page.shortcut.setKeySequence(QKeySequence("Shift+K"))
    page.shortcut.editingFinished.emit()
    assert "needs Ctrl, Alt or the Super key" in page.shortcut_note.text()
    assert d.settings().overlay.click_through_shortcut == "Ctrl+Shift+L"  # the previous one stays
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        page.shortcut.setKeySequence(QKeySequence("Ctrl+Alt+K"))
        page.shortcut.editingFinished.emit()
    assert sig.args[0].overlay.click_through_shortcut == "Ctrl+Alt+K"


def test_the_app_follows_a_new_shortcut_and_says_where_it_works(qtbot: Any, qloop: Any, run: Any) -> None:
    app = DesktopApp(Settings(autostart_captions=False, offer_last_transcript=False), persist=False)
    app.start()
    try:
        status = app.shortcut.status()
        assert not status.everywhere and "offscreen" in status.message  # no global shortcuts offscreen
        assert app.tray.click_through_action.shortcut().toString() == "Ctrl+Shift+L"
        dialog = app.open_settings()
        assert dialog.overlay_page.shortcut_note.text() == status.message
        app.on_settings_changed(app.settings.with_changes(overlay=OverlaySettings(click_through_shortcut="Ctrl+Alt+K")))
        assert app.tray.click_through_action.shortcut().toString() == "Ctrl+Alt+K"
        assert "Ctrl+Alt+K" in dialog.overlay_page.shortcut_note.text()
        app.overlay.set_click_through(True)
        line = app.overlay.painter.status_line("idle", "x", app.overlay._click_hint())
        assert "tray menu to unlock" in line or "Captioner window to unlock" in line
    finally:
        run(app.shutdown())


def test_message_rect_is_inside_the_window(overlay: Any) -> None:
    ov = overlay()
    r = ov.painter._message_rect(ov.width(), ov.height())
    assert QRectF(ov.rect()).contains(r)


# -- legibility ---------------------------------------------------------------------------------------


def _over_busy_white_page(ov: CaptionOverlay) -> np.ndarray:
    """The overlay composited over a white page of black text lines (as a compositor would blend it)."""
    from PySide6.QtGui import QColor, QPainter

    top = ov.grab().toImage().convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    page = QImage(top.size(), QImage.Format.Format_ARGB32_Premultiplied)
    page.fill(QColor("white"))
    p = QPainter(page)
    for y in range(0, page.height(), 6):
        p.fillRect(0, y, page.width(), 3, QColor("black"))  # text strokes everywhere
    p.drawImage(0, 0, top)
    p.end()
    return pixels_of(page)


def pixels_of(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGBA8888)
    w, h = img.width(), img.height()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine())[:, : w * 4]
    return arr.reshape(h, w, 4)[..., :3].astype(float)


def luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * lin[..., 0] + 0.7152 * lin[..., 1] + 0.0722 * lin[..., 2]


def test_default_captions_read_over_a_busy_white_window(overlay: Any) -> None:
    ov = overlay(Appearance(lines=2, clear_after_s=0))
    ov.set_status("listening", "Listening")
    arr = _over_busy_white_page(ov)
    captions = ov.painter.captions_rect(ov.width(), ov.height())
    box = arr[captions.top() + 4 : captions.bottom() - 14, 20:-20]  # no captions yet: only the background
    # The page's text barely shows through: strokes and paper below differ by little in the box.
    assert box.max() - box.min() <= 30, f"the page below shows through by {box.max() - box.min():.0f} levels"
    # The status text (white) on the box over white paper: at least 7:1, the strictest contrast guideline.
    worst_box = luminance(box).max()
    text = luminance(np.array([235.0, 235.0, 235.0]))
    assert (text + 0.05) / (worst_box + 0.05) >= 7.0


def test_the_shortcut_field_pauses_the_global_shortcut(qtbot: Any, qloop: Any, run: Any) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QFocusEvent

    app = DesktopApp(Settings(autostart_captions=False, offer_last_transcript=False), persist=False)
    app.start()
    paused: list[bool] = []
    app.shortcut.pause = paused.append  # type: ignore[method-assign,assignment]  # offscreen: no grab to pause
    try:
        field = app.open_settings().overlay_page.shortcut
        QGuiApplication.sendEvent(field, QFocusEvent(QEvent.Type.FocusIn))  # recording keys: the grab lets go
        QGuiApplication.sendEvent(field, QFocusEvent(QEvent.Type.FocusOut))
        assert paused == [True, False]
    finally:
        run(app.shutdown())
