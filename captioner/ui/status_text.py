"""The words of the caption controller's state and notices: the source as people call it, a cloud engine's
reason for reconnecting, and a monitor picked as "the microphone". Plain functions, no Qt."""

from __future__ import annotations

from pathlib import Path

SOURCE_LABELS = {"mic": "Microphone", "system": "System audio", "both": "Microphone and system audio"}


def sentence(text: str) -> str:
    """``text`` with a capital first letter and no final full stop (it is followed by more)."""
    text = text.strip().rstrip(".")
    return text[:1].upper() + text[1:]


def source_label(source: str, monitor: str = "") -> str:
    """Microphone, System audio, both (meeting mode), or a file's name; ``monitor``: what the "microphone"
    really records."""
    if source not in SOURCE_LABELS:
        return Path(source).name
    label = SOURCE_LABELS[source]
    if source == "mic" and monitor:
        label += f" (really “{monitor}”: what the computer plays)"
    return label


def reconnecting(reason: str, wait: str) -> str:
    """The state while waiting to reconnect: the reason, whole, first; then ``wait`` ("reconnecting in …")."""
    return f"{sentence(reason)} — {wait}" if reason else f"Reconnecting · {wait}"


def interrupted(reason: str) -> str:
    """The notification while captions are interrupted but the session keeps trying."""
    return f"{sentence(reason)}. Captions resume by themselves when it is back; Captioner keeps trying."


def monitor_notice(monitor: str) -> str:
    return (
        f"This “microphone” is “{monitor}”, which records what the computer plays, not your voice. "
        "Connect a microphone (then pick it in Settings), or choose System audio if that is what "
        "you want captioned."
    )
