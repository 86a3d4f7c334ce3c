"""Advanced page: the selected engine's own options (AssemblyAI model, end-of-turn confidence, Uhlive timeouts…).

The fields are built from the engine class's ``advanced_options``
(:class:`~captioner.engines.base.OptionSpec`), so the keys are exactly those of
the CLI's ``--option KEY=VALUE``. Values are stored as strings in
``Settings.engines[engine_id].extra``; an option left empty (or at its default,
for on/off options) is not stored and the engine uses its own default.
Keys in ``extra`` that no field shows are kept as they are.

Invalid input (out of range, not a number, not a URL…) is refused: the field
shows why, and the last valid value stays in effect.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from captioner.engines import registry
from captioner.engines.base import OptionSpec
from captioner.settings import EngineSettings, Settings
from captioner.ui.settings.pages.common import FAST_MS, TEXT_MS, Page, engine_name, note_label

log = logging.getLogger(__name__)

ERROR_STYLE = "color: #b3261e;"


def engine_option_specs(engine_id: str) -> tuple[OptionSpec, ...] | None:
    """The engine's advanced options, or ``None`` when the engine cannot be loaded here."""
    info = registry.ENGINES.get(engine_id)
    if info is None:
        return None
    try:
        return tuple(info.load().advanced_options)
    except Exception as exc:  # a missing optional engine must never break the panel
        log.debug("advanced options of %s unavailable: %s", engine_id, exc)
        return None


class OptionField(QWidget):
    """One option: an on/off box, a list, or a text field; its help below, and why a value was refused."""

    changed = Signal(int)
    """The stored value changed; the argument is the debounce delay in ms."""

    def __init__(self, engine_id: str, spec: OptionSpec, value: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine_id = engine_id
        self.spec = spec
        self._value = ""
        self.check: QCheckBox | None = None
        self.combo: QComboBox | None = None
        self.edit: QLineEdit | None = None
        name = f"{spec.label} ({engine_name(engine_id)})"
        try:
            self._value = spec.check(value)
        except ValueError as exc:  # a hand-edited settings file: keep it, say what is wrong
            self._value = value.strip()
            log.warning("settings: %s option %s: %s", engine_id, spec.key, exc)

        if spec.kind == "bool":
            box = QCheckBox(spec.label)
            box.setChecked((self._value or spec.default) == "true")
            box.toggled.connect(self._toggled)
            self.check = box
            widget: QWidget = box
        elif spec.kind == "choice":
            combo = QComboBox()
            combo.addItem(f"Not set (engine default: {spec.default})" if spec.default else "Not set (automatic)", "")
            for choice in spec.choices:
                combo.addItem(choice, choice)
            if self._value and combo.findData(self._value) < 0:
                combo.addItem(self._value, self._value)
            combo.setCurrentIndex(max(0, combo.findData(self._value)))
            combo.activated.connect(self._picked)
            self.combo = combo
            widget = combo
        else:
            edit = QLineEdit(self._value)
            hint = spec.range_text() if spec.kind in ("int", "float") else (spec.pattern_hint or "")
            default = f"not set (default: {spec.default})" if spec.default else "not set"
            edit.setPlaceholderText(f"{default}; {hint}" if hint else default)
            edit.textEdited.connect(self._typed)
            edit.editingFinished.connect(self._typed_done)
            self.edit = edit
            widget = edit
        self._before_edit = self._value
        """The value when this round of typing began: what stays in effect if the text becomes invalid."""
        widget.setObjectName(f"{engine_id}_{spec.key}")
        widget.setAccessibleName(name)
        widget.setAccessibleDescription(spec.help)
        widget.setToolTip(f"--option {spec.key}=…")
        self.widget = widget

        self.help = note_label(spec.help)
        self.error = note_label(name=f"{engine_id}_{spec.key}_error")
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(widget)
        layout.addWidget(self.help)
        layout.addWidget(self.error)
        self.setFocusProxy(widget)

    # -- value ---------------------------------------------------------------------------------
    def value(self) -> str:
        """The value in effect: ``""`` when not set (the engine's default)."""
        return self._value

    def error_text(self) -> str:
        return self.error.text() if not self.error.isHidden() else ""

    def set_value(self, raw: str) -> bool:
        """Set the field as if the user had entered ``raw``; ``False`` (with the message shown) if refused."""
        if self.check is not None:
            value = self.spec.check(raw)
            self.check.setChecked((value or self.spec.default) == "true")  # emits through _toggled
            return True
        if self.combo is not None:
            index = self.combo.findData(raw.strip())
            if index < 0:
                self._show_error(f"{self.spec.label} must be one of {', '.join(self.spec.choices)}")
                return False
            self.combo.setCurrentIndex(index)
            self._picked(index)
            return True
        assert self.edit is not None
        self.edit.setText(raw)
        ok = self._typed(raw, delay=FAST_MS)
        if ok:
            self._before_edit = self._value
        return ok

    def _store(self, value: str, delay: int) -> None:
        self._show_error("")
        if value != self._value:
            self._value = value
            self.changed.emit(delay)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        if self.edit is not None:
            self.edit.setStyleSheet("QLineEdit { border: 1px solid #b3261e; }" if message else "")

    def _toggled(self, on: bool) -> None:
        value = "true" if on else "false"
        self._store("" if value == self.spec.default else value, FAST_MS)

    def _picked(self, index: int) -> None:
        assert self.combo is not None
        self._store(str(self.combo.itemData(index) or ""), FAST_MS)

    def _typed(self, text: str, delay: int = TEXT_MS) -> bool:
        try:
            value = self.spec.check(text)
        except ValueError as exc:
            # A half-typed valid prefix ("1" of "1.5") must not stay in effect: back to the value before typing.
            self._store(self._before_edit, delay)
            self._show_error(f"Not applied: {exc}. The previous value stays in effect.")
            return False
        self._store(value, delay)
        return True

    def _typed_done(self) -> None:
        assert self.edit is not None
        if self._typed(self.edit.text(), FAST_MS):
            self._before_edit = self._value
            if self.edit.text() != self._value:
                self.edit.setText(self._value)  # show the value as the engine reads it ("0.50" → "0.5")


class EngineOptionsPanel(QWidget):
    """The advanced options of one engine."""

    edited = Signal(int)

    def __init__(self, engine_id: str, current: EngineSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine_id = engine_id
        name = engine_name(engine_id)
        specs = engine_option_specs(engine_id)
        self.fields: dict[str, OptionField] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if specs is None:
            layout.addWidget(note_label(f"{name} is not installed here, so its advanced settings are not known."))
        elif not specs:
            layout.addWidget(note_label(f"{name} has no advanced settings."))
        else:
            layout.addWidget(
                note_label(
                    f"Settings of {name} that most people never change. Leave a field empty for the "
                    "engine's default. Changes apply to the running captions at once (live when the engine "
                    "can, otherwise by a seamless restart)."
                )
            )
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for spec in specs:
                field = OptionField(engine_id, spec, current.extra.get(spec.key, ""))
                field.changed.connect(self.edited)
                self.fields[spec.key] = field
                if spec.kind == "bool":
                    form.addRow(field)
                else:
                    label = QLabel(spec.label + ":")
                    label.setBuddy(field.widget)
                    form.addRow(label, field)
            layout.addLayout(form)
            for field in self.fields.values():
                field.changed.connect(lambda _delay: self.refresh_applicability())
            self.refresh_applicability()
            self.reset_button = QPushButton("Restore the defaults")
            self.reset_button.setAutoDefault(False)
            self.reset_button.setAccessibleName(f"Restore the default advanced settings of {name}")
            self.reset_button.clicked.connect(self.reset)
            row = QHBoxLayout()
            row.addWidget(self.reset_button)
            row.addStretch(1)
            layout.addLayout(row)
        layout.addStretch(1)

    def refresh_applicability(self) -> None:
        """Disable the fields that have no effect with the other values (e.g. a parameter the model does not take)."""
        values = {key: f.value() for key, f in self.fields.items()}
        for f in self.fields.values():
            applies = f.spec.applies(values)
            f.setEnabled(applies)
            f.widget.setAccessibleDescription(
                f.spec.help if applies else f"{f.spec.help} Has no effect with the current choices."
            )

    def values(self) -> dict[str, str]:
        """The options that are set (non-default), by key."""
        return {key: f.value() for key, f in self.fields.items() if f.value()}

    def reset(self) -> None:
        for f in self.fields.values():
            f.set_value("")

    def extra(self, existing: dict[str, str]) -> dict[str, str]:
        """``existing`` with the keys this panel shows replaced by what is set in it."""
        kept = {k: v for k, v in existing.items() if k not in self.fields}
        return {**kept, **self.values()}


class AdvancedPage(Page):
    title = "Ad&vanced"

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel()
        self.heading.setObjectName("advanced_heading")
        self.stack = QStackedWidget()
        self.panels: dict[str, EngineOptionsPanel] = {}
        for engine_id in registry.ENGINES:
            panel = EngineOptionsPanel(engine_id, settings.engine_settings(engine_id))
            panel.edited.connect(self.edited)
            self.panels[engine_id] = panel
            self.stack.addWidget(panel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.stack, 1)
        self.set_engine(settings.engine)

    def set_engine(self, engine_id: str) -> None:
        """Show the options of ``engine_id`` (the engine picked on the engine page)."""
        panel = self.panels.get(engine_id)
        if panel is None:
            return
        self.engine_id = engine_id
        self.stack.setCurrentWidget(panel)
        self.heading.setText(f"Advanced settings of {engine_name(engine_id)}")

    def panel(self, engine_id: str | None = None) -> EngineOptionsPanel:
        return self.panels[engine_id or self.engine_id]

    def apply(self, settings: Settings) -> Settings:
        engines = dict(settings.engines)
        for engine_id, panel in self.panels.items():
            if not panel.fields:
                continue
            current = engines.get(engine_id)
            existing = dict(current.extra) if current is not None else {}
            extra = panel.extra(existing)
            if extra == existing:
                continue
            engines[engine_id] = dataclasses.replace(current or EngineSettings(), extra=extra)
        return settings.with_changes(engines=engines)
