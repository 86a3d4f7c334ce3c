"""The global shortcut on Windows: ``RegisterHotKey`` for the UI thread, and Qt's native event filter.

:class:`WindowsBackend` registers the combination with no window, so Windows posts ``WM_HOTKEY`` to the
thread's message queue, where a ``QAbstractNativeEventFilter`` on Qt's event dispatcher picks it up
(``MOD_NOREPEAT``: a held key fires once). Windows refuses a combination another application registered,
and the backend says so. The key translation (:func:`windows_keys`) is plain code, tested everywhere; the
registration itself runs only on Windows.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractNativeEventFilter, QByteArray, QCoreApplication, QKeyCombination, Qt

MOD_ALT, MOD_CONTROL, MOD_SHIFT, MOD_WIN, MOD_NOREPEAT = 0x1, 0x2, 0x4, 0x8, 0x4000
WM_HOTKEY = 0x0312
HOTKEY_ID = 0x4C43  # any number in 0x0000–0xBFFF, unique within the app
K = Qt.Key
_SPECIAL_VK = {
    K.Key_Escape: 0x1B,
    K.Key_Tab: 0x09,
    K.Key_Backspace: 0x08,
    K.Key_Return: 0x0D,
    K.Key_Enter: 0x0D,
    K.Key_Space: 0x20,
    K.Key_Insert: 0x2D,
    K.Key_Delete: 0x2E,
    K.Key_Pause: 0x13,
    K.Key_Print: 0x2C,
    K.Key_Home: 0x24,
    K.Key_End: 0x23,
    K.Key_Left: 0x25,
    K.Key_Up: 0x26,
    K.Key_Right: 0x27,
    K.Key_Down: 0x28,
    K.Key_PageUp: 0x21,
    K.Key_PageDown: 0x22,
}


def windows_keys(keys: QKeyCombination) -> tuple[int, int] | None:
    """(virtual-key code, ``MOD_*`` mask) of a Qt key combination, or ``None`` for a key it cannot name."""
    key = keys.key()
    code = key.value
    if K.Key_A.value <= code <= K.Key_Z.value or K.Key_0.value <= code <= K.Key_9.value:
        vk = code  # VK codes of letters and digits are their upper-case ASCII codes
    elif K.Key_F1.value <= code <= K.Key_F24.value:
        vk = 0x70 + code - K.Key_F1.value
    elif key in _SPECIAL_VK:
        vk = _SPECIAL_VK[key]
    else:
        return None
    mods = keys.keyboardModifiers()
    mask = MOD_NOREPEAT
    for qt_mod, win_mod in (
        (Qt.KeyboardModifier.AltModifier, MOD_ALT),
        (Qt.KeyboardModifier.ControlModifier, MOD_CONTROL),
        (Qt.KeyboardModifier.ShiftModifier, MOD_SHIFT),
        (Qt.KeyboardModifier.MetaModifier, MOD_WIN),
    ):
        if mods & qt_mod:
            mask |= win_mod
    return vk, mask


class _HotkeyFilter(QAbstractNativeEventFilter):
    def __init__(self, on_hotkey: Callable[[], None]) -> None:
        super().__init__()
        self._on_hotkey = on_hotkey

    def nativeEventFilter(
        self, event_type: QByteArray | bytes | bytearray | memoryview, message: Any
    ) -> tuple[bool, int]:
        from ctypes import wintypes

        kind = event_type.data() if isinstance(event_type, QByteArray) else bytes(event_type)
        if kind in (b"windows_dispatcher_MSG", b"windows_generic_MSG"):
            msg = wintypes.MSG.from_address(int(message))
            if msg.message == WM_HOTKEY and msg.wParam == HOTKEY_ID:
                self._on_hotkey()
                return True, 0
        return False, 0


class WindowsBackend:
    """Global shortcut by ``RegisterHotKey``."""

    name = "Windows RegisterHotKey"
    pausable = True
    _registered: bool
    _filter: _HotkeyFilter
    _callback: Callable[[], None] | None

    def __init__(self) -> None:
        if not sys.platform.startswith("win"):
            raise OSError("RegisterHotKey exists only on Windows")
        self._user32: Any = getattr(ctypes, "WinDLL")("user32", use_last_error=True)  # noqa: B009
        self._callback = None
        self._registered = False
        self._filter = _HotkeyFilter(self._fire)
        app = QCoreApplication.instance()
        if app is not None:
            app.installNativeEventFilter(self._filter)

    def _fire(self) -> None:
        if self._callback is not None:
            self._callback()

    def register(
        self, keys: QKeyCombination, on_activated: Callable[[], None], on_refused: Callable[[str], None]
    ) -> str | None:
        self.unregister()
        wanted = windows_keys(keys)
        if wanted is None:
            return "Windows cannot register that key; pick a letter, digit, function key or arrow"
        vk, mods = wanted
        if not self._user32.RegisterHotKey(None, HOTKEY_ID, mods, vk):
            error = getattr(ctypes, "get_last_error")()  # noqa: B009
            if error == 1409:  # ERROR_HOTKEY_ALREADY_REGISTERED
                return "another application already uses that shortcut; pick another one in Settings"
            return f"Windows refused the shortcut (error {error})"
        self._registered = True
        self._callback = on_activated
        return None

    def unregister(self) -> None:
        if self._registered:
            self._user32.UnregisterHotKey(None, HOTKEY_ID)
            self._registered = False
        self._callback = None

    def close(self) -> None:
        self.unregister()
        app = QCoreApplication.instance()
        if app is not None:
            app.removeNativeEventFilter(self._filter)
