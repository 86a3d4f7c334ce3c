"""The Moonshine tokenizer read from ``tokenizer.bin``: decoding the model's ids, and encoding text for word boost."""

from __future__ import annotations

from pathlib import Path

import pytest

from captioner.engines.moonshine.tokenizer import BYTE_BASE, END, START, Tokenizer, TokenizerError


def test_vocabulary_layout(tokenizer: Tokenizer) -> None:
    assert tokenizer.size == 32000
    assert tokenizer.pieces[START] == b"<s>" and tokenizer.pieces[END] == b"</s>"
    assert tokenizer.pieces[BYTE_BASE + ord("A")] == b"A"  # byte-fallback tokens hold one raw byte


@pytest.mark.parametrize(
    "text",
    [
        "Ever tried. Ever failed. No matter.",
        "It was the best of times, it was the worst of times.",
        "Kubernetes and PostgreSQL at 3:45 p.m.",
        "café naïve 東京 😀",
        "  two  spaces ",
    ],
)
def test_encode_then_decode_gives_the_text_back(tokenizer: Tokenizer, text: str) -> None:
    ids = tokenizer.encode(text)
    assert ids and all(0 <= i < tokenizer.size for i in ids)
    assert tokenizer.decode(ids) == text


def test_encoding_merges_to_whole_word_pieces(tokenizer: Tokenizer) -> None:
    # Frequent words are single pieces with the word-start marker; a rare name splits into a few.
    the = tokenizer.encode("the")
    assert len(the) == 1 and tokenizer.pieces[the[0]] == "\u2581the".encode()
    assert tokenizer.encode("the", leading_space=False) != the
    assert 2 <= len(tokenizer.encode("Nagg")) <= 4
    # Characters outside the vocabulary fall back to their UTF-8 bytes.
    assert all(BYTE_BASE <= i < BYTE_BASE + 256 for i in tokenizer.encode("😀", leading_space=False))


def test_decode_skips_special_and_unknown_ids(tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode("Fail better.")
    assert tokenizer.decode([START, *ids, END, 32500]) == "Fail better."


def test_bad_files_are_reported_plainly(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="cannot read"):
        Tokenizer.from_file(tmp_path / "missing.bin")
    truncated = tmp_path / "t.bin"
    truncated.write_bytes(b"\x05<unk>\x03<s")
    with pytest.raises(TokenizerError, match="truncated"):
        Tokenizer.from_file(truncated)
    tiny = tmp_path / "tiny.bin"
    tiny.write_bytes(b"\x05<unk>\x03<s>\x04</s>")
    with pytest.raises(TokenizerError, match="not a Moonshine vocabulary"):
        Tokenizer.from_file(tiny)
