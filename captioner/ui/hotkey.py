"""The global shortcut: one key combination that works while any application has the focus.

Click-through makes the captions unclickable and leaves the focus with another application, so the way back
must be a shortcut the whole desktop hears. :class:`GlobalShortcut` turns the user's key sequence (Qt's
portable text, e.g. ``"Ctrl+Shift+L"``) into a registration with whatever the window system offers — an X11
key grab (:mod:`captioner.ui.hotkey_x11`), Windows' ``RegisterHotKey`` (:mod:`captioner.ui.hotkey_windows`),
the XDG GlobalShortcuts portal on Wayland (:mod:`captioner.ui.hotkey_portal`) — and says in plain words, in
:class:`ShortcutStatus`, whether it works everywhere or only inside Captioner, and why.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QKeyCombination, QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence

log = logging.getLogger(__name__)

DEFAULT_SHORTCUT = "Ctrl+Shift+L"
NEEDED = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier


class Backend(Protocol):
    """A window system's way of registering one global key combination."""

    name: str
    pausable: bool
    """Unregistering and registering again is cheap and silent (not so for a portal, which may ask the user)."""

    def register(
        self, keys: QKeyCombination, on_activated: Callable[[], None], on_refused: Callable[[str], None]
    ) -> str | None:
        """Register ``keys``; ``None`` when it works, else why not (plain words). A backend that learns only
        later that it was refused calls ``on_refused`` with why."""

    def unregister(self) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortcutStatus:
    """What the shortcut does here."""

    sequence: str  # portable text; "" when there is none
    everywhere: bool  # works while other applications have the focus
    message: str  # plain words, for the settings panel


def parse_shortcut(text: str) -> QKeyCombination | None:
    """The key combination of ``text`` (``None`` for none). Raises ``ValueError`` saying why it cannot be one."""
    text = text.strip()
    if not text:
        return None
    seq = QKeySequence.fromString(text, QKeySequence.SequenceFormat.PortableText)
    keys = seq[0] if seq.count() == 1 else None  # type: ignore[index]
    if keys is None or keys.key() == Qt.Key.Key_unknown:
        raise ValueError(f"{text!r} is not a key combination")
    if not keys.keyboardModifiers() & NEEDED:
        raise ValueError("a global shortcut needs Ctrl, Alt or the Super key, so that it takes no key from typing")
    return keys


def shortcut_text(keys: QKeyCombination) -> str:
    """``keys`` as the user reads it (e.g. ``Ctrl+Shift+L``)."""
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


def no_backend_reason(platform_name: str, os_name: str = sys.platform) -> str:
    """Why this window system has no global shortcut for Captioner."""
    if os_name == "darwin":
        return "macOS: Captioner has no global shortcut yet"
    if platform_name.startswith("wayland"):
        return "this Wayland desktop offers no global-shortcut portal"
    return f"the {platform_name or 'current'} window system has no global shortcuts"


def default_backend(platform_name: str | None = None) -> tuple[Backend | None, str]:
    """The backend for this window system, or ``None`` and why there is none."""
    name = QGuiApplication.platformName() if platform_name is None else platform_name
    try:
        if name == "xcb":
            from captioner.ui.hotkey_x11 import X11Backend

            return X11Backend(), ""
        if name == "windows":
            from captioner.ui.hotkey_windows import WindowsBackend

            return WindowsBackend(), ""
        if name.startswith("wayland"):
            from captioner.ui.hotkey_portal import PortalBackend, portal_reason

            why = portal_reason()
            return (PortalBackend(), "") if why is None else (None, why)
    except (ImportError, OSError, RuntimeError) as exc:  # the window system's libraries or server are missing
        log.info("no global shortcut here: %s", exc)
        return None, f"global shortcuts are not available here ({exc})"
    return None, no_backend_reason(name)


class GlobalShortcut(QObject):
    """One global key combination; :attr:`activated` fires when it is pressed, whichever app has the focus."""

    activated = Signal()
    status_changed = Signal(object)  # ShortcutStatus

    def __init__(self, backend: Backend | None = None, *, why_none: str = "", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._backend = backend
        self._why_none = why_none
        self._status = ShortcutStatus(sequence="", everywhere=False, message="No shortcut is set.")
        self._paused = False

    @classmethod
    def for_platform(cls, parent: QObject | None = None) -> GlobalShortcut:
        backend, why = default_backend()
        return cls(backend, why_none=why, parent=parent)

    def status(self) -> ShortcutStatus:
        return self._status

    def set_sequence(self, text: str) -> ShortcutStatus:
        """Register ``text`` (portable key sequence) in place of the previous one; ``""`` for none."""
        self._paused = False
        if self._backend is not None:
            self._backend.unregister()
        try:
            keys = parse_shortcut(text)
        except ValueError as exc:
            return self._set(ShortcutStatus(sequence="", everywhere=False, message=f"No shortcut: {exc}."))
        if keys is None:
            return self._set(ShortcutStatus(sequence="", everywhere=False, message="No shortcut is set."))
        seq = QKeySequence(keys).toString(QKeySequence.SequenceFormat.PortableText)
        shown = shortcut_text(keys)
        if self._backend is None:
            why = self._why_none or "there is no global shortcut here"
            return self._set(ShortcutStatus(sequence=seq, everywhere=False, message=self._local(shown, why)))

        def refused_later(why: str) -> None:
            if self._status.sequence == seq:
                self._set(ShortcutStatus(sequence=seq, everywhere=False, message=self._local(shown, why)))

        refused = self._backend.register(keys, self.activated.emit, refused_later)
        if refused is not None:
            return self._set(ShortcutStatus(sequence=seq, everywhere=False, message=self._local(shown, refused)))
        where = (
            f" (asked of the desktop through its {self._backend.name}; it may let you change it)"
            if (self._backend.name.endswith("portal"))
            else ""
        )
        return self._set(
            ShortcutStatus(
                sequence=seq, everywhere=True, message=f"{shown} works while any application has the focus{where}."
            )
        )

    @staticmethod
    def _local(shown: str, why: str) -> str:
        return f"{shown} works only while a Captioner window has the focus: {why}. The tray menu always works."

    def _set(self, status: ShortcutStatus) -> ShortcutStatus:
        if status != self._status:
            self._status = status
            self.status_changed.emit(status)
        return status

    def pause(self, paused: bool) -> None:
        """Let the keys through to Captioner's own windows for a while (the settings panel is recording a new
        shortcut: a global grab would take the very keys being typed), then take them again."""
        if self._backend is None or not self._backend.pausable or paused == self._paused:
            return
        self._paused = paused
        if paused:
            self._backend.unregister()
        elif self._status.everywhere:
            self.set_sequence(self._status.sequence)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.unregister()
            self._backend.close()
            self._backend = None
