"""The profanity filter: strong swear words and slurs masked in what is shown and exported.

A masked word keeps its first letter and its length, every other letter becomes ``*`` ("f***", "sh*****g"):
the reader still knows a word was said, and interim text keeps the lengths its tentative tail relies on. It is
applied where captions leave for a view (the overlay and the transcript window through the desktop app's
controller, the CLI's output, every export); the transcript and its autosave keep the raw text, so turning
the filter off shows everything again.

The word list is built in and short on purpose (:data:`ROOTS`, :data:`WORDS`): the words broadcasters bleep
and the commonest slurs, in English (the local engine's language). A root also matches its usual endings
(:data:`ENDINGS`: "fucking", "shitty", "bitches"), never a word that merely contains it ("Scunthorpe",
"assistant", "cocktail" stay). Mild words (damn, hell, crap, ass) and words with an everyday meaning (cock,
dick, fag, piss, prick) are not masked. Packages were considered: ``better-profanity`` matches thousands of
variants including ordinary words, ``profanity-check`` needs scikit-learn and a model: both would add a
dependency, neither is more predictable than a list one can read here.
"""

from __future__ import annotations

import dataclasses
import re

from captioner.captions.events import CaptionEvent, Final, Interim, Word
from captioner.captions.transcript import Change, Line

ROOTS = frozenset(
    {
        "fuck",
        "motherfuck",
        "shit",
        "bullshit",
        "horseshit",
        "dipshit",
        "cunt",
        "cocksuck",
        "bitch",
        "bastard",
        "twat",
        "wank",
        "slut",
        "whore",
        "asshole",
        "arsehole",
        "nigger",
        "nigga",
        "faggot",
    }
)
"""Masked alone or with one of :data:`ENDINGS`."""
WORDS = frozenset({"shite", "dickhead", "kike", "fucken", "sonofabitch"})
"""Masked as they are."""
ENDINGS = ("", "s", "es", "ed", "er", "ers", "ing", "in", "y", "ier", "iest", "head", "heads", "face", "hole", "holes")

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
_LETTER = re.compile(r"[A-Za-z]")


_DOUBLED = ("y", "ier", "iest", "ing", "in", "ed", "er", "ers")
"""Endings after which the root's last letter is doubled ("shitty", "slutty")."""


def is_profane(word: str) -> bool:
    """Whether ``word`` (letters, maybe an apostrophe) is on the list."""
    w = word.lower().replace("'", "")
    if w in WORDS:
        return True
    for root in ROOTS:
        if w.startswith(root):
            rest = w[len(root) :]
            if rest in ENDINGS or (rest[:1] == root[-1] and rest[1:] in _DOUBLED):
                return True
    return False


def _mask_word(match: re.Match[str]) -> str:
    word = match.group(0)
    if not is_profane(word):
        return word
    return word[0] + _LETTER.sub("*", word[1:])


def mask(text: str) -> str:
    """``text`` with every profane word masked (same length)."""
    return _WORD.sub(_mask_word, text)


def _mask_words(words: tuple[Word, ...]) -> tuple[Word, ...]:
    return tuple(dataclasses.replace(w, text=mask(w.text)) for w in words)


def _mask_tail(text: str, masked: str, tail: str) -> str:
    return masked[len(text) - len(tail) :] if tail and text.endswith(tail) else mask(tail)


def mask_line(line: Line) -> Line:
    """``line`` as shown with the filter on."""
    masked = mask(line.text)
    if masked == line.text and not line.words:
        return line
    return dataclasses.replace(
        line, text=masked, tail=_mask_tail(line.text, masked, line.tail), words=_mask_words(line.words)
    )


def mask_lines(lines: list[Line]) -> list[Line]:
    return [mask_line(line) for line in lines]


def mask_change(change: Change) -> Change:
    """``change`` as views see it with the filter on."""
    line = mask_line(change.line)
    return change if line is change.line else dataclasses.replace(change, line=line)


def mask_event(event: CaptionEvent) -> CaptionEvent:
    """A caption event's text masked (other events unchanged)."""
    if isinstance(event, Interim):
        masked = mask(event.text)
        return dataclasses.replace(event, text=masked, tail=_mask_tail(event.text, masked, event.tail))
    if isinstance(event, Final):
        return dataclasses.replace(event, text=mask(event.text), words=_mask_words(event.words))
    return event
