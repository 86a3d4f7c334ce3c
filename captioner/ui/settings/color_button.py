"""A push button that shows a colour and opens a colour chooser (the Appearance page's colour fields)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QPushButton, QWidget


class ColorButton(QPushButton):
    """A button showing a colour; pressing it opens a colour chooser."""

    color_changed = Signal(str)

    def __init__(self, color: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = title
        self.setAutoDefault(False)
        self.setAccessibleName(title)
        self.clicked.connect(self._choose)
        self.set_color(color, emit=False)

    def color(self) -> str:
        return self._color

    def set_color(self, color: str, *, emit: bool = True) -> None:
        c = QColor(color)
        if not c.isValid():
            return
        self._color = c.name()
        text = "#000000" if c.lightnessF() > 0.5 else "#ffffff"
        self.setText(self._color)
        self.setStyleSheet(f"QPushButton {{ background: {self._color}; color: {text}; }}")
        self.setAccessibleDescription(self._color)
        if emit:
            self.color_changed.emit(self._color)

    def _choose(self) -> None:
        c = QColorDialog.getColor(QColor(self._color), self, self._title)
        if c.isValid():
            self.set_color(c.name())
