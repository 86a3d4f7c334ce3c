"""A small rule-based letter-to-sound converter: English spelling → CMU (ARPABET) phones.

Used by the local engine's word boost for words that are not in the bundled
CMU dictionary (names, product names, jargon). It is deliberately simple:
greedy longest-match grapheme rules with a little context (silent final
``e``, soft ``c``/``g``, "magic e" long vowels, ``-tion``/``-sion``,
``-ed``/``-le`` endings, double consonants). It will not beat a trained
G2P model, but it gives the acoustic model a plausible pronunciation, which
is what a decoder needs to be able to recognise the word at all.
"""

from __future__ import annotations

import re

#: Every phone of the en-us acoustic model (besides SIL).
PHONES = frozenset(
    [
        "AA",
        "AE",
        "AH",
        "AO",
        "AW",
        "AY",
        "B",
        "CH",
        "D",
        "DH",
        "EH",
        "ER",
        "EY",
        "F",
        "G",
        "HH",
        "IH",
        "IY",
        "JH",
        "K",
        "L",
        "M",
        "N",
        "NG",
        "OW",
        "OY",
        "P",
        "R",
        "S",
        "SH",
        "T",
        "TH",
        "UH",
        "UW",
        "V",
        "W",
        "Y",
        "Z",
        "ZH",
    ]
)

_VOWELS = set("aeiouy")

_LONG = {"a": "EY", "e": "IY", "i": "AY", "o": "OW", "u": "UW", "y": "AY"}
_SHORT = {"a": "AE", "e": "EH", "i": "IH", "o": "AA", "u": "AH", "y": "IH"}

# Multi-letter graphemes, longest first (checked in this order).
_GRAPHEMES: list[tuple[str, str]] = [
    ("tion", "SH AH N"),
    ("sion", "ZH AH N"),
    ("ture", "CH ER"),
    ("ough", "AO"),
    ("augh", "AO"),
    ("eigh", "EY"),
    ("igh", "AY"),
    ("tch", "CH"),
    ("dge", "JH"),
    ("sch", "S K"),
    ("que", "K"),
    ("ph", "F"),
    ("th", "TH"),
    ("sh", "SH"),
    ("ch", "CH"),
    ("ck", "K"),
    ("ng", "NG"),
    ("nk", "NG K"),
    ("wh", "W"),
    ("wr", "R"),
    ("kn", "N"),
    ("gh", "G"),
    ("qu", "K W"),
    ("ee", "IY"),
    ("ea", "IY"),
    ("ie", "IY"),
    ("ei", "IY"),
    ("oo", "UW"),
    ("ou", "AW"),
    ("ow", "OW"),
    ("oa", "OW"),
    ("oe", "OW"),
    ("ai", "EY"),
    ("ay", "EY"),
    ("ey", "EY"),
    ("oi", "OY"),
    ("oy", "OY"),
    ("au", "AO"),
    ("aw", "AO"),
    ("ew", "UW"),
    ("ue", "UW"),
    ("ui", "UW"),
    ("ar", "AA R"),
    ("or", "AO R"),
    ("er", "ER"),
    ("ir", "ER"),
    ("ur", "ER"),
    ("yr", "ER"),
]

_CONSONANTS = {
    "b": "B",
    "d": "D",
    "f": "F",
    "h": "HH",
    "j": "JH",
    "k": "K",
    "l": "L",
    "m": "M",
    "n": "N",
    "p": "P",
    "r": "R",
    "s": "S",
    "t": "T",
    "v": "V",
    "w": "W",
    "x": "K S",
    "z": "Z",
}

_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_DIGIT_PHONES = {
    "zero": "Z IH R OW",
    "one": "W AH N",
    "two": "T UW",
    "three": "TH R IY",
    "four": "F AO R",
    "five": "F AY V",
    "six": "S IH K S",
    "seven": "S EH V AH N",
    "eight": "EY T",
    "nine": "N AY N",
}

# Letter names, for all-capital acronyms ("NASA" is read as a word, "GPU" is spelled out).
_LETTER_NAMES = {
    "a": "EY",
    "b": "B IY",
    "c": "S IY",
    "d": "D IY",
    "e": "IY",
    "f": "EH F",
    "g": "JH IY",
    "h": "EY CH",
    "i": "AY",
    "j": "JH EY",
    "k": "K EY",
    "l": "EH L",
    "m": "EH M",
    "n": "EH N",
    "o": "OW",
    "p": "P IY",
    "q": "K Y UW",
    "r": "AA R",
    "s": "EH S",
    "t": "T IY",
    "u": "Y UW",
    "v": "V IY",
    "w": "D AH B AH L Y UW",
    "x": "EH K S",
    "y": "W AY",
    "z": "Z IY",
}


def _is_vowel(word: str, i: int) -> bool:
    if not 0 <= i < len(word):
        return False
    c = word[i]
    if c == "y":
        return i > 0 and not _is_vowel(word, i - 1)  # "y" after a consonant sounds like a vowel
    return c in _VOWELS


def spell_out(word: str) -> str:
    """Phones for reading ``word`` letter by letter (acronyms)."""
    parts = []
    for c in word.lower():
        if c in _LETTER_NAMES:
            parts.append(_LETTER_NAMES[c])
        elif c.isdigit():
            parts.append(_DIGIT_PHONES[_DIGITS[int(c)]])
    return " ".join(parts)


def letter_to_sound(word: str) -> str:
    """A plausible ARPABET pronunciation of ``word`` (space-separated phones, never empty for a word with letters).

    >>> letter_to_sound("kubernetes").split()[:3]
    ['K', 'UW', 'B']
    """
    raw = word.strip()
    letters = re.sub(r"[^a-z0-9]", "", raw.lower())
    if not letters:
        return ""
    # Short all-capital words, capitals without vowels, and words with digits are spelled out (GPU, HTTP, MP3).
    if raw.isupper() and (len(letters) <= 3 or not any(c in "aeiou" for c in letters)):
        return spell_out(letters)
    if any(c.isdigit() for c in letters):
        return spell_out(letters)
    w = letters
    # Silent final "e" (not in "be", "the"-like two-letter words): remember it for the magic-e rule.
    magic_e = len(w) > 3 and w.endswith("e") and not w.endswith(("ee", "ie", "oe", "ue", "le"))
    if magic_e:
        w = w[:-1]
    phones: list[str] = []
    i = 0
    n = len(w)
    while i < n:
        c = w[i]
        if c.isdigit():
            phones.append(_DIGIT_PHONES[_DIGITS[int(c)]])
            i += 1
            continue
        # Word endings.
        rest = w[i:]
        if rest == "ed" and i >= 2:
            prev = w[i - 1]
            phones.append("IH D" if prev in "td" else "D")
            break
        if rest == "le" and i >= 1 and not _is_vowel(w, i - 1):
            phones.append("AH L")
            break
        if rest == "y" and i >= 1:
            phones.append("IY")
            break
        if rest == "es" and i >= 2 and w[i - 1] in "sxz":
            phones.append("IH Z")
            break
        matched = False
        for g, p in _GRAPHEMES:
            if w.startswith(g, i):
                phones.append(p)
                i += len(g)
                matched = True
                break
        if matched:
            continue
        nxt = w[i + 1] if i + 1 < n else ""
        if c == "c":
            phones.append("S" if nxt in ("e", "i", "y") else "K")
        elif c == "g":
            phones.append("JH" if nxt in ("e", "i", "y") and i + 1 < n - 1 else "G")
        elif c == "q":
            phones.append("K")
        elif c == "y" and not _is_vowel(w, i):
            phones.append("Y")
        elif _is_vowel(w, i):
            # Long vowel before consonant + (silent) final e, or at the end of an open syllable word.
            long_vowel = magic_e and i == n - 2 and not _is_vowel(w, n - 1)
            if not long_vowel and i == n - 1 and c != "a":
                long_vowel = True
            if long_vowel:
                phones.append(_LONG[c])
            elif i == n - 1 and c == "a":
                phones.append("AH")
            else:
                phones.append(_SHORT[c])
        elif c in _CONSONANTS:
            # Double consonants sound once.
            if i > 0 and w[i - 1] == c:
                i += 1
                continue
            phones.append(_CONSONANTS[c])
        i += 1
    out = " ".join(phones).split()
    return " ".join(p for p in out if p in PHONES)
