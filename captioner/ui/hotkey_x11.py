"""The global shortcut on X11: a passive key grab on the root window, over a private X connection.

:class:`X11Backend` translates a Qt key combination to an X keysym and modifier mask, grabs every keycode
that produces the keysym (with each combination of Caps Lock and Num Lock, which must not stop it), and
reads the grab's key events from the connection's socket with a ``QSocketNotifier``. A held key's
auto-repeat fires it once. When another application already holds the combination, X refuses the grab and
the backend says so. A new keyboard map (another layout) re-grabs.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QKeyCombination, QSocketNotifier, Qt

from captioner.ui.x11 import (
    BAD_ACCESS,
    CONTROL,
    IGNORED_MODIFIERS,
    KEY_PRESS,
    KEY_RELEASE,
    LOCK,
    MAPPING_NOTIFY,
    MOD1,
    MOD2,
    MOD4,
    SHIFT,
    KeyEvent,
    XConnection,
)

K = Qt.Key
_SPECIAL_KEYSYMS = {
    K.Key_Escape: 0xFF1B,
    K.Key_Tab: 0xFF09,
    K.Key_Backspace: 0xFF08,
    K.Key_Return: 0xFF0D,
    K.Key_Enter: 0xFF8D,
    K.Key_Insert: 0xFF63,
    K.Key_Delete: 0xFFFF,
    K.Key_Pause: 0xFF13,
    K.Key_Print: 0xFF61,
    K.Key_Home: 0xFF50,
    K.Key_End: 0xFF57,
    K.Key_Left: 0xFF51,
    K.Key_Up: 0xFF52,
    K.Key_Right: 0xFF53,
    K.Key_Down: 0xFF54,
    K.Key_PageUp: 0xFF55,
    K.Key_PageDown: 0xFF56,
}
_MODIFIERS = (
    (Qt.KeyboardModifier.ShiftModifier, SHIFT),
    (Qt.KeyboardModifier.ControlModifier, CONTROL),
    (Qt.KeyboardModifier.AltModifier, MOD1),
    (Qt.KeyboardModifier.MetaModifier, MOD4),
)
MODIFIER_BITS = SHIFT | CONTROL | MOD1 | MOD4


def x11_keys(keys: QKeyCombination) -> tuple[int, int] | None:
    """(keysym, modifier mask) of a Qt key combination, or ``None`` for a key X11 cannot be asked for."""
    key = keys.key()
    code = key.value
    if K.Key_F1.value <= code <= K.Key_F35.value:
        keysym = 0xFFBE + code - K.Key_F1.value
    elif key in _SPECIAL_KEYSYMS:
        keysym = _SPECIAL_KEYSYMS[key]
    elif 0x20 <= code <= 0xFF:
        keysym = ord(chr(code).lower())  # Latin-1 keysyms are the characters' codes (letters lower-case)
    else:
        return None
    mods = keys.keyboardModifiers()
    mask = 0
    for qt_mod, x_mod in _MODIFIERS:
        if mods & qt_mod:
            mask |= x_mod
    return keysym, mask


class X11Backend:
    """Global shortcut by ``XGrabKey`` on the root window."""

    name = "X11 key grab"
    pausable = True

    def __init__(self, display: str | None = None) -> None:
        self._x = XConnection(display)
        self._notifier = QSocketNotifier(self._x.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._read)
        self._grabs: list[tuple[int, int]] = []  # (keycode, modifiers) held
        self._wanted: tuple[int, int] | None = None  # (keysym, modifiers)
        self._codes: set[int] = set()
        self._callback: Callable[[], None] | None = None
        self._down = False
        self._released_at = -1

    def register(
        self, keys: QKeyCombination, on_activated: Callable[[], None], on_refused: Callable[[str], None]
    ) -> str | None:
        self.unregister()
        wanted = x11_keys(keys)
        if wanted is None:
            return "X11 cannot grab that key; pick a letter, digit, function key or arrow"
        self._wanted = wanted
        self._callback = on_activated
        return self._grab()

    def _grab(self) -> str | None:
        assert self._wanted is not None
        keysym, mods = self._wanted
        codes = self._x.keycodes(keysym)
        if not codes:
            self._wanted = None
            return "that key is not on this keyboard layout"
        for code in codes:
            for extra in IGNORED_MODIFIERS:
                error = self._x.grab_key(code, mods | extra)
                if error:
                    self._release()
                    self._wanted = None
                    self._read()
                    if error == BAD_ACCESS:
                        return "another application already uses that shortcut; pick another one in Settings"
                    return f"the X server refused the key grab (error {error})"
                self._grabs.append((code, mods | extra))
        self._codes = set(codes)
        self._x.flush()
        self._read()  # events queued while waiting for the replies
        return None

    def _release(self) -> None:
        for code, mods in self._grabs:
            self._x.ungrab_key(code, mods)
        self._grabs = []
        self._codes = set()
        self._x.flush()

    def unregister(self) -> None:
        self._release()
        self._wanted = None
        self._callback = None
        self._down = False

    def close(self) -> None:
        self.unregister()
        self._notifier.setEnabled(False)
        self._x.close()

    def _read(self, *_args: object) -> None:
        for ev in self._x.poll_events():
            self._handle(ev)

    def _handle(self, ev: KeyEvent) -> None:
        if ev.kind == MAPPING_NOTIFY:
            if self._wanted is not None:
                wanted = self._wanted
                self._release()
                self._x.refresh_keymap()
                self._wanted = wanted
                self._grab()
            return
        if ev.keycode not in self._codes or self._wanted is None:
            return
        if ev.kind == KEY_RELEASE:  # whatever modifiers are still held: the key is up
            self._down = False
            self._released_at = ev.time
            return
        if ev.kind != KEY_PRESS or (ev.state & ~(LOCK | MOD2)) & MODIFIER_BITS != self._wanted[1]:
            return
        repeat = self._down or ev.time == self._released_at  # X auto-repeat: release and press at one time
        self._down = True
        if not repeat and self._callback is not None:
            self._callback()
