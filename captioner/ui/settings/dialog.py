"""The settings panel: a normal, keyboard-operable window of tabbed pages.

``settings_changed`` carries a new :class:`~captioner.settings.Settings` as the
user edits (debounced: text fields wait until typing pauses, other controls
coalesce bursts such as a held arrow key). ``settings()`` is always current.
Secrets never pass through here: the engine page stores them in the keyring.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QHideEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QTabWidget, QVBoxLayout, QWidget

from captioner.settings import Settings, clamp
from captioner.ui.settings.level_meter import LevelMonitor
from captioner.ui.settings.pages.advanced import AdvancedPage
from captioner.ui.settings.pages.appearance import AppearancePage
from captioner.ui.settings.pages.audio import AudioPage
from captioner.ui.settings.pages.captions import CaptionsPage
from captioner.ui.settings.pages.common import Page
from captioner.ui.settings.pages.engine import EnginePage
from captioner.ui.settings.pages.feed import FeedPage
from captioner.ui.settings.pages.overlay import OverlayPage


class SettingsDialog(QDialog):
    settings_changed = Signal(object)
    """A new :class:`Settings`, emitted live as the user edits."""
    appearance_changed = Signal(object)
    """The :class:`Appearance` as edited, at once (no debounce), for a live overlay preview."""
    credentials_changed = Signal(str)
    """An engine's credentials were saved, kept for the session or forgotten (the engine id; never a secret)."""

    def __init__(
        self, settings: Settings, parent: QWidget | None = None, *, level_monitor: LevelMonitor | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Captioner settings")
        self.setObjectName("settings_dialog")
        self.setAccessibleName("Captioner settings")
        self.setSizeGripEnabled(True)
        self._base = settings
        self._last_emitted = settings

        self.engine_page = EnginePage(settings)
        self.audio_page = AudioPage(settings, monitor=level_monitor)
        self.captions_page = CaptionsPage(settings)
        self.appearance_page = AppearancePage(settings)
        self.overlay_page = OverlayPage(settings)
        self.feed_page = FeedPage(settings)
        self.advanced_page = AdvancedPage(settings)  # after the engine page: it sets each engine's extra
        self.pages: list[Page] = [
            self.engine_page,
            self.audio_page,
            self.captions_page,
            self.appearance_page,
            self.overlay_page,
            self.feed_page,
            self.advanced_page,
        ]
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Settings sections")
        self.tabs.tabBar().setAccessibleName("Settings sections")
        for page in self.pages:
            self.tabs.addTab(page, page.title)
            page.edited.connect(self._schedule)

        self.engine_page.engine_selected.connect(self.captions_page.set_engine)
        self.engine_page.engine_selected.connect(self.advanced_page.set_engine)
        self.engine_page.engine_selected.connect(self.audio_page.set_engine)
        self.appearance_page.appearance_changed.connect(self.appearance_changed)
        self.engine_page.credentials_changed.connect(self.credentials_changed)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

        close = QPushButton("Close")
        close.setAutoDefault(False)
        close.clicked.connect(self.close)
        self.close_button = close
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)

        # Ctrl+Tab / Ctrl+Shift+Tab switch tabs (QTabWidget does this); Ctrl+PgDown/PgUp too.
        QShortcut(QKeySequence("Ctrl+PgDown"), self, lambda: self._step_tab(1))
        QShortcut(QKeySequence("Ctrl+PgUp"), self, lambda: self._step_tab(-1))
        self.resize(640, 620)

    # -- settings --------------------------------------------------------------------------
    def settings(self) -> Settings:
        """The settings as edited now."""
        s = self._base
        for page in self.pages:
            s = page.apply(s)
        return clamp(s)

    def set_settings(self, settings: Settings) -> None:
        """Take changes made elsewhere: overlay geometry, click-through toggled from the tray, the number of
        lines changed by resizing the overlay, the source picked in the tray menu. Other edits waiting in the
        panel are kept."""
        look = self.appearance_page
        if look.appearance().lines != settings.appearance.lines:
            look.set_appearance(dataclasses.replace(look.appearance(), lines=settings.appearance.lines), emit=False)
        page = self.overlay_page
        for box, value in (
            (page.click_through, settings.overlay.click_through),
            (page.visible, settings.overlay.visible),
        ):
            box.blockSignals(True)
            box.setChecked(value)
            box.blockSignals(False)
        if settings.source != self.audio_page.source():
            self.audio_page.set_source(settings.source, settings.device)
        self._base = dataclasses.replace(self._base, overlay=settings.overlay)
        self._last_emitted = self.settings()

    def _schedule(self, delay_ms: int) -> None:
        self._timer.start(delay_ms)

    def flush(self) -> None:
        """Emit ``settings_changed`` now if anything changed since the last emission."""
        self._timer.stop()
        current = self.settings()
        if current != self._last_emitted:
            self._last_emitted = current
            self.settings_changed.emit(current)

    def _step_tab(self, step: int) -> None:
        self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    # -- closing ---------------------------------------------------------------------------
    def _closing(self) -> None:
        for page in self.pages:
            page.close_page()
        self.flush()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closing()
        super().closeEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        # Esc (reject) hides without a close event: stop the level test and flush there too.
        self._closing()
        super().hideEvent(event)
