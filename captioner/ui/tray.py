"""The tray icon and its menu, and a small control window for desktops without a tray.

The menu's actions are the app's commands (start/stop, show/hide captions,
click-through, settings, transcript, quit); the app connects them. The
click-through action also has a keyboard shortcut (Ctrl+Shift+L) that works
whenever any Captioner window has focus, so there is always a way back from
click-through even when the captions cannot be clicked.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QSizePolicy, QSystemTrayIcon, QToolButton, QVBoxLayout, QWidget

from captioner.ui import icons

CLICK_THROUGH_SHORTCUT = "Ctrl+Shift+L"

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
        self.menu.addSeparator()
        self.start_action = action("Start captions", "Ctrl+Shift+S")
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
        self.status_action.setText(_shorten(message or state.capitalize()))
        self.status_action.setToolTip(message or state.capitalize())  # the whole message, never cut
        if self.icon is not None:
            self.icon.setIcon(icons.icon(self.state))
            self.icon.setToolTip(f"Captioner — {message or state}")

    def set_running(self, running: bool) -> None:
        self.start_action.setText("Stop captions" if running else "Start captions")

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay_action.setChecked(visible)

    def set_click_through(self, on: bool) -> None:
        self.click_through_action.setChecked(on)

    def offer_last_transcript(self, lines: int) -> None:
        self.last_transcript_action.setText(f"Last session's transcript ({lines} lines)…")
        self.last_transcript_action.setVisible(lines > 0)

    def notify(self, title: str, message: str, error: bool = False) -> bool:
        """A desktop notification; False when there is no tray to show it."""
        if self.icon is None or not QSystemTrayIcon.supportsMessages():
            return False
        kind = QSystemTrayIcon.MessageIcon.Critical if error else QSystemTrayIcon.MessageIcon.Information
        self.icon.showMessage(title, message, kind, 10000)
        return True


def _shorten(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ControlWindow(QWidget):
    """What the tray menu offers, as a small normal window (desktops without a tray, e.g. GNOME by default)."""

    def __init__(self, tray: Tray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Captioner")
        self.setWindowIcon(icons.app_icon())
        box = QVBoxLayout(self)
        self.status = QLabel(tray.status_action.toolTip() or tray.status_action.text())
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.status)
        tray.status_action.changed.connect(lambda: self._show_status(tray.status_action))
        self.buttons: list[QToolButton] = []
        for a in [*tray.actions()[:3], tray.top_action, tray.bottom_action, *tray.actions()[3:]]:
            b = QToolButton(self)
            b.setDefaultAction(a)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            box.addWidget(b)
            self.buttons.append(b)
        self.addActions(tray.actions())

    def _show_status(self, action: QAction) -> None:
        # The full message (the tray menu shows it shortened), and room for it.
        self.status.setText(action.toolTip() or action.text())
        self.adjustSize()
