"""The settings panel with real widgets: live Settings, word boost, silence, keys in the keyring, keyboard."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from captioner import secrets
from captioner import settings as S
from captioner.engines import registry
from captioner.ui.settings.dialog import SettingsDialog
from captioner.ui.settings.pages.common import silence_explanation
from tests.support.memory_keyring import MemoryKeyring


@pytest.fixture
def dialog(qtbot):
    def make(settings: S.Settings | None = None) -> SettingsDialog:
        d = SettingsDialog(settings or S.Settings())
        qtbot.addWidget(d)
        return d

    return make


def pick_engine(d: SettingsDialog, engine_id: str) -> None:
    d.engine_page.picker.setCurrentIndex(d.engine_page.picker.findData(engine_id))


# -- engine picker -------------------------------------------------------------------------------


def test_engine_picker_lists_every_engine_with_its_availability(dialog) -> None:
    d = dialog(S.Settings(engine="uhlive"))
    picker = d.engine_page.picker
    assert [picker.itemData(i) for i in range(picker.count())] == list(registry.ENGINES)
    assert picker.currentData() == "uhlive"
    texts = {picker.itemData(i): picker.itemText(i) for i in range(picker.count())}
    assert texts["local"] == "Local (offline)"
    assert texts["assemblyai"] == "AssemblyAI Universal-Streaming (needs a key)"
    panels = d.engine_page.panels
    assert panels["local"].availability.text() == "Ready to use."
    assert panels["assemblyai"].availability.text() == (
        "Needs an API key before it can caption: enter it below, or set ASSEMBLYAI_API_KEY."
    )
    assert panels["uhlive"].availability.text().startswith("Needs client credentials")
    for i in range(picker.count()):
        assert picker.itemData(i, Qt.ItemDataRole.ToolTipRole) == panels[picker.itemData(i)].availability.text()


def test_picking_an_engine_emits_and_switches_its_fields(dialog, qtbot) -> None:
    d = dialog()
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        pick_engine(d, "uhlive")
    assert sig.args[0].engine == "uhlive"
    assert d.engine_page.stack.currentWidget() is d.engine_page.panels["uhlive"]
    assert set(d.engine_page.panels["uhlive"].credentials) == {
        "client_id",
        "client_secret",
        "username",
        "password",
        "token",
    }
    password = d.engine_page.panels["uhlive"].credentials["password"].edit
    assert password.echoMode() == password.EchoMode.Password
    assert not d.engine_page.panels["local"].credentials


def test_language_comes_from_the_engine_capabilities(dialog, qtbot) -> None:
    d = dialog(S.Settings(engine="uhlive"))
    panel = d.engine_page.panels["uhlive"]
    caps = registry.ENGINES["uhlive"].capabilities
    items = [panel.language.itemData(i) for i in range(panel.language.count())]
    assert items == ["", *caps.languages]
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        panel.language.setCurrentIndex(2)
        panel.language.activated.emit(2)
    assert sig.args[0].engines["uhlive"].language == caps.languages[1]


def test_endpoint_is_debounced_while_typing(dialog, qtbot) -> None:
    d = dialog(S.Settings(engine="uhlive"))
    edit = d.engine_page.panels["uhlive"].endpoint
    emitted: list[S.Settings] = []
    d.settings_changed.connect(emitted.append)
    with qtbot.waitSignal(d.settings_changed, timeout=3000):
        qtbot.keyClicks(edit, "wss://eu.example/ws")
    assert len(emitted) == 1  # one emission for the whole typed string
    assert emitted[0].engines["uhlive"].endpoint == "wss://eu.example/ws"
    assert "local" not in emitted[0].engines  # untouched engines are not written


# -- secrets ---------------------------------------------------------------------------------------


def test_keys_go_to_the_keyring_and_never_to_the_settings_file(dialog, qtbot, tmp_path: Path) -> None:
    d = dialog(S.Settings(engine="uhlive"))
    creds = d.engine_page.panels["uhlive"].credentials
    qtbot.keyClicks(creds["client_id"].edit, "my-client-id-4242")
    qtbot.keyClick(creds["client_id"].edit, Qt.Key.Key_Return)
    qtbot.keyClicks(creds["client_secret"].edit, "sup3r-s3cret-value")
    qtbot.keyClick(creds["client_secret"].edit, Qt.Key.Key_Return)
    aai = d.engine_page.panels["assemblyai"].credentials["api_key"]
    aai.edit.setText("aai-key-0123456789")
    d.close()  # pending fields are committed on close

    assert MemoryKeyring.store[("captioner", "uhlive/client_id")] == "my-client-id-4242"
    assert MemoryKeyring.store[("captioner", "uhlive/client_secret")] == "sup3r-s3cret-value"
    assert secrets.load("assemblyai", "api_key") == "aai-key-0123456789"
    assert creds["client_secret"].edit.echoMode() == creds["client_secret"].edit.EchoMode.Password
    assert creds["client_secret"].edit.text() == ""  # the field never holds or shows the stored secret
    assert "saved in the system keyring" in creds["client_secret"].edit.placeholderText()

    path = S.save(d.settings(), tmp_path / "settings.json")
    text = path.read_text()
    for secret in ("my-client-id-4242", "sup3r-s3cret-value", "aai-key-0123456789"):
        assert secret not in text
    assert "engines" in json.loads(text)


def test_forget_removes_the_key(dialog, qtbot) -> None:
    secrets.store("assemblyai", "api_key", "old-key")
    d = dialog(S.Settings(engine="assemblyai"))
    field = d.engine_page.panels["assemblyai"].credentials["api_key"]
    assert field.clear_button.isEnabled()
    qtbot.mouseClick(field.clear_button, Qt.MouseButton.LeftButton)
    assert secrets.load("assemblyai", "api_key") is None
    assert "removed from the keyring" in d.engine_page.panels["assemblyai"].secret_status.text()


def test_no_keyring_backend_shows_a_clear_message(dialog, qtbot) -> None:
    d = dialog(S.Settings(engine="assemblyai"))
    panel = d.engine_page.panels["assemblyai"]
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        panel.credentials["api_key"].edit.setText("aai-key")
        assert panel.credentials["api_key"].commit() is False
    finally:
        keyring.set_keyring(previous)
    message = panel.secret_status.text()
    assert message.startswith("No system keyring is available on this computer, so Captioner cannot save the key.")
    assert "for this session only" in message and "ASSEMBLYAI_API_KEY" in message
    assert "backend" not in message and "keyrings.alt" not in message  # never the library's own words
    assert panel.credentials["api_key"].edit.text() == "aai-key"  # kept for "Use for this session only"
    assert not MemoryKeyring.store


# -- word boost ------------------------------------------------------------------------------------


def test_word_boost_add_remove_paste_import_emit_settings(dialog, qtbot, tmp_path: Path) -> None:
    d = dialog(S.Settings(word_boost=("Captioner",)))
    wb = d.captions_page.word_boost
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        qtbot.keyClicks(wb.entry, "Kubernetes")
        qtbot.keyClick(wb.entry, Qt.Key.Key_Return)
    assert sig.args[0].word_boost == ("Captioner", "Kubernetes")

    QGuiApplication.clipboard().setText("\n".join(f"term {i}" for i in range(20)))
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        qtbot.mouseClick(wb.paste_button, Qt.MouseButton.LeftButton)
    assert len(sig.args[0].word_boost) == 22

    f = tmp_path / "jargon.txt"
    f.write_text("qasync\nPySide6\n")
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        wb.import_file(f)
    assert sig.args[0].word_boost[-2:] == ("qasync", "PySide6")

    wb.list.clearSelection()
    for i in range(wb.list.count()):
        if wb.list.item(i).text().startswith("term "):
            wb.list.item(i).setSelected(True)
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        qtbot.mouseClick(wb.remove_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].word_boost == ("Captioner", "Kubernetes", "qasync", "PySide6")
    assert d.settings().word_boost == sig.args[0].word_boost


def test_assemblyai_limits_warn_over_100_terms_and_50_chars(dialog, qtbot) -> None:
    caps = registry.ENGINES["assemblyai"].capabilities  # the real engine's declared limits
    assert (caps.word_boost_limits.max_terms, caps.word_boost_limits.max_term_chars) == (100, 50)
    d = dialog(S.Settings(engine="assemblyai"))
    wb = d.captions_page.word_boost
    long_term = "x" * 51
    wb.paste_text("\n".join([*(f"word{i}" for i in range(101)), long_term]))
    assert wb.count_label.text() == "100 / 100 terms"  # never more than the engine takes
    assert wb.message_label.text() == (
        "Added 100 terms; left out 2: 1 longer than 50 characters "
        "and 1 beyond AssemblyAI Universal-Streaming's limit of 100 terms."
    )
    assert wb.warning_label.isHidden()  # everything in the list is used
    assert len(d.settings().word_boost) == 100 and long_term not in d.settings().word_boost


def test_uhlive_says_word_boost_and_silence_are_not_supported(dialog, qtbot) -> None:
    d = dialog(S.Settings(engine="local", word_boost=("alpha",)))
    pick_engine(d, "uhlive")
    page = d.captions_page
    assert "does not support word boost" in page.word_boost.note_label.text()
    caps = registry.ENGINES["uhlive"].capabilities
    assert caps.notes in page.word_boost.note_label.text()
    assert page.word_boost.warning_label.isHidden()
    assert not page.silence_note.isHidden()
    assert "does not let Captioner set this" in page.silence_note.text()


# -- silence threshold -------------------------------------------------------------------------------


def test_silence_slider_emits_and_explains(dialog, qtbot) -> None:
    d = dialog(S.Settings(silence_ms=600))
    page = d.captions_page
    assert page.silence_value.text() == "600 ms"
    assert page.silence_explanation.text() == silence_explanation(600)
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        page.silence.setValue(2000)
    assert sig.args[0].silence_ms == 2000
    assert page.silence_value.text() == "2000 ms"
    assert "only after 2.0 seconds of silence" in page.silence_explanation.text()
    page.silence.setValue(page.silence.minimum())
    assert "cut in two" in page.silence_explanation.text()
    assert d.settings().silence_ms == S.SILENCE_MS_RANGE[0]


def test_rapid_changes_coalesce_into_one_emission(dialog, qtbot) -> None:
    d = dialog()
    emitted: list[S.Settings] = []
    d.settings_changed.connect(emitted.append)
    with qtbot.waitSignal(d.settings_changed, timeout=2000):
        for v in range(650, 1050, 50):
            d.captions_page.silence.setValue(v)
    assert [s.silence_ms for s in emitted] == [1000]


# -- keyboard ------------------------------------------------------------------------------------------


def _show_active(qtbot, d: SettingsDialog) -> None:
    d.show()
    qtbot.waitExposed(d)
    d.activateWindow()
    qtbot.waitUntil(d.isActiveWindow, timeout=3000)


def test_keyboard_tabs_mnemonics_and_arrow_keys(dialog, qtbot) -> None:
    d = dialog(S.Settings(silence_ms=600))
    _show_active(qtbot, d)
    # Alt+C opens the Captions tab (mnemonic), Alt+T goes to the silence slider.
    qtbot.keyClick(QApplication.focusWidget() or d, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert d.tabs.currentWidget() is d.captions_page
    qtbot.keyClick(QApplication.focusWidget() or d, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is d.captions_page.silence
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        qtbot.keyClick(d.captions_page.silence, Qt.Key.Key_Right)
    assert sig.args[0].silence_ms == 650
    # Page Up/Down move in big steps.
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        qtbot.keyClick(d.captions_page.silence, Qt.Key.Key_PageUp)
    assert sig.args[0].silence_ms == 1150


def test_tab_reaches_every_control_of_a_page(dialog, qtbot) -> None:
    d = dialog()
    _show_active(qtbot, d)
    d.tabs.setCurrentWidget(d.captions_page)
    page = d.captions_page
    page.word_boost.entry.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.word_boost.entry)
    seen: list[QWidget] = []
    for _ in range(30):
        w = QApplication.focusWidget()
        assert w is not None
        seen.append(w)
        qtbot.keyClick(w, Qt.Key.Key_Tab)
    wb = page.word_boost
    wanted = [wb.entry, wb.add_button, wb.list, wb.remove_button, wb.paste_button, wb.import_button, page.silence]
    for w in wanted:
        assert w in seen, w.accessibleName()
    assert seen.index(wb.entry) < seen.index(wb.add_button) < seen.index(wb.list) < seen.index(page.silence)
    # Every control reached has a name a screen reader can say.
    for w in seen:
        assert w.accessibleName() or getattr(w, "text", lambda: "")(), type(w).__name__


def test_every_form_label_has_a_buddy(dialog) -> None:
    from PySide6.QtWidgets import QLabel

    d = dialog()
    for label in d.findChildren(QLabel):
        if "&" in label.text():
            assert label.buddy() is not None, label.text()


def test_escape_closes_and_flushes_pending_edits(dialog, qtbot) -> None:
    d = dialog()
    _show_active(qtbot, d)
    emitted: list[S.Settings] = []
    d.settings_changed.connect(emitted.append)
    d.captions_page.silence.setValue(1500)  # debounced: nothing emitted yet
    assert not emitted
    qtbot.keyClick(d, Qt.Key.Key_Escape)
    assert not d.isVisible()
    assert [s.silence_ms for s in emitted] == [1500]


# -- appearance ---------------------------------------------------------------------------------------


def test_appearance_edits_update_the_preview_and_settings(dialog, qtbot) -> None:
    d = dialog(S.Settings(appearance=S.Appearance(background_opacity=0.6)))
    page = d.appearance_page
    preview = page.preview
    with qtbot.waitSignal(d.appearance_changed, timeout=1000):
        page.background_color.set_color("#ff0000")
    page.opacity.setValue(100)
    preview.resize(400, 140)
    img = preview.grab().toImage()
    corner = img.pixelColor(2, 2)
    assert (corner.red(), corner.green(), corner.blue()) == (255, 0, 0)

    page.opacity.setValue(0)  # fully transparent: the checkerboard shows through
    img = preview.grab().toImage()
    assert img.pixelColor(2, 2).red() == img.pixelColor(2, 2).green()

    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        page.lines.setValue(4)
    a = sig.args[0].appearance
    assert (a.background_color, a.background_opacity, a.lines) == ("#ff0000", 0.0, 4)
    assert preview.appearance() == a
    assert len(preview.sample_lines()) == 4 and preview.sample_lines()[-1][1] is False


def test_high_contrast_preset(dialog, qtbot) -> None:
    d = dialog(S.Settings(appearance=S.Appearance(font_size=20, background_opacity=0.3)))
    page = d.appearance_page
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        qtbot.mouseClick(page.contrast_button, Qt.MouseButton.LeftButton)
    a = sig.args[0].appearance
    assert a.high_contrast and a.background_opacity == 1.0 and a.outline
    assert a.font_size >= 32 and a.text_color == "#ffffff" and a.background_color == "#000000"
    assert page.preview.appearance() == a
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        page.text_color.set_color("#00ff00")  # a manual colour leaves the preset
    assert sig.args[0].appearance.high_contrast is False


def test_unknown_font_family_is_kept(dialog) -> None:
    d = dialog(S.Settings(appearance=S.Appearance(font_family="No Such Font 123")))
    assert d.settings().appearance.font_family == "No Such Font 123"


# -- overlay and audio pages -----------------------------------------------------------------------------


def test_overlay_options_emit(dialog, qtbot) -> None:
    d = dialog()
    page = d.overlay_page
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        page.click_through.setChecked(True)
        page.xwayland.setChecked(True)
        page.position.setCurrentIndex(page.position.findData("top"))
        page.position.activated.emit(1)
    o = sig.args[0].overlay
    assert (o.click_through, o.force_xwayland, o.position) == (True, True, "top")
    assert page.xwayland_note.text()


def test_geometry_and_external_changes_are_preserved(dialog, qtbot) -> None:
    geometry = {"Main 1920x1080": S.Geometry(1, 2, 3, 4)}
    d = dialog(S.Settings(overlay=S.OverlaySettings(geometry=geometry)))
    moved = S.OverlaySettings(geometry={"Main 1920x1080": S.Geometry(9, 9, 9, 9)}, click_through=True)
    d.set_settings(S.Settings(overlay=moved))
    assert d.overlay_page.click_through.isChecked()
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        d.captions_page.silence.setValue(900)
    assert sig.args[0].overlay.geometry == moved.geometry and sig.args[0].overlay.click_through


def test_audio_source_switch_lists_the_right_devices(dialog, qtbot, monkeypatch) -> None:
    from captioner.audio import devices

    fake = [
        devices.DeviceInfo(id="mic-1", name="USB mic", kind="mic", default=True),
        devices.DeviceInfo(id="mon-1", name="Speakers monitor", kind="system"),
    ]
    monkeypatch.setattr(devices, "list_devices", lambda: fake)
    d = dialog(S.Settings(source="mic", device="mic-1"))
    page = d.audio_page
    assert [page.device.itemData(i) for i in range(page.device.count())] == ["", "mic-1"]
    assert page.device.currentData() == "mic-1"
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        page.system.setChecked(True)
    assert (sig.args[0].source, sig.args[0].device) == ("system", "")
    assert [page.device.itemData(i) for i in range(page.device.count())] == ["", "mon-1"]
    with qtbot.waitSignal(d.settings_changed, timeout=2000) as sig:
        page.device.setCurrentIndex(1)
        page.device.activated.emit(1)
    assert sig.args[0].device == "mon-1"


def test_audio_page_copes_with_no_devices_and_a_missing_saved_device(dialog, monkeypatch) -> None:
    from captioner.audio import devices

    monkeypatch.setattr(devices, "list_devices", lambda: [])
    d = dialog(S.Settings(source="system", device="gone-monitor"))
    page = d.audio_page
    assert page.device.currentData() == "gone-monitor"
    assert "not found" in page.device.currentText()
    assert "No system-audio sources found" in page.device_note.text()
    assert d.settings().device == "gone-monitor"


def test_ctrl_page_down_switches_tabs(dialog, qtbot) -> None:
    d = dialog()
    _show_active(qtbot, d)
    assert d.tabs.currentIndex() == 0
    qtbot.keyClick(QApplication.focusWidget() or d, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert d.tabs.currentWidget() is d.audio_page
    qtbot.keyClick(QApplication.focusWidget() or d, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(QApplication.focusWidget() or d, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    assert d.tabs.currentIndex() == d.tabs.count() - 1  # wraps around to the last tab
