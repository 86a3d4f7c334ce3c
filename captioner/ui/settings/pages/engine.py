"""Engine page: the engine picker (every registered engine, with availability) and per-engine fields.

Credentials go to the OS keyring through :func:`captioner.secrets.store`, never
into :class:`~captioner.settings.Settings` or any file; the fields never show a stored
secret, only where one comes from. Without a system keyring the page says so in plain
words and offers "Use for this session only" (kept in memory, never written) next to
the environment variable.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from captioner import secrets
from captioner.engines import registry
from captioner.settings import EngineSettings, Settings
from captioner.ui.settings.pages.common import (
    FAST_MS,
    TEXT_MS,
    Page,
    availability_sentence,
    engine_availability,
    engine_capabilities,
    note_label,
)

FIELD_LABELS = {
    "api_key": "API &key:",
    "client_id": "Client &ID:",
    "client_secret": "Client &secret:",
    "username": "User na&me (if any):",
    "password": "Pass&word (if any):",
    "token": "Access &token (optional):",
}
SECRET_FIELDS = {"api_key", "client_secret", "password", "token"}


class CredentialField(QWidget):
    """One secret: typed in, stored in the keyring when editing finishes (or kept for this session only when
    there is no keyring and the user asks for it); the stored value is never shown."""

    stored = Signal()

    def __init__(self, engine_id: str, field: str, env_var: str, status: QLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine_id, self.field, self.env_var = engine_id, field, env_var
        self._status = status
        self.no_keyring = not secrets.keyring_available()
        self.label = FIELD_LABELS.get(field, field).replace("&", "").rstrip(":").replace(" (optional)", "")
        self.edit = QLineEdit()
        self.edit.setObjectName(f"{engine_id}_{field}")
        self.edit.setAccessibleName(f"{self.label} ({engine_id})")
        if field in SECRET_FIELDS:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.editingFinished.connect(self.commit)
        self.session_button = QPushButton("Use &for this session only")
        self.session_button.setAutoDefault(False)
        self.session_button.setToolTip("Kept in memory until Captioner quits; never written to disk")
        self.session_button.setAccessibleName(f"Use the {self.label} for this session only")
        self.session_button.setEnabled(False)
        self.session_button.clicked.connect(self.use_for_session)
        self.edit.textChanged.connect(lambda text: self.session_button.setEnabled(bool(text.strip())))
        self.clear_button = QPushButton("Forget")
        self.clear_button.setAutoDefault(False)
        self.clear_button.setAccessibleName(f"Forget the {self.label}")
        self.clear_button.clicked.connect(self.forget)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.session_button)
        row.addWidget(self.clear_button)
        self.setFocusProxy(self.edit)
        self._refresh()

    def _refresh(self) -> None:
        where = secrets.where(self.engine_id, self.field)
        placeholders = {
            "session": "kept for this session only; type to replace",
            "keyring": "saved in the system keyring; type to replace",
            "environment": f"taken from {self.env_var}; type to use another",
        }
        self.edit.setPlaceholderText(
            placeholders.get(where) or (f"not set (or set {self.env_var})" if self.env_var else "not set")
        )
        self.clear_button.setEnabled(where in ("session", "keyring"))
        self.session_button.setVisible(self.no_keyring)

    def commit(self) -> bool:
        """Store what was typed (if anything) in the keyring; clear the field if it was stored.

        Without a keyring nothing is stored: the text stays for "Use for this session only".
        """
        value = self.edit.text().strip()
        if not value:
            return False
        if self.no_keyring:
            self._say_no_keyring()
            return False
        ok = self._store(value)
        if ok:
            self.edit.clear()
        return ok

    def use_for_session(self) -> None:
        """Keep what was typed in memory for this session only (never written anywhere)."""
        value = self.edit.text().strip()
        if not value:
            return
        secrets.keep_for_session(self.engine_id, self.field, value)
        self.edit.clear()
        self._status.setProperty("error", False)
        self._status.setStyleSheet("")
        self._status.setText(
            f"{self.label} kept for this session only: in memory, never written to disk, forgotten when "
            "Captioner quits."
        )
        self._refresh()
        self.stored.emit()

    def forget(self) -> None:
        had_session = secrets.where(self.engine_id, self.field) == "session"
        secrets.keep_for_session(self.engine_id, self.field, None)
        if self.no_keyring:
            self._status.setText(f"{self.label} forgotten." if had_session else "")
            self._refresh()
            self.stored.emit()
            return
        self._store(None)

    def _say_no_keyring(self) -> None:
        env = f" or set {self.env_var} before starting Captioner" if self.env_var else ""
        self._status.setText(
            f"{secrets.NO_KEYRING}. Use it for this session only (kept in memory, never written to disk){env}."
        )
        self._status.setProperty("error", True)
        self._status.setStyleSheet("color: #b3261e;")

    def _store(self, value: str | None) -> bool:
        try:
            secrets.store(self.engine_id, self.field, value)
        except secrets.SecretStoreError:
            self.no_keyring = True  # a keyring that is configured but does not work (no D-Bus session…)
            self._refresh()
            self._say_no_keyring()
            return False
        self._status.setProperty("error", False)
        self._status.setStyleSheet("")
        self._status.setText(
            f"{self.label} saved in the system keyring." if value else f"{self.label} removed from the keyring."
        )
        self._refresh()
        self.stored.emit()
        return True


class EnginePanel(QWidget):
    """Fields of one engine: availability, language, endpoint, credentials."""

    edited = Signal(int)
    credentials_stored = Signal(str)

    def __init__(self, engine_id: str, current: EngineSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.engine_id = engine_id
        info = registry.ENGINES[engine_id]
        self._initial = current
        caps = engine_capabilities(engine_id)

        self.description = note_label(info.description, name=f"{engine_id}_description")
        self.availability = note_label(name=f"{engine_id}_availability")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.language = QComboBox()
        self.language.setObjectName(f"{engine_id}_language")
        self.language.setAccessibleName(f"Language ({info.name})")
        languages = caps.languages if caps else ()
        self.language.setEditable(not languages)
        self.language.addItem("Engine default", "")
        for code in languages:
            self.language.addItem(code, code)
        if current.language and self.language.findData(current.language) < 0:
            self.language.addItem(current.language, current.language)
        self.language.setCurrentIndex(max(0, self.language.findData(current.language)))
        if self.language.isEditable():
            self.language.setToolTip("A language code such as en or fr; leave empty for the engine's default")
            edit = self.language.lineEdit()
            assert edit is not None
            edit.textEdited.connect(lambda _t: self.edited.emit(TEXT_MS))
        self.language.activated.connect(lambda _i: self.edited.emit(FAST_MS))
        form.addRow("&Language:", self.language)

        self.endpoint = QLineEdit(current.endpoint)
        self.endpoint.setObjectName(f"{engine_id}_endpoint")
        self.endpoint.setAccessibleName(f"Endpoint or region ({info.name})")
        self.endpoint.setPlaceholderText("default server")
        self.endpoint.setToolTip("Override the engine's server, e.g. a regional endpoint")
        self.endpoint.textEdited.connect(lambda _t: self.edited.emit(TEXT_MS))
        if secrets.fields_for(engine_id):  # a cloud engine (offline engines have no server)
            form.addRow("En&dpoint / region:", self.endpoint)
        else:
            self.endpoint.hide()

        self.secret_status = note_label(name=f"{engine_id}_secret_status")
        self.credentials: dict[str, CredentialField] = {}
        fields = secrets.fields_for(engine_id)
        if fields:
            box = QGroupBox(
                "Credentials (kept in the system keyring, never in the settings file)"
                if secrets.keyring_available()
                else "Credentials (never written to the settings file or any other file)"
            )
            creds_form = QFormLayout(box)
            for field, env in fields.items():
                cf = CredentialField(engine_id, field, env, self.secret_status)
                cf.stored.connect(lambda e=engine_id: self.credentials_stored.emit(e))
                self.credentials[field] = cf
                creds_form.addRow(FIELD_LABELS.get(field, field), cf)
            creds_form.addRow(self.secret_status)
            if any(cf.no_keyring for cf in self.credentials.values()):
                env = " and ".join(v for f, v in fields.items() if f != "token")
                self.secret_status.setText(
                    f"{secrets.NO_KEYRING}. Type it and press “Use for this session only” (kept in memory, "
                    f"never written to disk), or set {env} before starting Captioner."
                )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.description)
        layout.addWidget(self.availability)
        layout.addLayout(form)
        if fields:
            layout.addWidget(box)
        if caps and caps.notes:
            layout.addWidget(note_label(caps.notes, name=f"{engine_id}_notes"))
        layout.addStretch(1)
        self.refresh_availability()

    def refresh_availability(self) -> tuple[bool, str]:
        ok, sentence = availability_sentence(self.engine_id)
        self.availability.setText(sentence)
        self.availability.setStyleSheet("" if ok else "color: #b3261e;")
        return ok, sentence

    def engine_settings(self) -> EngineSettings:
        if self.language.isEditable():
            language = self.language.currentText().strip()
            if language == "Engine default":
                language = ""
        else:
            language = str(self.language.currentData() or "")
        return dataclasses.replace(self._initial, language=language, endpoint=self.endpoint.text().strip())

    def commit_credentials(self) -> None:
        for cf in self.credentials.values():
            cf.commit()

    def refresh_credentials(self) -> None:
        """Show again whether each secret is saved (engines of one account share them, e.g. both Uhlive engines)."""
        for cf in self.credentials.values():
            cf._refresh()


class EnginePage(Page):
    title = "E&ngine"
    engine_selected = Signal(str)
    credentials_changed = Signal(str)
    """An engine's credentials were saved, kept for the session or forgotten (the engine id)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picker = QComboBox()
        self.picker.setObjectName("engine_picker")
        self.picker.setAccessibleName("Captioning engine")
        self.stack = QStackedWidget()
        self.panels: dict[str, EnginePanel] = {}
        for engine_id, info in registry.ENGINES.items():
            panel = EnginePanel(engine_id, settings.engine_settings(engine_id))
            panel.edited.connect(self.edited)
            panel.credentials_stored.connect(self._credentials_stored)
            self.panels[engine_id] = panel
            self.stack.addWidget(panel)
            self.picker.addItem(info.name, engine_id)
        self._present = set(settings.engines)
        self._refresh_picker_labels()
        index = self.picker.findData(settings.engine)
        self.picker.setCurrentIndex(max(0, index))
        self.stack.setCurrentWidget(self.panels[self.engine_id()])
        self.picker.currentIndexChanged.connect(self._picked)

        form = QFormLayout()
        form.addRow("Captioning &engine:", self.picker)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.stack, 1)

    def _refresh_picker_labels(self) -> None:
        for i in range(self.picker.count()):
            engine_id = self.picker.itemData(i)
            ok, sentence = availability_sentence(engine_id)
            name = registry.ENGINES[engine_id].name
            usable, _why = engine_availability(engine_id)
            suffix = "" if ok else " (needs a key)" if usable else " (not available)"
            self.picker.setItemText(i, name + suffix)
            self.picker.setItemData(i, sentence, Qt.ItemDataRole.ToolTipRole)

    def _credentials_stored(self, engine_id: str) -> None:
        for panel in self.panels.values():
            panel.refresh_credentials()
        self.panels[engine_id].refresh_availability()
        self._refresh_picker_labels()
        self.credentials_changed.emit(engine_id)  # the app may now be able to start the engine

    def _picked(self, _index: int) -> None:
        panel = self.panels[self.engine_id()]
        self.stack.setCurrentWidget(panel)
        self.engine_selected.emit(self.engine_id())
        self.edited.emit(FAST_MS)

    def engine_id(self) -> str:
        return str(self.picker.currentData())

    def apply(self, settings: Settings) -> Settings:
        engines = dict(settings.engines)
        for engine_id, panel in self.panels.items():
            es = panel.engine_settings()
            if engine_id in self._present or es != EngineSettings():
                engines[engine_id] = es
        return settings.with_changes(engine=self.engine_id(), engines=engines)

    def close_page(self) -> None:
        for panel in self.panels.values():
            panel.commit_credentials()
