"""The desktop app's caption feed: starts, stops and restarts the feed server as the settings ask.

:class:`FeedHost` follows the controller (its transcript, its ``change`` and ``event`` signals) and the
``feed`` and ``appearance`` settings; it runs the :class:`~captioner.feed.server.FeedServer` on the qasync
loop and reports a :class:`FeedState` (the links to show, or why it cannot serve) to the settings panel's
"Caption feed" page. A feed that cannot start (the port is taken) never stops captioning.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from captioner.captions.events import CaptionEvent
from captioner.captions.profanity import mask_line
from captioner.captions.transcript import Change, Line
from captioner.settings import FeedSettings, Settings
from captioner.ui.controller import CaptionController

if TYPE_CHECKING:  # the server is imported when the feed first starts: start-up does not pay for it
    from captioner.feed.server import FeedServer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedState:
    """What the settings panel shows about the feed."""

    running: bool = False
    caption_url: str = ""
    transcript_url: str = ""
    message: str = "The caption feed is off."
    beyond_loopback: bool = False
    token_kept: bool = True


class FeedHost(QObject):
    state_changed = Signal(object)
    """A new :class:`FeedState`."""

    def __init__(self, controller: CaptionController, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.settings = settings
        self.server: FeedServer | None = None
        self.state = FeedState()
        self._wanted: FeedSettings | None = None
        self._running: FeedSettings | None = None
        self._task: asyncio.Task[None] | None = None
        controller.change.connect(self._on_change)
        controller.caption_event.connect(self._on_event)

    # -- settings --------------------------------------------------------------------------------
    def apply(self, settings: Settings) -> None:
        """Follow new settings: start, stop or move the feed; restyle the pages that follow the app."""
        self.settings = settings
        if self.server is not None:
            self.server.set_style(settings.appearance)
        self._wanted = settings.feed if settings.feed.enabled else None
        if self._wanted != self._running and (self._task is None or self._task.done()):
            self._task = asyncio.ensure_future(self._reconcile())

    async def stop(self) -> None:
        """Quit: stop the feed (and any change of it under way)."""
        self._wanted = None
        if self._task is not None and not self._task.done():
            await self._task
        await self._reconcile()

    async def _reconcile(self) -> None:
        """Bring the server to what the settings want (again, if they changed while it started or stopped)."""
        while self._wanted != self._running:
            wanted = self._wanted
            if self.server is not None:
                server, self.server = self.server, None
                await server.stop()
            self._running = None
            self._set_state(FeedState())
            if wanted is not None:
                await self._start(wanted)
            self._running = wanted

    async def _start(self, wanted: FeedSettings) -> None:
        from captioner.feed.security import Address, kept_token
        from captioner.feed.server import FeedError, FeedServer

        address = Address(host=wanted.host, port=wanted.port)
        token, kept = (None, True) if address.loopback else kept_token()
        server = FeedServer(
            address,
            transcript=self.controller.transcript,
            token=token,
            style=self.settings.appearance,
            present=self._present,
        )
        try:
            await server.start()
        except FeedError as exc:
            log.warning("%s", exc)
            self._set_state(FeedState(message=f"{exc}. Choose another port.", beyond_loopback=not address.loopback))
            return
        self.server = server
        where = "this computer" if address.loopback else "this computer and the network"
        elsewhere = " On another device, put this computer's network address in place of 127.0.0.1."
        self._set_state(
            FeedState(
                running=True,
                caption_url=server.url("/"),
                transcript_url=server.url("/transcript"),
                message=f"Serving captions to {where} on port {server.port}." + (elsewhere if address.wildcard else ""),
                beyond_loopback=not address.loopback,
                token_kept=kept,
            )
        )

    def _set_state(self, state: FeedState) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    # -- captions --------------------------------------------------------------------------------
    def _present(self, line: Line) -> Line:
        """A replayed line as the overlay shows it (profanity masked when the filter is on)."""
        return mask_line(line) if self.controller.settings.filter_profanity else line

    def _on_change(self, change: Change) -> None:
        if self.server is not None:
            self.server.change(change)

    def _on_event(self, event: CaptionEvent) -> None:
        if self.server is not None:
            self.server.event(event)
