"""The tray icon and its menu, and a small control window for desktops without a tray.

The menu's actions are the app's commands (start/stop, the source — microphone, system audio or both —,
show/hide captions, click-through, settings, transcript, quit); the app connects them, and adds them to its
windows (the overlay's context menu is this menu). The click-through action also has a keyboard shortcut
(Ctrl+Shift+L) that works whenever any Captioner window has focus, so there is always a way back from
click-through even when the captions cannot be clicked.

The status at the top of the menu is never cut off: a long message is wrapped over as many lines as it
needs (menus cannot wrap text themselves), and the icon's tooltip, the notifications and the control
window carry it whole.
"""

from __future__ import annotations

import textwrap

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QSizePolicy, QSystemTrayIcon, QToolButton, QVBoxLayout, QWidget

from captioner.ui import icons

CLICK_THROUGH_SHORTCUT = "Ctrl+Shift+L"
STATUS_LINE_CHARS = 60
"""Characters per line of the status in the menu: a long message takes several lines, never "…"."""
SOURCE_TEXTS = {
    "mic": "Caption the &microphone",
    "system": "Caption s&ystem audio (what the computer plays)",
    "both": "Caption micro&phone and system audio (a meeting: You and Others)",
}

_TRAY_STATE = {
    "listening": "listening",
    "connecting": "listening",
    "reconnecting": "error",
    "degraded": "listening",
    "error": "error",
}


class Tray(QObject):
    """Tray icon + menu. Falls back gracefully (``available`` False) when the desktop has no tray."""

    message_clicked = Signal()
    source_chosen = Signal(str)
    """"mic", "system" or "both" (meeting mode), picked in the menu."""
    status_changed = Signal(str, str)
    """(state, the whole message)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = QMenu()
        self.menu.setTitle("Captioner")

        def action(text: str, shortcut: str | None = None, checkable: bool = False) -> QAction:
            a = QAction(text, self.menu)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
                a.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            a.setCheckable(checkable)
            self.menu.addAction(a)
            return a

        self.status_action = action("Not captioning")
        self.status_action.setEnabled(False)
        self._status_more: list[QAction] = []  # the status's further lines
        self._status_end = self.menu.addSeparator()
        self.start_action = action("Start captions", "Ctrl+Shift+S")
        self.source_group = QActionGroup(self.menu)
        self.source_group.setExclusive(True)
        self.source_actions: dict[str, QAction] = {}
        for source, text in SOURCE_TEXTS.items():
            a = action(text, checkable=True)
            a.setActionGroup(self.source_group)
            a.triggered.connect(lambda _checked=False, s=source: self.source_chosen.emit(s))
            self.source_actions[source] = a
        self.mic_action, self.system_action = self.source_actions["mic"], self.source_actions["system"]
        self.both_action = self.source_actions["both"]
        self.menu.addSeparator()
        self.overlay_action = action("Show captions", "Ctrl+Shift+H", checkable=True)
        self.click_through_action = action(
            "Click-through (mouse passes through captions)", CLICK_THROUGH_SHORTCUT, True
        )
        self.position_menu = self.menu.addMenu("Position")
        self.top_action = QAction("Top of the screen", self.position_menu)
        self.bottom_action = QAction("Bottom of the screen", self.position_menu)
        self.position_menu.addActions([self.top_action, self.bottom_action])
        self.menu.addSeparator()
        self.settings_action = action("Settings…", "Ctrl+,")
        self.transcript_action = action("Transcript…", "Ctrl+Shift+T")
        self.last_transcript_action = action("Last session's transcript…")
        self.last_transcript_action.setVisible(False)
        self.menu.addSeparator()
        self.quit_action = action("Quit Captioner", "Ctrl+Q")

        self.available = QSystemTrayIcon.isSystemTrayAvailable()
        self.icon: QSystemTrayIcon | None = None
        self.state = "idle"
        if self.available:
            self.icon = QSystemTrayIcon(icons.icon("idle"), self)
            self.icon.setContextMenu(self.menu)
            self.icon.setToolTip("Captioner")
            self.icon.activated.connect(self._activated)
            self.icon.messageClicked.connect(self.message_clicked)

    def actions(self) -> list[QAction]:
        """Every command, for adding to windows so their shortcuts work there."""
        return [
            self.start_action,
            self.mic_action,
            self.system_action,
            self.both_action,
            self.overlay_action,
            self.click_through_action,
            self.settings_action,
            self.transcript_action,
            self.quit_action,
        ]

    def show(self) -> None:
        if self.icon is not None:
            self.icon.show()

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.overlay_action.trigger()  # a left click shows/hides the captions

    # -- state ---------------------------------------------------------------------------------
    def set_state(self, state: str, message: str) -> None:
        self.state = _TRAY_STATE.get(state, "idle")
        whole = message or state.capitalize()
        lines = status_lines(whole)
        while len(self._status_more) < len(lines) - 1:
            extra = QAction(self.menu)
            extra.setEnabled(False)
            self.menu.insertAction(self._status_end, extra)
            self._status_more.append(extra)
        while len(self._status_more) > len(lines) - 1:
            extra = self._status_more.pop()
            self.menu.removeAction(extra)
            extra.deleteLater()
        for a, text in zip([self.status_action, *self._status_more], lines, strict=True):
            a.setText(text.replace("&", "&&"))
            a.setToolTip(whole)
        if self.icon is not None:
            self.icon.setIcon(icons.icon(self.state))
            self.icon.setToolTip(f"Captioner — {whole}")
        self.status_changed.emit(state, whole)

    def status_text(self) -> str:
        """The status as the menu shows it, its lines joined."""
        return " ".join(a.text().replace("&&", "&") for a in [self.status_action, *self._status_more])

    def set_source(self, source: str, file_name: str = "") -> None:
        """Check the source being captioned; while a file is captioned (``file_name``) neither can be picked."""
        for key, a in self.source_actions.items():
            a.setChecked(key == source and not file_name)
            a.setEnabled(not file_name)
            a.setToolTip(f"Captioning the file {file_name}" if file_name else "")

    def set_running(self, running: bool) -> None:
        self.start_action.setText("Stop captions" if running else "Start captions")

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_action.setChecked(visible)

    def set_click_through(self, on: bool) -> None:
        self.click_through_action.setChecked(on)

    def offer_last_transcript(self, lines: int) -> None:
        self.last_transcript_action.setText(f"Last session's transcript ({lines} lines)…")
        self.last_transcript_action.setVisible(lines > 0)

    def notify(self, title: str, message: str, error: bool = False, *, warning: bool = False) -> bool:
        """A desktop notification with the whole message; False when there is no tray to show it."""
        if self.icon is None or not QSystemTrayIcon.supportsMessages():
            return False
        icon = QSystemTrayIcon.MessageIcon
        kind = icon.Critical if error else icon.Warning if warning else icon.Information
        self.icon.showMessage(title, message, kind, 10000)
        return True


def status_lines(text: str, width: int = STATUS_LINE_CHARS) -> list[str]:
    """``text`` wrapped at word boundaries into lines of at most ``width`` characters (a longer word is split)."""
    return textwrap.wrap(text, width, break_on_hyphens=False) or [text]


class ControlWindow(QWidget):
    """What the tray menu offers, as a small normal window (desktops without a tray, e.g. GNOME by default)."""

    def __init__(self, tray: Tray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Captioner")
        self.setWindowIcon(icons.app_icon())
        box = QVBoxLayout(self)
        self.status = QLabel(tray.status_action.toolTip() or tray.status_action.text())
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName("Captioner status")
        box.addWidget(self.status)
        tray.status_changed.connect(self._show_status)
        self.buttons: list[QToolButton] = []
        commands = tray.actions()
        split = commands.index(tray.click_through_action) + 1
        for a in [*commands[:split], tray.top_action, tray.bottom_action, *commands[split:]]:
            b = QToolButton(self)
            b.setDefaultAction(a)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            box.addWidget(b)
            self.buttons.append(b)
        self.addActions(tray.actions())

    def _show_status(self, _state: str, message: str) -> None:
        # The whole message, wrapped, and room for it.
        self.status.setText(message)
        self.adjustSize()
