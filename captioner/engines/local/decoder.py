"""The local engine's PocketSphinx decoder: its configurations, word boost, and reading a hypothesis.

* :data:`NORMAL_CONFIG` and :data:`FAST_CONFIG` (the cheaper mode the real-time guard switches to), and
  :func:`build_decoder`, which builds a decoder in either mode with the boosted words added.
* Word boost: each word of each term gets a fresh decoder word (a token ``<word>__boost``) with its
  dictionary pronunciations (all variants) or, for unknown words, a rule-based letter-to-sound
  pronunciation (:mod:`captioner.engines.local.g2p`), and a unigram in the language model with a raised
  weight.
* :func:`hypothesis`: the decoder's current word segments as caption text (boosted words shown as the
  user typed them) with source times; :func:`lm_filler_only` tells a hypothesis that is only what the
  language model fills a non-speech sound with.

``pocketsphinx`` is imported lazily, and a decoder is used from one thread only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from captioner.captions.events import Word
from captioner.engines.local.g2p import letter_to_sound

SAMPLE_RATE = 16_000
FRAME_RATE = 100  # PocketSphinx feature frames per second
BOOST_SUFFIX = "__boost"

#: Decoder settings for normal operation (measured on the real-speech fixtures, see docs/local-engine.md):
#: the forward-flat second pass costs time and did not lower WER on our fixtures, so it is off.
NORMAL_CONFIG: dict[str, Any] = {"fwdflat": False, "bestpath": True, "maxhmmpf": 10000, "topn": 2}
#: The cheaper mode used when decoding falls behind real time (~2-3x faster, less accurate).
FAST_CONFIG: dict[str, Any] = {
    "fwdflat": False,
    "bestpath": False,
    "beam": 1e-40,
    "wbeam": 1e-24,
    "pbeam": 1e-40,
    "maxhmmpf": 5000,
    "topn": 2,
}

_WORD_RE = re.compile(r"[A-Za-z0-9']+")

#: Words that never make an utterance on their own: articles, and the prepositions and conjunctions that need
#: something after them. They are also the language model's likeliest words, so when a short sound that is not
#: speech (a breath, a click, a hum) passes the voice-activity test, the decoder fills it with one of them: a
#: burst of noise decodes to a lone "the", "if", "at" or "a" (measured, docs/local-engine.md).
NEVER_ALONE = frozenset(
    {"a", "an", "the", "of", "to", "in", "at", "on", "by", "for", "from", "with", "as", "if", "and", "or"}
)


@dataclass(frozen=True, slots=True)
class BoostedWord:
    """One boosted word as added to the decoder."""

    display: str
    token: str
    pronunciations: tuple[str, ...]
    source: str  # "dictionary" or "letter-to-sound"


def boost_words(terms: tuple[str, ...]) -> list[str]:
    """The distinct words of ``terms`` (multi-word terms are boosted word by word)."""
    out: list[str] = []
    seen: set[str] = set()
    for term in terms:
        for w in _WORD_RE.findall(term):
            w = w.strip("'")
            if w and w.lower() not in seen:
                seen.add(w.lower())
                out.append(w)
    return out


def boost_token(word: str) -> str:
    """The decoder word that stands for boosted ``word``."""
    return re.sub(r"[^a-z0-9']", "", word.lower()) + BOOST_SUFFIX


def _pronunciations(decoder: Any, word: str) -> tuple[tuple[str, ...], str]:
    lower = word.lower()
    prons: list[str] = []
    k = 1
    while True:
        p = decoder.lookup_word(lower if k == 1 else f"{lower}({k})")
        if not p:
            break
        prons.append(p)
        k += 1
    if prons:
        return tuple(prons), "dictionary"
    lts = letter_to_sound(word)
    return ((lts,) if lts else ()), "letter-to-sound"


def apply_boost(decoder: Any, words: list[str], weight: float) -> list[BoostedWord]:
    """Add ``words`` to ``decoder``: dictionary entries and raised LM unigrams. Between utterances only."""
    lm = decoder.get_lm()
    added: list[BoostedWord] = []
    entries: list[tuple[str, str]] = []
    for word in words:
        token = boost_token(word)
        if decoder.lookup_word(token) or any(b.token == token for b in added):
            continue  # already boosted
        prons, source = _pronunciations(decoder, word)
        if not prons:
            continue
        # The LM unigram first: the decoder's add_word would otherwise add it with a uniform weight.
        if lm is not None:
            lm.add_word(token, float(weight))
        entries.extend((token if i == 0 else f"{token}({i + 1})", pron) for i, pron in enumerate(prons))
        added.append(BoostedWord(word, token, prons, source))
    for i, (name, pron) in enumerate(entries):
        # Rebuild the search (lexicon tree) once, with the last word.
        decoder.add_word(name, pron, i == len(entries) - 1)
    return added


def build_decoder(fast: bool, boost: list[str], weight: float) -> tuple[Any, list[BoostedWord]]:
    """A decoder in the normal or the fast mode, with ``boost`` added; and the words it boosted."""
    from pocketsphinx import Decoder

    cfg = dict(FAST_CONFIG if fast else NORMAL_CONFIG)
    decoder = Decoder(loglevel="FATAL", mmap=False, samprate=SAMPLE_RATE, **cfg)
    added = apply_boost(decoder, boost, weight) if boost else []
    return decoder, added


def hypothesis(decoder: Any, boosted: Mapping[str, BoostedWord], t0: float) -> tuple[str, tuple[Word, ...]]:
    """The decoder's words so far, each with its start and end on the source timeline (``t0`` = first sample
    fed), and the caption text they make."""
    words: list[Word] = []
    for seg in decoder.seg():
        w = seg.word
        if not w or w[0] in "<[+":
            continue
        w = re.sub(r"\(\d+\)$", "", w)
        if w.endswith(BOOST_SUFFIX):
            b = boosted.get(w)
            w = b.display if b is not None else w[: -len(BOOST_SUFFIX)]
        start = round(t0 + seg.start_frame / FRAME_RATE, 3)
        end = round(t0 + (seg.end_frame + 1) / FRAME_RATE, 3)
        words.append(Word(text=w, start=start, end=end))
    return " ".join(w.text for w in words), tuple(words)


def lm_filler_only(text: str) -> bool:
    """Whether ``text`` is nothing but words that never make an utterance alone (:data:`NEVER_ALONE`)."""
    words = text.lower().split()
    return bool(words) and all(w in NEVER_ALONE for w in words)
