"""The letter-to-sound fallback used by word boost for words missing from the dictionary."""

from __future__ import annotations

import pytest

from captioner.engines.local.g2p import PHONES, letter_to_sound, spell_out


@pytest.mark.parametrize(
    ("word", "phones"),
    [
        ("bake", "B EY K"),
        ("table", "T AE B AH L"),
        ("happy", "HH AE P IY"),
        ("Hevven", "HH EH V EH N"),
        ("station", "S T AE SH AH N"),
        ("church", "CH ER CH"),
        ("GPU", "JH IY P IY Y UW"),
        ("mp3", "EH M P IY TH R IY"),
    ],
)
def test_letter_to_sound(word: str, phones: str) -> None:
    assert letter_to_sound(word) == phones


@pytest.mark.parametrize("word", ["kubernetes", "Uhlive", "pocketsphinx", "xylophone", "quartz", "Zoë", "aaa", "y"])
def test_every_phone_belongs_to_the_acoustic_model(word: str) -> None:
    phones = letter_to_sound(word).split()
    assert phones, word
    assert set(phones) <= PHONES


def test_nothing_to_pronounce() -> None:
    assert letter_to_sound("--") == ""
    assert spell_out("ab") == "EY B IY"


def test_phone_set_matches_the_bundled_model() -> None:
    from pocketsphinx import Decoder

    d = Decoder(loglevel="FATAL", mmap=False)
    for phone in sorted(PHONES):
        d.add_word(f"x-{phone.lower()}", phone, False)  # raises for a phone the model lacks
    with pytest.raises(RuntimeError):
        d.add_word("x-bad", "QQ", False)
