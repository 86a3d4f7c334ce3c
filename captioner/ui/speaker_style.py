"""How views tell speakers apart: the label and colour of each speaker, free of Qt.

A caption line's ``speaker`` is data ("You" and "Others" in meeting mode, a diarising engine's ids such as "A",
"B"); this module maps it to what a person sees, and only that — exports keep the ids. Speakers are shown when
a session has had more than one of them, or in meeting mode (a "You" or "Others" line); with one speaker
nothing changes. "You" and "Others" take the label text and colour set on the Appearance page; every other
speaker takes a colour of :data:`PALETTE`, fixed by its id (the overlay and the transcript window agree
without sharing state), and its id as the label. Colours are checked for legibility with the WCAG contrast
ratio (:func:`contrast_ratio`) against the overlay background as it looks over a white and over a black
window; in the high-contrast theme a chosen colour below 4.5:1 on its black is replaced by the default one.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from captioner.settings import MEETING_SPEAKERS, Appearance

PALETTE = ("#a6e3a1", "#ffa8d9", "#c9b6ff", "#ffb38a", "#7ee8e0", "#e2f08a")
"""The colours of diarised speakers: light, distinct hues, legible on the overlay's dark background, and apart
from the default colours of "You" (light blue) and "Others" (amber), which a meeting may show with them."""
_MEETING_DEFAULTS = {"You": Appearance().you_color, "Others": Appearance().others_color}
MIN_CONTRAST = 4.5
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


def _rgb(color: str) -> tuple[float, float, float]:
    if not _HEX.match(color):
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    return tuple(int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]


def relative_luminance(color: str) -> float:
    """The WCAG 2 relative luminance of a ``#rrggbb`` colour (0 black … 1 white)."""

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two colours (1 … 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def composite(color: str, opacity: float, below: str) -> str:
    """``color`` at ``opacity`` over ``below``, as the eye sees it."""
    top, under = _rgb(color), _rgb(below)
    mixed = (round((opacity * t + (1 - opacity) * u) * 255) for t, u in zip(top, under, strict=True))
    return "#" + "".join(f"{c:02x}" for c in mixed)


def backgrounds(appearance: Appearance) -> tuple[str, ...]:
    """The overlay background as it looks over a white window and over a black one (after high contrast)."""
    if appearance.high_contrast:
        return ("#000000",)
    bg = appearance.background_color if _HEX.match(appearance.background_color) else "#000000"
    opacity = min(1.0, max(0.0, appearance.background_opacity))
    return tuple(dict.fromkeys(composite(bg, opacity, below) for below in ("#ffffff", "#000000")))


def worst_contrast(color: str, appearance: Appearance) -> float:
    """The lowest contrast ratio of ``color`` against the overlay background over any window."""
    return min(contrast_ratio(color, bg) for bg in backgrounds(appearance))


def speakers_shown(speakers: Iterable[str | None]) -> bool:
    """Whether views should tell speakers apart: more than one speaker, or meeting mode."""
    seen = {s for s in speakers if s is not None}
    return len(seen) > 1 or bool(seen & set(MEETING_SPEAKERS))


def palette_index(speaker: str) -> int:
    """A diarised speaker's place in :data:`PALETTE`, fixed by its id: "A" 0, "B" 1…, "1" 0, "2" 1…"""
    s = speaker.strip().upper()
    if len(s) == 1 and "A" <= s <= "Z":
        return (ord(s) - ord("A")) % len(PALETTE)
    digits = s.removeprefix("SPEAKER").strip(" _-")
    if digits.isdigit():
        return (int(digits) - 1) % len(PALETTE)
    return zlib.crc32(s.encode("utf-8")) % len(PALETTE)


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeakerLook:
    """What a speaker looks like: the label text ("" for none) and the colour (``None``: the view's own)."""

    label: str
    color: str | None


class SpeakerStyle:
    """The label and colour of every speaker, for one :class:`~captioner.settings.Appearance`."""

    def __init__(self, appearance: Appearance) -> None:
        self.appearance = appearance
        a = appearance
        self.key = (a.speaker_style, a.you_label, a.you_color, a.others_label, a.others_color, a.high_contrast)
        """What the look of speakers depends on (two styles with the same key look the same)."""
        style = appearance.speaker_style
        self.enabled = style != "off"
        self.labels = style in ("label_and_color", "label")
        self.colors = style in ("label_and_color", "color")
        self._own = {
            "You": (appearance.you_label, appearance.you_color),
            "Others": (appearance.others_label, appearance.others_color),
        }

    def label(self, speaker: str | None) -> str:
        """The label shown before a speaker's turn ("" when labels are off or the speaker is unknown)."""
        if not self.labels or not speaker:
            return ""
        return self._own.get(speaker, (speaker, ""))[0]

    def tag(self, speaker: str | None) -> str:
        """The label as the overlay puts it before a turn ("You:"), or ""."""
        label = self.label(speaker)
        return f"{label}:" if label else ""

    def name(self, speaker: str | None) -> str:
        """The speaker's display name whatever the style (the transcript window's column)."""
        if not speaker:
            return ""
        return self._own.get(speaker, (speaker, ""))[0]

    def color(self, speaker: str | None) -> str | None:
        """The speaker's colour (``None`` when colours are off or the speaker is unknown)."""
        if not self.colors or not speaker:
            return None
        return self.any_color(speaker)

    def any_color(self, speaker: str) -> str:
        """The speaker's colour whatever the style; in high contrast, one that is legible on black."""
        own = self._own.get(speaker)
        chosen = own[1] if own is not None else PALETTE[palette_index(speaker)]
        if not self.appearance.high_contrast or worst_contrast(chosen, self.appearance) >= MIN_CONTRAST:
            return chosen
        return _MEETING_DEFAULTS[speaker]  # only a chosen colour can fail: the defaults pass (tested)

    def look(self, speaker: str | None) -> SpeakerLook:
        return SpeakerLook(label=self.label(speaker), color=self.color(speaker))
