"""What the fake AssemblyAI "hears": scripted turns on the source timeline, and faults to inject.

A :class:`ScriptTurn` is what someone says (words with source times, their formatted form, who
says it, in which language); the fake's turn generator (:mod:`.turns`) reveals it as the audio
arrives, in the shape of the model the client asked for. A :class:`Fault` breaks one connection
at a given amount of received audio.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # source seconds
    end: float
    formatted: str | None = None

    @property
    def fmt(self) -> str:
        return self.formatted or self.text


@dataclass(frozen=True)
class ScriptTurn:
    words: tuple[Word, ...]
    speaker: str | None = None
    """Who says it (a person, e.g. ``"alice"``): the fake labels people A, B… per connection."""
    live_speaker: str | None = None
    """Whom the real-time label wrongly names; the ``SpeakerRevision`` at the end corrects it to ``speaker``."""
    language: str | None = None
    """The ``language_code`` reported with ``language_detection``."""
    tag: str | None = None
    """Whisper non-speech (``"Music"``…): the turn is a bracketed tag, not words."""

    @property
    def raw(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def formatted(self) -> str:
        return " ".join(w.fmt for w in self.words)

    @property
    def duration(self) -> float:
        return self.words[-1].end - self.words[0].start if self.words else 0.0


def make_turn(
    start: float,
    raw: str,
    formatted: str | None = None,
    word_s: float = 0.3,
    *,
    speaker: str | None = None,
    live_speaker: str | None = None,
    language: str | None = None,
    tag: str | None = None,
) -> ScriptTurn:
    """A turn whose words start at ``start`` (s), each ``word_s`` long (with a 20 ms gap)."""
    raw_words = raw.split()
    fmt_words = (formatted or raw).split()
    assert len(fmt_words) == len(raw_words)
    words = tuple(
        Word(r, round(start + i * word_s, 3), round(start + (i + 1) * word_s - 0.02, 3), f)
        for i, (r, f) in enumerate(zip(raw_words, fmt_words, strict=True))
    )
    return ScriptTurn(words, speaker=speaker, live_speaker=live_speaker, language=language, tag=tag)


@dataclass(frozen=True)
class Fault:
    connection: int  # index of the connection (0 = first)
    at_audio: float  # seconds of audio received on that connection
    kind: str  # "drop" | "error3005" | "close3005" | "expire" | "inactivity" | "close1008:<reason>"


def parse_bool(v: str | None) -> bool | None:
    if v is None:
        return None
    if v.lower() == "true":
        return True
    if v.lower() == "false":
        return False
    raise ValueError(v)
