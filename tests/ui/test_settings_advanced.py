"""The Advanced settings page: per-engine options from ``Engine.advanced_options``, stored in ``extra``.

Real widgets (offscreen); the engines' own option parsers are the reference for what a valid value is.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from captioner import settings as S
from captioner.engines import registry
from captioner.engines.assemblyai import config as aai_config
from captioner.engines.assemblyai import models as aai_models
from captioner.engines.base import EngineOptions, OptionSpec
from captioner.ui.settings.dialog import SettingsDialog

CLOUD = ("assemblyai", "uhlive", "uhlive-h2b")


@pytest.fixture
def dialog(qtbot: Any) -> Any:
    def make(settings: S.Settings | None = None) -> SettingsDialog:
        d = SettingsDialog(settings or S.Settings())
        qtbot.addWidget(d)
        return d

    return make


def pick_engine(d: SettingsDialog, engine_id: str) -> None:
    d.engine_page.picker.setCurrentIndex(d.engine_page.picker.findData(engine_id))


def specs(engine_id: str) -> tuple[OptionSpec, ...]:
    return registry.ENGINES[engine_id].load().advanced_options


def build(engine_id: str, extra: dict[str, str]) -> object:
    """Construct the engine with these options: its own parser accepts them, or raises ValueError."""
    return registry.ENGINES[engine_id].load()(EngineOptions(extra=extra))


def sample(spec: OptionSpec) -> str:
    """A valid, non-empty value of ``spec``."""
    if spec.default:
        return spec.default
    if spec.choices:
        return spec.choices[0]
    if spec.minimum is not None:
        return f"{spec.minimum:g}"
    return {"country": "ca", "key_service": "https://tokens.example.org/assemblyai"}.get(spec.key, "x")


# -- the declarations agree with the engines' parsers (no Qt) -------------------------------------


@pytest.mark.parametrize("engine_id", CLOUD)
def test_every_declared_value_is_accepted_by_the_engine_and_out_of_range_is_refused_by_both(engine_id: str) -> None:
    declared = specs(engine_id)
    assert declared, f"{engine_id} declares no advanced options"
    for spec in declared:
        assert spec.help and spec.label
        good = [spec.default] if spec.default else []
        good += list(spec.choices)
        if spec.kind in ("int", "float"):
            good += [f"{spec.minimum:g}", f"{spec.maximum:g}"]
        if spec.kind == "bool":
            good += ["true", "false"]
        for raw in good:
            value = spec.check(raw)
            build(engine_id, {spec.key: value})  # the engine takes what the page stores
        bad: list[str] = []
        if spec.kind in ("int", "float"):
            assert spec.minimum is not None and spec.maximum is not None
            step = 1 if spec.kind == "int" else 0.01
            bad += [f"{spec.minimum - step:g}", f"{spec.maximum + step:g}", "abc"]
        if spec.kind == "int":
            assert spec.minimum is not None
            bad.append(f"{spec.minimum + 0.5:g}")
        if spec.kind == "bool":
            bad.append("maybe")
        if spec.key == "auth_endpoint":
            bad.append("ftp://id.example/token")
        for raw in bad:
            with pytest.raises(ValueError):
                spec.check(raw)
            with pytest.raises(ValueError):
                build(engine_id, {spec.key: raw})  # the engine refuses it too: same rule in both places


def test_assemblyai_options_are_known_to_its_parser_and_cover_what_a_user_sets() -> None:
    keys = {s.key for s in specs("assemblyai")}
    assert keys <= set(aai_config.KNOWN_EXTRA)
    assert {"speech_model", "format_turns", "finals_only", "end_of_turn_confidence_threshold", "encoding"} <= keys
    assert {"chunk_ms", "speaker_labels", "max_speakers", "mode", "voice_focus", "key_service"} <= keys
    assert "inactivity_timeout" not in keys  # retired: it never ended a session while audio streams
    config = aai_config.parse_config(EngineOptions(extra={k: "" for k in keys}))
    assert not config.warnings  # no "unknown option" warning for any declared key
    model = next(s for s in specs("assemblyai") if s.key == "speech_model")
    assert model.choices == aai_models.offered_models()  # the one model table


def test_uhlive_h2b_timeouts_reach_set_params() -> None:
    from captioner.engines.uhlive.h2b import UhliveH2BEngine

    engine = UhliveH2BEngine(EngineOptions(extra={"no_input_timeout": "45000", "recognition_timeout": "60000"}))
    assert engine._params["no_input_timeout"] == 45000
    assert engine._params["recognition_timeout"] == 60000


def test_every_option_can_be_saved_to_the_settings_file() -> None:
    """No declared key looks like a secret (the settings file refuses those), and values round-trip."""
    engines = {}
    for engine_id in CLOUD:
        extra = {s.key: s.check(sample(s)) for s in specs(engine_id)}
        engines[engine_id] = S.EngineSettings(extra=extra)
    s = S.Settings(engines=engines)
    S.save(s)
    assert S.load().engines == engines


# -- the page ---------------------------------------------------------------------------------------


def test_the_page_shows_the_selected_engines_options(dialog: Any, qtbot: Any) -> None:
    d = dialog(S.Settings(engine="local"))
    page = d.advanced_page
    assert d.tabs.indexOf(page) == d.tabs.count() - 1
    assert page.stack.currentWidget() is page.panels["local"]
    assert not page.panels["local"].fields  # the local engine declares none: the page says so
    assert "no advanced settings" in " ".join(w.text() for w in page.panels["local"].findChildren(type(page.heading)))
    for engine_id in CLOUD:
        pick_engine(d, engine_id)
        assert page.stack.currentWidget() is page.panels[engine_id]
        assert list(page.panels[engine_id].fields) == [s.key for s in specs(engine_id)]
        assert registry.ENGINES[engine_id].name in page.heading.text()
    h2b = page.panels["uhlive-h2b"].fields
    assert {"no_input_timeout", "recognition_timeout", "auth_endpoint"} <= set(h2b)
    # Help text in plain words is shown with each field, and read out by screen readers.
    eot = page.panels["assemblyai"].fields["end_of_turn_confidence_threshold"]
    assert "line" in eot.help.text() and eot.widget.accessibleDescription() == eot.help.text()


def test_edits_land_in_the_engines_extra_and_keep_other_keys(dialog: Any, qtbot: Any) -> None:
    start = S.Settings(
        engine="assemblyai",
        engines={"assemblyai": S.EngineSettings(language="en", endpoint="eu", extra={"rollover_seconds": "600"})},
    )
    d = dialog(start)
    panel = d.advanced_page.panel("assemblyai")
    f = panel.fields

    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        qtbot.keyClicks(f["end_of_turn_confidence_threshold"].edit, "0.7")
    es = sig.args[0].engines["assemblyai"]
    assert es.extra == {"rollover_seconds": "600", "end_of_turn_confidence_threshold": "0.7"}
    assert (es.language, es.endpoint) == ("en", "eu")  # the engine page's fields are untouched

    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        f["format_turns"].check.setChecked(False)  # default is on: "false" is stored
    assert sig.args[0].engines["assemblyai"].extra["format_turns"] == "false"
    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        f["format_turns"].check.setChecked(True)  # back to the default: not stored at all
    assert "format_turns" not in sig.args[0].engines["assemblyai"].extra

    combo = f["speech_model"].combo
    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        combo.setCurrentIndex(combo.findData("universal-streaming-multilingual"))
        combo.activated.emit(combo.currentIndex())
    assert sig.args[0].engines["assemblyai"].extra["speech_model"] == "universal-streaming-multilingual"

    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        panel.reset_button.click()
    assert sig.args[0].engines["assemblyai"].extra == {"rollover_seconds": "600"}

    # An engine nobody touched gets no entry; one that is set does, even if it had none.
    assert "uhlive-h2b" not in d.settings().engines
    pick_engine(d, "uhlive-h2b")
    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        qtbot.keyClicks(d.advanced_page.panel().fields["no_input_timeout"].edit, "45000")
    assert sig.args[0].engines["uhlive-h2b"].extra == {"no_input_timeout": "45000"}


def test_saved_values_show_when_the_panel_opens(dialog: Any) -> None:
    extra = {"speech_model": "whisper-rt", "finals_only": "true", "chunk_ms": "100", "future_key": "x"}
    d = dialog(S.Settings(engine="assemblyai", engines={"assemblyai": S.EngineSettings(extra=extra)}))
    f = d.advanced_page.panel().fields
    assert f["speech_model"].combo.currentData() == "whisper-rt"
    assert f["finals_only"].check.isChecked()
    assert f["format_turns"].check.isChecked()  # not set: shows the engine's default (on)
    assert f["chunk_ms"].edit.text() == "100"
    assert f["max_speakers"].edit.text() == "" and "not set" in f["max_speakers"].edit.placeholderText()
    assert d.settings().engines["assemblyai"].extra == extra  # opening the panel changes nothing


def test_options_a_model_does_not_take_are_disabled(dialog: Any, qtbot: Any) -> None:
    d = dialog(S.Settings(engine="assemblyai"))
    panel = d.advanced_page.panel("assemblyai")
    f = panel.fields
    enabled = {key: field.isEnabled() for key, field in f.items()}
    # Not set (automatic: Universal-Streaming for most languages): its threshold applies, U3 options do not.
    assert enabled["end_of_turn_confidence_threshold"] and enabled["format_turns"]
    assert not enabled["mode"] and not enabled["voice_focus"]
    combo = f["speech_model"].combo
    with qtbot.waitSignal(d.settings_changed, timeout=3000):
        combo.setCurrentIndex(combo.findData("universal-3-5-pro"))
        combo.activated.emit(combo.currentIndex())
    assert f["mode"].isEnabled() and f["voice_focus"].isEnabled() and f["speaker_labels"].isEnabled()
    assert not f["end_of_turn_confidence_threshold"].isEnabled() and not f["format_turns"].isEnabled()
    assert "no effect" in f["format_turns"].widget.accessibleDescription()


@pytest.mark.parametrize(
    ("engine_id", "key", "typed", "why"),
    [
        ("assemblyai", "end_of_turn_confidence_threshold", "1.5", "between 0 and 1"),
        ("assemblyai", "end_of_turn_confidence_threshold", "high", "must be a number"),
        ("assemblyai", "chunk_ms", "20", "between 50 and 1000"),
        ("assemblyai", "chunk_ms", "75.5", "whole number"),
        ("uhlive-h2b", "recognition_timeout", "999999999", "between 2000 and 600000"),
        ("uhlive", "auth_endpoint", "id.example/token", "http:// or https:// URL"),
        ("uhlive", "country", "France", "two-letter"),
    ],
)
def test_invalid_values_are_refused_with_a_message(
    dialog: Any, qtbot: Any, engine_id: str, key: str, typed: str, why: str
) -> None:
    d = dialog(S.Settings(engine=engine_id))
    field = d.advanced_page.panel().fields[key]
    good = field.spec.default or {"country": "ca", "end_of_turn_confidence_threshold": "0.5"}.get(key, "")
    assert good and field.set_value(good)
    d.flush()
    before = d.settings().engines[engine_id].extra
    emitted: list[S.Settings] = []
    d.settings_changed.connect(emitted.append)

    qtbot.keyClicks(field.edit, "x")  # something invalid to replace…
    field.edit.clear()
    qtbot.keyClicks(field.edit, typed)
    qtbot.keyClick(field.edit, Qt.Key.Key_Return)
    assert why in field.error_text() and "Not applied" in field.error_text()
    assert field.error.isVisible() is field.isVisible()
    assert field.edit.text() == typed  # what the user typed stays, to be corrected
    d.flush()
    assert d.settings().engines[engine_id].extra == before  # the last valid value stays in effect
    assert all(s.engines[engine_id].extra == before for s in emitted)

    field.edit.clear()  # empty = back to the engine's default: valid, the message goes away
    qtbot.keyClick(field.edit, Qt.Key.Key_Return)
    assert field.error_text() == ""
    d.flush()
    assert key not in d.settings().engine_settings(engine_id).extra


def test_keyboard_only(dialog: Any, qtbot: Any) -> None:
    """Ctrl+PgUp reaches the Advanced tab, Tab walks its fields, typing and Space edit them."""
    d = dialog(S.Settings(engine="assemblyai"))
    d.show()
    qtbot.waitExposed(d)
    d.activateWindow()
    qtbot.waitUntil(d.isActiveWindow, timeout=3000)
    qtbot.keyClick(QApplication.focusWidget() or d, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    assert d.tabs.currentWidget() is d.advanced_page  # the last tab, one step back from the first
    fields = d.advanced_page.panel().fields
    fields["speech_model"].widget.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is fields["speech_model"].widget)

    seen: list[QWidget] = []
    for _ in range(16):
        w = QApplication.focusWidget()
        assert w is not None
        seen.append(w)
        if w is fields["end_of_turn_confidence_threshold"].edit:
            qtbot.keyClicks(w, "0.55")
        if w is fields["finals_only"].check:
            qtbot.keyClick(w, Qt.Key.Key_Space)
        qtbot.keyClick(w, Qt.Key.Key_Tab)
    for f in fields.values():
        # Fields without effect with the current choices are disabled, so Tab skips them.
        assert (f.widget in seen) is f.isEnabled(), f.spec.key
        assert f.widget.accessibleName().startswith(f.spec.label)
    assert d.advanced_page.panel().reset_button in seen
    d.flush()
    extra = d.settings().engines["assemblyai"].extra
    assert extra["end_of_turn_confidence_threshold"] == "0.55"
    assert extra["finals_only"] == "true"
