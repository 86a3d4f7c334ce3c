"""Key combinations for shortcut tests."""

from __future__ import annotations

from PySide6.QtCore import QKeyCombination
from PySide6.QtGui import QKeySequence


def first_key(text: str) -> QKeyCombination:
    """The first key combination of ``text`` (e.g. ``"Ctrl+Shift+L"``)."""
    combination: QKeyCombination = QKeySequence(text)[0]  # type: ignore[index]  # PySide6 supports it; the stub lacks it
    return combination
