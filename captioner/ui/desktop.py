"""The desktop app's widgets wired together: controller, overlay, tray, settings panel and transcript window.

:class:`DesktopApp` builds the controller, the overlay and the tray, wires the settings panel and the
transcript window in, and persists the settings. Errors end up in the overlay's status row and as a tray
notification; they never end the app. :func:`captioner.settings.merge` keeps the settings panel's stale copy from
undoing what the overlay or the tray changed meanwhile. Started by :func:`captioner.app.main`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication, QKeySequence

from captioner import paths
from captioner import settings as settings_store
from captioner.captions.transcript import load_autosave
from captioner.settings import Settings
from captioner.ui.controller import CaptionController
from captioner.ui.feed_host import FeedHost
from captioner.ui.gc_guard import MainThreadCollector
from captioner.ui.hotkey import GlobalShortcut, ShortcutStatus
from captioner.ui.lifecycle import DaemonExecutor
from captioner.ui.overlay import CaptionOverlay
from captioner.ui.platform import describe
from captioner.ui.tray import ControlWindow, Tray

if TYPE_CHECKING:  # both windows are imported on first use, so that start-up does not pay for them
    from captioner.captions.transcript import Line
    from captioner.engines.base import Engine
    from captioner.session.build import SourceOpener
    from captioner.settings import Appearance, OverlaySettings
    from captioner.ui.settings.dialog import SettingsDialog
    from captioner.ui.transcript_window import TranscriptWindow

log = logging.getLogger(__name__)


class DesktopApp:
    """Everything the person sees, wired together. Create after the QApplication and the qasync loop."""

    def __init__(
        self,
        settings: Settings,
        *,
        source: str | None = None,
        realtime: bool = True,
        minimized: bool = False,
        exit_when_done: bool = False,
        engines: Mapping[str, type[Engine]] | None = None,
        opener: SourceOpener | None = None,
        persist: bool = True,
        settings_problem: str = "",
    ) -> None:
        self.settings = settings
        self.settings_problem = settings_problem
        """What was wrong with the settings file (it was kept aside; defaults are used): told once, at start."""
        self.persist = persist
        self.minimized = minimized
        self.exit_when_done = exit_when_done
        self.quit_requested = asyncio.Event()
        self.previous_autosave = paths.latest_autosave() if settings.offer_last_transcript else None

        self.controller = CaptionController(settings, source=source, realtime=realtime, engines=engines, opener=opener)
        self.feed = FeedHost(self.controller, settings)
        self.overlay = CaptionOverlay(settings.appearance, settings.overlay)
        self.shortcut = GlobalShortcut.for_platform()  # the way back from click-through, from any app
        self.tray = Tray()
        self.control_window: ControlWindow | None = None if self.tray.available else ControlWindow(self.tray)
        self.settings_dialog: SettingsDialog | None = None
        self._dialog_base: Settings = settings
        self.transcript_window: TranscriptWindow | None = None
        self.previous_lines: list[Line] = []
        self._last_error = ""

        self._save_timer = QTimer()
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(300)
        self._save_timer.timeout.connect(self.save_settings)
        self._wire()

    # -- wiring --------------------------------------------------------------------------------
    def _wire(self) -> None:
        c, ov, tray = self.controller, self.overlay, self.tray
        c.change.connect(ov.on_change)
        c.state_changed.connect(self._on_state)
        c.level.connect(ov.set_level)
        c.lag.connect(ov.set_lag)
        c.error.connect(self._on_error)
        c.trouble.connect(self._on_trouble)
        c.warning.connect(self._on_warning)
        c.notice.connect(lambda msg: ov.show_notice(msg))
        c.running_changed.connect(self._on_running)
        ov.overlay_settings_changed.connect(self._on_overlay_settings)
        ov.lines_changed.connect(self._on_overlay_lines)
        ov.click_through_changed.connect(tray.set_click_through)
        ov.set_menu(tray.menu)
        ov.addActions(tray.actions())  # their shortcuts work while any Captioner window has focus

        tray.start_action.triggered.connect(c.toggle)
        tray.source_chosen.connect(self.choose_source)
        tray.overlay_action.triggered.connect(self.set_overlay_visible)
        tray.click_through_action.triggered.connect(ov.set_click_through)
        tray.top_action.triggered.connect(lambda: ov.apply_position("top"))
        tray.bottom_action.triggered.connect(lambda: ov.apply_position("bottom"))
        tray.settings_action.triggered.connect(self.open_settings)
        tray.transcript_action.triggered.connect(self.open_transcript)
        tray.last_transcript_action.triggered.connect(self.open_previous_transcript)
        tray.quit_action.triggered.connect(self.request_quit)
        tray.message_clicked.connect(self._message_clicked)
        tray.set_click_through(ov.click_through)
        tray.set_overlay_visible(self.settings.overlay.visible)
        self.shortcut.activated.connect(ov.toggle_click_through)
        self.shortcut.status_changed.connect(self._on_shortcut_status)
        self._show_source()

    # -- life cycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Show the overlay and tray, offer the last transcript, start captioning if the settings say so."""
        self._on_shortcut_status(self.shortcut.set_sequence(self.settings.overlay.click_through_shortcut))
        self.overlay.place()
        self.tray.show()
        if self.settings.overlay.visible and not self.minimized:
            self.overlay.show()
        self.tray.set_overlay_visible(self.overlay.isVisible())
        if self.control_window is not None and not self.minimized:
            self.control_window.show()
        notes = describe(QGuiApplication.platformName())
        if notes.message:
            self.overlay.show_notice(notes.message, 15000)
            self.tray.notify("Captioner on Wayland", notes.message)
        if self.settings_problem:
            self.overlay.show_notice(self.settings_problem.partition(". ")[0] + ".", 15000)  # one line: in short
            self.tray.notify("Captioner settings", self.settings_problem, warning=True)
        self._offer_previous()
        self.feed.apply(self.settings)
        if self.settings.autostart_captions:
            self.controller.start()

    def _offer_previous(self) -> None:
        if self.previous_autosave is None:
            return
        self.previous_lines = load_autosave(self.previous_autosave)
        if not self.previous_lines:
            return
        self.tray.offer_last_transcript(len(self.previous_lines))
        self.tray.notify(
            "Last session's transcript",
            f"{len(self.previous_lines)} lines were saved last time. Open them from the tray menu.",
        )

    def request_quit(self) -> None:
        self.quit_requested.set()

    async def run(self) -> int:
        """Run until Quit; then stop captioning, flushing the transcript. Returns the exit status (0).

        Blocking work goes to daemon threads, so that closing the loop never waits for a sound server or a name
        server that does not answer: quitting takes well under a second in every state.
        """
        asyncio.get_running_loop().set_default_executor(DaemonExecutor())
        collector = MainThreadCollector()  # worker threads never destroy Qt objects (see gc_guard)
        collector.start()
        try:
            self.start()
            await self.quit_requested.wait()
            await self.shutdown()
        finally:
            collector.stop()
        return 0

    async def shutdown(self) -> None:
        await self.controller.shutdown()
        await self.feed.stop()
        self._save_timer.stop()
        self.save_settings()
        for w in (self.settings_dialog, self.transcript_window, self.control_window):
            if w is not None:
                w.close()
        self.shortcut.close()
        self.overlay.close()
        self.tray.hide()

    # -- commands ------------------------------------------------------------------------------
    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay.setVisible(visible)
        self.tray.set_overlay_visible(visible)
        self._update_settings(overlay=dataclasses.replace(self.settings.overlay, visible=visible))

    def choose_source(self, source: str) -> None:
        """Caption the microphone, system audio or both (from the tray or overlay menu): the default device of it."""
        if source != self.settings.source:
            self._update_settings(source=source, device="")
            self.controller.apply_settings(self.settings)
            self._sync_dialog()
        self._show_source()

    def _show_source(self) -> None:
        override = self.controller.source_override
        self.tray.set_source(self.settings.source, Path(override).name if override else "")

    def activate(self) -> None:
        """Another launch asked us to show ourselves: show the captions and make them clickable again."""
        self.set_overlay_visible(True)
        self.overlay.set_click_through(False)
        self.overlay.show_notice("Captioner is already running.", 5000)

    def open_settings(self) -> SettingsDialog:
        from captioner.ui.settings.dialog import SettingsDialog  # on first use: start-up does not pay for it

        if self.settings_dialog is None:
            self.settings_dialog = SettingsDialog(self.settings, level_monitor=self.controller.level_monitor())
            self.overlay.keep_above(self.settings_dialog)
            self.settings_dialog.overlay_page.set_shortcut_status(self.shortcut.status())
            self.settings_dialog.overlay_page.recording_shortcut.connect(self.shortcut.pause)
            self.settings_dialog.addActions(self.tray.actions())
            self.settings_dialog.settings_changed.connect(self.on_settings_changed)
            self.settings_dialog.appearance_changed.connect(self._preview_appearance)
            self.settings_dialog.feed_page.set_state(self.feed.state)
            self.feed.state_changed.connect(self.settings_dialog.feed_page.set_state)
            self.settings_dialog.credentials_changed.connect(self._credentials_changed)
            self._dialog_base = self.settings
        else:
            self._sync_dialog()
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        self.settings_dialog.activateWindow()
        return self.settings_dialog

    def _transcript_window(self) -> TranscriptWindow:
        from captioner.ui.transcript_window import TranscriptWindow  # on first use: start-up does not pay for it

        if self.transcript_window is None:
            s = self.settings
            w = TranscriptWindow(
                self.controller.transcript,
                export=s.export,
                filter_profanity=s.filter_profanity,
                appearance=s.appearance,
                expected_language=s.engine_settings().language,
            )
            w.addActions(self.tray.actions())
            self.controller.change.connect(w.on_change)
            w.export_settings_changed.connect(lambda export: self._update_settings(export=export))
            self.transcript_window = w
        return self.transcript_window

    def open_transcript(self) -> TranscriptWindow:
        w = self._transcript_window()
        if w.showing_previous:
            w.show_live()
        w.present()
        return w

    def open_previous_transcript(self) -> TranscriptWindow:
        w = self._transcript_window()
        w.show_lines(self.previous_lines)
        w.present()
        return w

    # -- settings ------------------------------------------------------------------------------
    def on_settings_changed(self, new: Settings) -> None:
        """The settings panel changed something: persist it and apply it live."""
        merged = settings_store.merge(self._dialog_base, new, self.settings)
        self._dialog_base = new
        old = self.settings
        self.settings = merged
        if merged.appearance != old.appearance:
            self.overlay.apply_appearance(merged.appearance)
        ov_old, ov_new = old.overlay, merged.overlay
        if ov_new.click_through != self.overlay.click_through:
            self.overlay.set_click_through(ov_new.click_through)
        if ov_new.visible != self.overlay.isVisible():
            self.set_overlay_visible(ov_new.visible)
        if ov_new.position != ov_old.position and ov_new.position in ("top", "bottom"):
            self.overlay.apply_position(ov_new.position)
        if ov_new.click_through_shortcut != ov_old.click_through_shortcut:
            self.shortcut.set_sequence(ov_new.click_through_shortcut)
        if ov_new.force_xwayland != ov_old.force_xwayland:
            self.overlay.show_notice("The XWayland setting takes effect the next time Captioner starts.")
        if self.transcript_window is not None:
            self.transcript_window.set_filter_profanity(merged.filter_profanity)
            self.transcript_window.set_appearance(merged.appearance)
            self.transcript_window.set_expected_language(merged.engine_settings().language)
        self.controller.apply_settings(merged)
        self.feed.apply(merged)
        if merged.source != old.source:
            self._show_source()
        self._schedule_save()

    def _preview_appearance(self, appearance: Appearance) -> None:
        """The settings panel's live preview: what it changed, over what the overlay changed meanwhile."""
        edited = self._dialog_base.with_changes(appearance=appearance)
        self.overlay.apply_appearance(settings_store.merge(self._dialog_base, edited, self.settings).appearance)

    def _on_overlay_settings(self, overlay: OverlaySettings) -> None:
        self._update_settings(overlay=overlay)
        self._sync_dialog()

    def _on_overlay_lines(self, lines: int) -> None:
        """The overlay's top or bottom edge was dragged to show ``lines`` caption lines."""
        if lines == self.settings.appearance.lines:
            return
        self._update_settings(appearance=dataclasses.replace(self.settings.appearance, lines=lines))
        d = self.settings_dialog
        if d is not None:
            d.flush()  # edits still waiting in the panel are merged in first: the sync below would drop them
        self._sync_dialog()

    def _sync_dialog(self) -> None:
        d = self.settings_dialog
        if d is None:
            return
        d.set_settings(self.settings)
        self._dialog_base = d.settings()

    def _update_settings(self, **changes: Any) -> None:
        self.settings = self.settings.with_changes(**changes)
        self.feed.apply(self.settings)
        self._schedule_save()

    def _schedule_save(self) -> None:
        if self.persist:
            self._save_timer.start()

    def save_settings(self) -> None:
        if not self.persist:
            return
        try:
            settings_store.save(self.settings)
        except (OSError, ValueError) as exc:
            log.warning("cannot save settings: %s", exc)
            self.overlay.show_notice(f"Settings could not be saved: {exc}")

    def _on_shortcut_status(self, status: ShortcutStatus) -> None:
        """The click-through shortcut changed or was refused: the menu item, the overlay and the panel follow."""
        self.tray.click_through_action.setShortcut(QKeySequence.fromString(status.sequence))  # in-app fallback
        way = "the tray menu" if self.tray.available else "the Captioner window"
        shown = QKeySequence.fromString(status.sequence).toString(QKeySequence.SequenceFormat.NativeText)
        self.overlay.set_unlock_hint(f"{shown} or {way} to unlock" if status.everywhere else f"{way} to unlock")
        if self.settings_dialog is not None:
            self.settings_dialog.overlay_page.set_shortcut_status(status)

    # -- controller events ---------------------------------------------------------------------
    def _on_state(self, state: str, message: str) -> None:
        self.overlay.set_status(state, message)
        self.tray.set_state(state, message)

    def _on_running(self, running: bool) -> None:
        self.tray.set_running(running)
        if not running:
            self.overlay.set_level(-120.0)
            self.overlay.set_lag(0.0)
        if not running and self.exit_when_done:
            self.request_quit()

    def _on_error(self, message: str) -> None:
        if message != self._last_error:
            self.tray.notify("Captioner: captions stopped", message, error=True)
        self._last_error = message

    def _on_trouble(self, message: str) -> None:
        """Captions are interrupted (a cloud engine cannot connect) but Captioner keeps trying: say why, whole."""
        self.tray.notify("Captioner: captions interrupted", message, warning=True)

    def _on_warning(self, message: str) -> None:
        """Captions go on but the transcript is not saved (a full disk, a read-only folder): say it once."""
        self.overlay.show_notice(message.partition(". ")[0] + ".", 15000)  # one line: in short
        self.tray.notify("Captioner: transcript not saved", message, warning=True)

    def _credentials_changed(self, engine_id: str) -> None:
        """A key was entered: if captions could not start for want of one, start them now."""
        c = self.controller
        if engine_id == self.settings.engine and not c.running and c.state[0] == "error" and c.waiting_for_key:
            c.start()

    def _message_clicked(self) -> None:
        if self.controller.state[0] in ("error", "reconnecting"):
            self.open_settings()
        elif self.previous_lines:
            self.open_previous_transcript()
