"""The Windows global shortcut's key translation (everywhere), and what the app says where it cannot register."""

from __future__ import annotations

import sys

import pytest

from captioner.ui.hotkey import default_backend, no_backend_reason
from captioner.ui.hotkey_windows import (
    MOD_ALT,
    MOD_CONTROL,
    MOD_NOREPEAT,
    MOD_SHIFT,
    MOD_WIN,
    WindowsBackend,
    windows_keys,
)
from tests.support.keys import first_key


def test_virtual_keys_and_modifiers() -> None:
    assert windows_keys(first_key("Ctrl+Shift+L")) == (0x4C, MOD_CONTROL | MOD_SHIFT | MOD_NOREPEAT)
    assert windows_keys(first_key("Alt+F5")) == (0x74, MOD_ALT | MOD_NOREPEAT)
    assert windows_keys(first_key("Meta+7")) == (0x37, MOD_WIN | MOD_NOREPEAT)
    assert windows_keys(first_key("Ctrl+PgUp")) == (0x21, MOD_CONTROL | MOD_NOREPEAT)
    assert windows_keys(first_key("Ctrl+§")) is None


@pytest.mark.skipif(sys.platform == "win32", reason="RegisterHotKey exists there")
def test_off_windows_the_backend_is_refused_in_plain_words(qapp: object) -> None:
    with pytest.raises(OSError, match="only on Windows"):
        WindowsBackend()
    backend, why = default_backend("windows")
    assert backend is None and "not available here" in why


def test_platforms_without_a_backend_say_so() -> None:
    assert no_backend_reason("cocoa", "darwin") == "macOS: Captioner has no global shortcut yet"
    assert "no global shortcuts" in no_backend_reason("offscreen", "linux")
