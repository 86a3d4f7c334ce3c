"""What one row of the transcript window shows: the time, the speaker, and the caption with its language tag.

The speaker cell shows the speaker's display name (the Appearance page's "You"/"Others" labels, or the engine's
id) on the speaker's colour, in black text, so it reads on the window's light background too (the overlay's
colours are light, chosen for its dark background). The caption cell starts with a tag such as ``[fr]`` when
the engine detected a language other than the expected one: the language chosen for the engine, or English
when none is. The tag is display only: search, copy and export use the line's own text.
"""

from __future__ import annotations

import time

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QTableWidgetItem

from captioner.captions.transcript import Line
from captioner.ui.speaker_style import SpeakerStyle

TIME, CAPTION, SPEAKER = 0, 1, 2
"""The table's logical columns (the speaker column is shown between the other two)."""
DEFAULT_LANGUAGE = "en"


def primary_language(code: str | None) -> str:
    """The primary subtag of a language code, lower case ("en-US" → "en"); "" for none or a non-language."""
    if not code:
        return ""
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else ""


def language_tag(line: Line, expected: str | None) -> str:
    """``[fr]`` when ``line`` was detected in another language than ``expected`` (English when none), else ""."""
    detected = primary_language(line.language)
    if not detected or detected == (primary_language(expected) or DEFAULT_LANGUAGE):
        return ""
    return f"[{detected}]"


def format_time(line: Line) -> str:
    """``H:MM:SS`` on the source timeline, else the wall-clock time the line was heard."""
    if line.start is not None:
        total = int(max(0.0, line.start))
        h, rem = divmod(total, 3600)
        return f"{h}:{rem // 60:02d}:{rem % 60:02d}"
    if line.wall_time:
        return time.strftime("%H:%M:%S", time.localtime(line.wall_time))
    return ""


def caption_text(line: Line, expected: str | None) -> str:
    tag = language_tag(line, expected)
    return f"{tag} {line.text}" if tag else line.text


def fill_row(items: dict[int, QTableWidgetItem], line: Line, style: SpeakerStyle, expected: str | None) -> None:
    """Set the row's cells (``items`` by column) to show ``line``."""
    t = items[TIME]
    t.setText(format_time(line))
    if line.wall_time:
        t.setToolTip(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(line.wall_time)))
    caption = items[CAPTION]
    caption.setText(caption_text(line, expected))
    tag = language_tag(line, expected)
    caption.setToolTip(f"Detected language: {tag.strip('[]')}" if tag else "")
    speaker = items[SPEAKER]
    speaker.setText(style.name(line.speaker))
    speaker.setToolTip(f"Speaker {line.speaker}" if line.speaker else "")
    if line.speaker and style.enabled:
        speaker.setBackground(QBrush(QColor(style.any_color(line.speaker))))
        speaker.setForeground(QBrush(QColor("#000000")))
    else:
        speaker.setBackground(QBrush())
        speaker.setForeground(QBrush())
