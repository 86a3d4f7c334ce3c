"""Overlay and start-up page: position preset, click-through and its shortcut, XWayland fallback, start-up.

The click-through shortcut is one key combination (Qt's portable text in the settings); one without Ctrl,
Alt or Super is refused with a message, and the previous one stays. Whether it works while other
applications have the focus is the app's to say (:meth:`OverlayPage.set_shortcut_status`). The XWayland
choice is offered only in a Wayland session, where it means something.
"""

from __future__ import annotations

import dataclasses
import os

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QKeySequenceEdit,
    QVBoxLayout,
    QWidget,
)

from captioner.settings import Settings
from captioner.ui.hotkey import ShortcutStatus, parse_shortcut
from captioner.ui.settings.pages.common import FAST_MS, Page, note_label

ERROR_STYLE = "color: #b3261e;"

POSITIONS = (("bottom", "Bottom, centred"), ("top", "Top, centred"), ("custom", "Where I drag it"))


def wayland_session() -> bool:
    """True when the desktop session is Wayland (whatever platform plugin Qt uses now)."""
    return (
        QGuiApplication.platformName() == "wayland"
        or bool(os.environ.get("WAYLAND_DISPLAY"))
        or os.environ.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    )


class OverlayPage(Page):
    title = "&Overlay"
    recording_shortcut = Signal(bool)
    """The shortcut field took (True) or lost (False) the keyboard focus: it is recording keys."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        o = settings.overlay
        self.position = QComboBox()
        self.position.setAccessibleName("Overlay position")
        for key, text in POSITIONS:
            self.position.addItem(text, key)
        self.position.setCurrentIndex(max(0, self.position.findData(o.position)))
        self.click_through = QCheckBox("Clic&k-through: mouse clicks pass to the window below")
        self.click_through.setChecked(o.click_through)
        self.click_through.setToolTip("Turn it off again with the shortcut below, or from the tray menu")
        self._shortcut = o.click_through_shortcut
        self.shortcut = QKeySequenceEdit(QKeySequence.fromString(o.click_through_shortcut))
        self.shortcut.setMaximumSequenceLength(1)
        self.shortcut.setClearButtonEnabled(True)
        self.shortcut.setAccessibleName("Shortcut that turns click-through on and off")
        self.shortcut.editingFinished.connect(self._shortcut_edited)
        self.shortcut.installEventFilter(self)
        self.shortcut.keySequenceChanged.connect(self._shortcut_changed)
        self.shortcut_note = note_label(name="shortcut_note")
        self.visible = QCheckBox("Show the o&verlay")
        self.visible.setChecked(o.visible)
        self.xwayland = QCheckBox("Use &XWayland (restart needed)")
        self.xwayland.setChecked(o.force_xwayland)
        if wayland_session():
            why = (
                "This is a Wayland session: Wayland does not let ordinary windows stay on top or choose their "
                "position. Click-through works. With XWayland the overlay can stay on top and be placed where "
                "you want; it takes effect the next time Captioner starts."
            )
        else:
            why = "Only matters on Wayland desktops, where it lets the overlay stay on top and keep its position."
        self.xwayland_note = note_label(why, name="xwayland_note")

        self.autostart = QCheckBox("Start &captioning when the app starts")
        self.autostart.setChecked(settings.autostart_captions)
        self.offer_last = QCheckBox("Offer the last session's transcript at start-&up")
        self.offer_last.setChecked(settings.offer_last_transcript)

        overlay_box = QGroupBox("Caption overlay")
        form = QFormLayout(overlay_box)
        form.addRow("Po&sition:", self.position)
        form.addRow(self.visible)
        form.addRow(self.click_through)
        form.addRow("Click-through s&hortcut:", self.shortcut)
        form.addRow(self.shortcut_note)
        form.addRow(self.xwayland)
        form.addRow(self.xwayland_note)
        for widget in (self.xwayland, self.xwayland_note):
            form.setRowVisible(widget, wayland_session())  # on X11, Windows and macOS it means nothing
        start_box = QGroupBox("Start-up")
        start_layout = QVBoxLayout(start_box)
        start_layout.addWidget(self.autostart)
        start_layout.addWidget(self.offer_last)
        layout = QVBoxLayout(self)
        layout.addWidget(overlay_box)
        layout.addWidget(start_box)
        layout.addStretch(1)

        self.position.activated.connect(lambda _i: self.edited.emit(FAST_MS))
        for box in (self.click_through, self.visible, self.xwayland, self.autostart, self.offer_last):
            box.toggled.connect(lambda _on: self.edited.emit(FAST_MS))

    def shortcut_text(self) -> str:
        """The shortcut in effect (portable text; "" for none)."""
        return self._shortcut

    def set_shortcut_status(self, status: ShortcutStatus) -> None:
        """What the shortcut does on this desktop, in the app's words."""
        self.shortcut_note.setStyleSheet("")
        self.shortcut_note.setText(status.message)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.shortcut and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self.recording_shortcut.emit(event.type() == QEvent.Type.FocusIn)
        return super().eventFilter(watched, event)

    def _shortcut_changed(self, seq: QKeySequence) -> None:
        if seq.isEmpty():  # the clear button: no shortcut (editingFinished does not come)
            self._shortcut_edited()

    def _shortcut_edited(self) -> None:
        text = self.shortcut.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
        try:
            parse_shortcut(text)
        except ValueError as exc:
            self.shortcut_note.setStyleSheet(ERROR_STYLE)
            self.shortcut_note.setText(f"Not applied: {exc}. The previous shortcut stays in effect.")
            return
        if text != self._shortcut:
            self._shortcut = text
            self.edited.emit(FAST_MS)

    def apply(self, settings: Settings) -> Settings:
        overlay = dataclasses.replace(
            settings.overlay,
            position=str(self.position.currentData()),
            click_through=self.click_through.isChecked(),
            visible=self.visible.isChecked(),
            force_xwayland=self.xwayland.isChecked(),
            click_through_shortcut=self._shortcut,
        )
        return settings.with_changes(
            overlay=overlay,
            autostart_captions=self.autostart.isChecked(),
            offer_last_transcript=self.offer_last.isChecked(),
        )
