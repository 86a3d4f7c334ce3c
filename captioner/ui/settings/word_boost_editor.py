"""An editable list of word boost terms, validated against the selected engine's limits.

What the engine cannot take is never added: a term too long, or one beyond the number of terms it takes, is
left out with one short line saying so (a long term is shortened in it, and every message wraps, so the
dialog never widens). Terms saved for another engine that this one cannot use stay in the list, marked.
"Clear all" can be undone.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from captioner.engines.base import Capabilities, check_word_boost
from captioner.ui.settings.word_boost_terms import (
    Limits,
    admit,
    admitted_message,
    plural,
    shown,
    split_terms,
    unused_message,
)

__all__ = ["WordBoostEditor", "split_terms"]

MAX_IMPORT_BYTES = 1_000_000
WARN_BRUSH = QBrush(QColor("#b3261e"))
PREVIOUS = Qt.ItemDataRole.UserRole  # an item's last accepted text (an edit the engine cannot take reverts to it)


def wrapping_label(name: str) -> QLabel:
    """A plain-text label that wraps and never asks for more width than it is given."""
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(1)
    return label


class WordBoostEditor(QWidget):
    """Add, remove, paste many, import from a text file; shows the engine's limits and problems."""

    terms_changed = Signal(tuple)

    def __init__(self, terms: tuple[str, ...] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._caps: Capabilities | None = None
        self._engine_name = ""

        self.entry = QLineEdit()
        self.entry.setPlaceholderText("A word or phrase, e.g. a name or jargon")
        self.entry.setAccessibleName("New word boost term")
        self.entry.returnPressed.connect(self.add_from_entry)
        self.add_button = QPushButton("&Add")
        self.add_button.setAccessibleName("Add term")
        self.add_button.clicked.connect(self.add_from_entry)

        self.list = QListWidget()
        self.list.setAccessibleName("Word boost terms")
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.itemChanged.connect(self._item_edited)
        self.list.installEventFilter(self)

        self.remove_button = QPushButton("&Remove")
        self.remove_button.setAccessibleName("Remove selected terms")
        self.remove_button.clicked.connect(self.remove_selected)
        self.paste_button = QPushButton("Pa&ste lines")
        self.paste_button.setToolTip("Add every line of the clipboard as a term")
        self.paste_button.setAccessibleName("Paste many terms from the clipboard")
        self.paste_button.clicked.connect(self.paste_from_clipboard)
        self.import_button = QPushButton("&Import file…")
        self.import_button.setToolTip("Add every line of a text file as a term")
        self.import_button.setAccessibleName("Import terms from a text file")
        self.import_button.clicked.connect(self._choose_file)
        self.clear_button = QPushButton("Clear a&ll")
        self.clear_button.setAccessibleName("Remove all terms")
        self.clear_button.clicked.connect(self.clear_all)
        self.undo_button = QPushButton("&Undo")
        self.undo_button.setAccessibleName("Undo clear all")
        self.undo_button.clicked.connect(self.undo_clear)
        self.undo_button.hide()
        self._cleared: tuple[str, ...] = ()

        self.count_label = QLabel()
        self.count_label.setObjectName("word_boost_count")
        self.note_label = wrapping_label("word_boost_note")
        self.message_label = wrapping_label("word_boost_message")
        self.message_label.setAccessibleName("Word boost: what the last change did")
        self.message_label.hide()
        self.warning_label = wrapping_label("word_boost_warning")
        self.warning_label.setStyleSheet("color: #b3261e;")
        self.warning_label.setAccessibleName("Word boost problems")

        buttons_ = (self.add_button, self.remove_button, self.paste_button, self.import_button, self.clear_button)
        for b in (*buttons_, self.undo_button):
            b.setAutoDefault(False)

        top = QHBoxLayout()
        top.addWidget(self.entry, 1)
        top.addWidget(self.add_button)
        buttons = QHBoxLayout()
        for b in (self.remove_button, self.paste_button, self.import_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.note_label)
        message_row = QHBoxLayout()
        message_row.addWidget(self.message_label, 1)
        message_row.addWidget(self.undo_button)
        layout.addLayout(message_row)
        layout.addWidget(self.warning_label)
        self.setTabOrder(self.entry, self.add_button)
        self.setTabOrder(self.add_button, self.list)
        self.setTabOrder(self.list, self.remove_button)

        self.set_terms(terms, emit=False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Delete (or Backspace) removes the selected terms while the list has focus (not while editing one).
        if (
            watched is self.list
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and (event.matches(QKeySequence.StandardKey.Delete) or event.key() == Qt.Key.Key_Backspace)
            and self.list.state() != QListWidget.State.EditingState
        ):
            self.remove_selected()
            return True
        return super().eventFilter(watched, event)

    # -- the list --------------------------------------------------------------------------
    def terms(self) -> tuple[str, ...]:
        out: list[str] = []
        for i in range(self.list.count()):
            t = " ".join(self.list.item(i).text().split())
            if t and t not in out:
                out.append(t)
        return tuple(out)

    def set_terms(self, terms: tuple[str, ...] | list[str], *, emit: bool = True) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for t in terms:
            self._append_item(t)
        self.list.blockSignals(False)
        self._changed(emit)

    def _append_item(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        item.setData(PREVIOUS, text)
        self.list.addItem(item)

    def _limits(self) -> Limits:
        """What the engine takes (no limits when it does not boost, or is not installed here)."""
        caps, name = self._caps, self._engine_name or "This engine"
        if caps is None or not caps.word_boost:
            return Limits(engine=name)
        limits = caps.word_boost_limits
        return Limits(max_terms=limits.max_terms, max_chars=limits.max_term_chars, engine=name)

    def add_terms(self, terms: list[str]) -> int:
        """Append the terms the engine can take and that are not in the list yet; return how many were added.

        One line says what was left out and why.
        """
        limits = self._limits()
        present = self.terms()
        result = admit(terms, set(present), len(self._usable(present)), limits)
        self.list.blockSignals(True)
        for t in result.added:
            self._append_item(t)
        self.list.blockSignals(False)
        text, refused = admitted_message(result, limits, single=len(terms) == 1)
        self._say(text, error=refused)
        if result.added:
            self.list.scrollToBottom()
            self._changed(True)
        return len(result.added)

    def _usable(self, terms: tuple[str, ...]) -> tuple[str, ...]:
        caps = self._caps
        if caps is None or not caps.word_boost:
            return terms
        return check_word_boost(caps, terms)[0]

    def _say(self, text: str, *, error: bool = True, undo: bool = False) -> None:
        """One line about the last change (red for what was refused); ``undo`` offers to undo Clear all."""
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #b3261e;" if error else "")
        self.message_label.setVisible(bool(text))
        self.undo_button.setVisible(undo)

    def clear_all(self) -> None:
        """Remove every term; the message line offers to undo it."""
        terms = self.terms()
        if not terms:
            return
        self._cleared = terms
        self.set_terms(())
        self._say(f"Removed all {plural(len(terms), 'term')}.", error=False, undo=True)

    def undo_clear(self) -> None:
        terms, self._cleared = self._cleared, ()
        self.set_terms(terms)
        self._say(f"Put back {plural(len(terms), 'term')}.", error=False)

    def add_from_entry(self) -> None:
        terms = split_terms(self.entry.text())
        if terms:
            self.add_terms(terms)
        self.entry.clear()
        self.entry.setFocus()

    def remove_selected(self) -> None:
        rows = sorted({self.list.row(i) for i in self.list.selectedItems()}, reverse=True)
        if not rows and self.list.currentItem() is not None:
            rows = [self.list.currentRow()]
        if not rows:
            return
        self.list.blockSignals(True)
        for r in rows:
            self.list.takeItem(r)
        self.list.blockSignals(False)
        self._say("")
        self._changed(True)

    def paste_text(self, text: str) -> int:
        return self.add_terms(split_terms(text))

    def paste_from_clipboard(self) -> int:
        return self.paste_text(QGuiApplication.clipboard().text())

    def import_file(self, path: str | Path) -> int:
        """Add every line of a UTF-8 text file; a problem is shown in the warning line, never raised."""
        p = Path(path)
        try:
            if p.stat().st_size > MAX_IMPORT_BYTES:
                raise ValueError(f"the file is larger than {MAX_IMPORT_BYTES // 1000} kB")
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self._say(f"Cannot import {p.name}: {reason}")
            return 0
        return self.paste_text(text)

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import word boost terms", "", "Text files (*.txt *.csv);;All files (*)"
        )
        if path:
            self.import_file(path)

    def _item_edited(self, item: QListWidgetItem) -> None:
        text = " ".join(item.text().split())
        limits = self._limits()
        max_chars = limits.max_chars
        self.list.blockSignals(True)
        if not text:
            self.list.takeItem(self.list.row(item))
        elif max_chars is not None and len(text) > max_chars:
            item.setText(str(item.data(PREVIOUS)))  # the engine could not take it: keep what was there
            self.list.blockSignals(False)
            self._say(
                f"Not changed: {shown(text)} is longer than {max_chars} characters, the most {limits.engine} takes."
            )
            return
        else:
            item.setData(PREVIOUS, text)
        self.list.blockSignals(False)
        self._say("")
        self._changed(True)

    # -- validation ------------------------------------------------------------------------
    def set_capabilities(self, caps: Capabilities | None, engine_name: str) -> None:
        """Validate against this engine from now on (``None``: the engine is not installed here)."""
        self._caps = caps
        self._engine_name = engine_name
        self._changed(False)

    def warnings(self) -> list[str]:
        if self._caps is None:
            return []
        return check_word_boost(self._caps, self.terms())[1]

    def _changed(self, emit: bool) -> None:
        terms = self.terms()
        caps = self._caps
        limits = caps.word_boost_limits if caps is not None else None
        max_terms = limits.max_terms if limits else None
        max_chars = limits.max_term_chars if limits else None
        n = len(terms)
        self.count_label.setText(f"{n} / {max_terms} terms" if max_terms else f"{n} term" + ("" if n == 1 else "s"))

        if caps is None:
            note = f"{self._engine_name or 'This engine'} is not installed here, so its limits are not known."
        elif not caps.word_boost:
            note = f"{self._engine_name} does not support word boost: the terms are kept but not used with it."
            if caps.notes:
                note += f" ({caps.notes})"
        else:
            parts = []
            if max_terms:
                parts.append(f"up to {max_terms} terms")
            if max_chars:
                parts.append(f"each at most {max_chars} characters")
            note = f"{self._engine_name} recognises these words more readily" + (
                f" ({', '.join(parts)})." if parts else "."
            )
        self.note_label.setText(note)

        boosting = caps is not None and caps.word_boost
        kept = self._usable(terms) if boosting else ()
        warning = unused_message(terms, kept, self._limits()) if boosting else ""
        self.warning_label.setText(warning)
        self.warning_label.setVisible(bool(warning))

        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            text = " ".join(item.text().split())
            tip = ""
            if boosting and text not in kept:
                if max_chars and len(text) > max_chars:
                    tip = f"Longer than {max_chars} characters: ignored by {self._engine_name}"
                elif max_terms:
                    tip = f"Over the limit of {max_terms} terms: ignored by {self._engine_name}"
            item.setForeground(WARN_BRUSH if tip else QBrush())
            item.setToolTip(tip)
        self.list.blockSignals(False)
        if emit:
            self.terms_changed.emit(terms)
