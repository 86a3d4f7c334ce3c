"""Helpers shared by the settings pages: engine look-ups, plain-words texts, small widgets."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QWidget

from captioner import secrets
from captioner.engines import registry
from captioner.engines.base import Capabilities
from captioner.settings import Settings

log = logging.getLogger(__name__)

FAST_MS = 150
"""Debounce of discrete edits (a checkbox, a slider step): coalesces bursts of key presses."""
TEXT_MS = 600
"""Debounce of text fields: the user is probably still typing."""


def engine_capabilities(engine_id: str) -> Capabilities | None:
    """The engine's capabilities, or ``None`` when the engine cannot be loaded here."""
    info = registry.ENGINES.get(engine_id)
    if info is None:
        return None
    try:
        return info.capabilities
    except Exception as exc:  # a missing or broken optional engine must never break the panel
        log.debug("capabilities of %s unavailable: %s", engine_id, exc)
        return None


def engine_availability(engine_id: str) -> tuple[bool, str]:
    info = registry.ENGINES.get(engine_id)
    if info is None:
        return False, "unknown engine"
    try:
        return info.availability()
    except Exception as exc:
        return False, f"cannot check this engine: {exc}"


def availability_sentence(engine_id: str) -> tuple[bool, str]:
    """``(ready, one plain sentence)``: whether the engine can caption here now, and what it needs if not.

    For an engine with credentials it says where they come from, or that they are missing, rather than the
    engine's own "ready" (which only means its code loads).
    """
    ok, why = engine_availability(engine_id)
    if not ok:
        return False, f"Not usable here: {why.rstrip('.')}."
    caps = engine_capabilities(engine_id)
    fields = secrets.fields_for(engine_id)
    if caps is None or not caps.needs_credentials or not fields:
        return True, "Ready to use."
    what = "an API key" if "api_key" in fields else "client credentials (a client ID and secret, or a token)"
    it = "the API key" if "api_key" in fields else "the credentials"
    where = {f: secrets.where(engine_id, f) for f in fields}
    if secrets.has_credentials(secrets.resolve(engine_id)):
        found = {w for w in where.values() if w}
        if found == {"environment"}:
            env = " and ".join(fields[f] for f, w in where.items() if w == "environment")
            return True, f"Ready: uses {it} from {env}."
        if "session" in found:
            return True, f"Ready: uses {it} kept for this session only."
        return True, f"Ready: uses {it} saved in the system keyring."
    env = " and ".join(v for f, v in fields.items() if f != "token")
    below = "enter it below" if secrets.keyring_available() else "enter it below for this session only"
    return False, f"Needs {what} before it can caption: {below}, or set {env}."


def engine_name(engine_id: str) -> str:
    info = registry.ENGINES.get(engine_id)
    return info.name if info else engine_id


def silence_explanation(ms: int) -> str:
    """What the silence threshold changes, in plain words, for the value ``ms``."""
    s = ms / 1000
    pause = f"{s:.1f} second" + ("" if abs(s - 1.0) < 1e-9 else "s")
    if ms < 400:
        return (
            f"A caption line is finalised after a pause of {pause}. Lines are committed very quickly, "
            "but a sentence may be cut in two wherever the speaker hesitates."
        )
    if ms <= 1200:
        return (
            f"A caption line is finalised after a pause of {pause}, about the natural pause between "
            "sentences. Good for most conversations."
        )
    return (
        f"A caption line is finalised only after {pause} of silence. Lines are longer and rarely split, "
        "but the last words stay tentative (and may change) for longer."
    )


def note_label(text: str = "", *, name: str = "") -> QLabel:
    """A wrapped, selectable note (plain text, never rich text from outside)."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(label.textFormat().PlainText)
    if name:
        label.setObjectName(name)
        label.setAccessibleName(name.replace("_", " "))
    return label


class Page(QWidget):
    """Base of a settings page."""

    edited = Signal(int)
    """The user changed something; the argument is the debounce delay in ms."""

    title = ""

    def apply(self, settings: Settings) -> Settings:
        raise NotImplementedError

    def close_page(self) -> None:
        """The dialog is closing: flush anything pending, stop anything running."""
