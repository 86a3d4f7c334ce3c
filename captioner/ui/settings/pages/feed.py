"""Caption feed page: serve the captions to other apps (an OBS browser source, a browser tab, a program).

The switch, who may connect (this computer, or the local network too, with a warning) and the port are
settings; the links come from the running feed (:class:`~captioner.ui.feed_host.FeedState`, given with
:meth:`FeedPage.set_state`), with buttons to copy them and to open the pages in the browser.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from captioner.feed.security import is_loopback
from captioner.settings import Settings
from captioner.ui.feed_host import FeedState
from captioner.ui.settings.pages.common import FAST_MS, TEXT_MS, Page, note_label

WHO = (("127.0.0.1", "This computer only"), ("0.0.0.0", "This computer and other devices on my network"))

NETWORK_WARNING = (
    "Anyone on your network who has the link (it carries a secret access code) can read your captions. "
    "Share it only with people and devices you trust."
)
OBS_HINT = (
    "In OBS: Sources → + → Browser, paste the caption page's link as the URL, and set the width and height "
    "of the area the captions may use (e.g. 1920 × 300). The page looks like the overlay; options in the "
    "link's query change that, e.g. size=48 for bigger text or lines=3 for three lines."
)


class _Link(QWidget):
    """A read-only link with Copy and Open buttons."""

    def __init__(self, name: str, mnemonic_copy: str, mnemonic_open: str) -> None:
        super().__init__()
        self.field = QLineEdit()
        self.field.setReadOnly(True)
        self.field.setObjectName(f"{name}_url")
        self.field.setAccessibleName(f"{name.replace('_', ' ')} link")
        self.copy = QPushButton(mnemonic_copy)
        self.copy.setAccessibleName(f"Copy the {name.replace('_', ' ')} link")
        self.open = QPushButton(mnemonic_open)
        self.open.setAccessibleName(f"Open the {name.replace('_', ' ')} in the browser")
        for button in (self.copy, self.open):
            button.setAutoDefault(False)
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.field.text()))
        self.open.clicked.connect(lambda: QDesktopServices.openUrl(QUrl(self.field.text())))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.field, 1)
        row.addWidget(self.copy)
        row.addWidget(self.open)

    def set_url(self, url: str) -> None:
        self.field.setText(url)
        self.field.setCursorPosition(0)  # show where the link goes, not the end of its token
        self.field.setPlaceholderText("" if url else "turn the feed on to get its link")
        self.copy.setEnabled(bool(url))
        self.open.setEnabled(bool(url))


class FeedPage(Page):
    title = "Caption &feed"

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        f = settings.feed
        self.enabled = QCheckBox("&Serve the captions to other apps: OBS, a browser, a second screen")
        self.enabled.setChecked(f.enabled)
        self.who = QComboBox()
        self.who.setAccessibleName("Who may connect")
        for host, text in WHO:
            self.who.addItem(text, host)
        index = self.who.findData(f.host)
        if index < 0:  # an address set by hand in the settings file
            self.who.addItem(f"Address {f.host}", f.host)
            index = self.who.count() - 1
        self.who.setCurrentIndex(index)
        self.port = QSpinBox()
        self.port.setRange(1024, 65535)
        self.port.setValue(max(1024, f.port))
        self.port.setAccessibleName("Port")
        self.warning = note_label(NETWORK_WARNING, name="feed_warning")
        self.warning.setStyleSheet("color: #8a5300;")
        self.caption_link = _Link("caption_page", "&Copy", "O&pen")
        self.transcript_link = _Link("transcript_page", "Cop&y", "Ope&n")
        self.status = note_label(name="feed_status")
        self.hint = note_label(OBS_HINT, name="feed_hint")

        box = QGroupBox("Caption feed")
        form = QFormLayout(box)
        form.addRow(self.enabled)
        form.addRow("&Who may connect:", self.who)
        form.addRow("Po&rt:", self.port)
        form.addRow(self.warning)
        form.addRow("Caption page:", self.caption_link)
        form.addRow("Transcript page:", self.transcript_link)
        form.addRow(self.status)
        form.addRow(self.hint)
        layout = QVBoxLayout(self)
        layout.addWidget(box)
        layout.addStretch(1)

        self.enabled.toggled.connect(lambda _on: self.edited.emit(FAST_MS))
        self.who.currentIndexChanged.connect(lambda _i: self._update_warning())
        self.who.activated.connect(lambda _i: self.edited.emit(FAST_MS))
        self.port.valueChanged.connect(lambda _v: self.edited.emit(TEXT_MS))
        self._update_warning()
        self.set_state(FeedState())

    def _update_warning(self) -> None:
        self.warning.setVisible(not is_loopback(str(self.who.currentData())))

    def set_state(self, state: FeedState) -> None:
        """Show what the running feed says: its links, or why it is off."""
        self.caption_link.set_url(state.caption_url)
        self.transcript_link.set_url(state.transcript_url)
        message = state.message
        if state.running and state.beyond_loopback and not state.token_kept:
            message += " No keyring is available, so the link changes each time Captioner starts."
        self.status.setText(message)

    def apply(self, settings: Settings) -> Settings:
        feed = dataclasses.replace(
            settings.feed,
            enabled=self.enabled.isChecked(),
            host=str(self.who.currentData()),
            port=self.port.value(),
        )
        return settings.with_changes(feed=feed)
