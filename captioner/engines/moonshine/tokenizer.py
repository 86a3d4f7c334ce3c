"""Moonshine's tokenizer: token ids to text, and text to token ids (for word boost), from ``tokenizer.bin``.

``tokenizer.bin`` is the model's SentencePiece-style BPE vocabulary as a plain list: for each token id in
order, one length byte and then the token's UTF-8 bytes. Ids 0-2 are ``<unk>``, ``<s>`` (start) and ``</s>``
(end); ids 3-258 are the 256 byte-fallback tokens (one raw byte each); the rest are pieces in which ``▁``
(U+2581) stands for a space. Decoding joins the pieces' bytes, turns ``▁`` into spaces and drops the one
leading space. Encoding is SentencePiece BPE: the text gets a leading ``▁`` and its spaces become ``▁``;
starting from single characters, the adjacent pair whose concatenation is the lowest-id piece is merged
until no pair is a piece (in this vocabulary a piece's id is its merge rank); characters that are no
piece become byte-fallback tokens. No other dependency is needed. Also the tidying of decoded text for
display (:func:`clean_text`, :func:`drop_repeated_tail`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

UNK, START, END = 0, 1, 2
BYTE_BASE = 3
"""Id of the byte-fallback token for byte 0; byte ``b`` is ``BYTE_BASE + b``."""
SPACE = "\u2581"
_SPACE_BYTES = SPACE.encode()
_WORD = re.compile(r"[A-Za-z0-9]")


class TokenizerError(Exception):
    """``tokenizer.bin`` is missing or not in the expected format."""


class Tokenizer:
    """The vocabulary of one model; decodes ids to text and encodes text to ids."""

    def __init__(self, pieces: list[bytes]) -> None:
        if len(pieces) < BYTE_BASE + 256 or pieces[START] != b"<s>" or pieces[END] != b"</s>":
            raise TokenizerError("not a Moonshine vocabulary (no <s>/</s> at ids 1-2, or too few tokens)")
        self.pieces = pieces
        self._ids: dict[str, int] = {}
        for i, raw in enumerate(pieces):
            if i < BYTE_BASE + 256:
                continue  # special and byte-fallback tokens never take part in merges
            try:
                self._ids.setdefault(raw.decode("utf-8"), i)
            except UnicodeDecodeError:
                continue

    @classmethod
    def from_file(cls, path: str | Path) -> Tokenizer:
        """Read ``tokenizer.bin``; :class:`TokenizerError` with a plain message if it is unusable."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise TokenizerError(f"cannot read the tokenizer {path}: {exc.strerror or exc}") from None
        pieces: list[bytes] = []
        i = 0
        while i < len(data):
            n = data[i]
            if i + 1 + n > len(data):
                raise TokenizerError(f"the tokenizer {path} is truncated")
            pieces.append(data[i + 1 : i + 1 + n])
            i += 1 + n
        return cls(pieces)

    @property
    def size(self) -> int:
        return len(self.pieces)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; special tokens and ids outside the vocabulary are skipped."""
        out = bytearray()
        for i in ids:
            if BYTE_BASE <= i < len(self.pieces):
                out += self.pieces[i]
        text = bytes(out).replace(_SPACE_BYTES, b" ").decode("utf-8", errors="replace")
        return text[1:] if text.startswith(" ") else text

    def encode(self, text: str, *, leading_space: bool = True) -> list[int]:
        """Token ids of ``text`` (BPE, as the model writes it); ``leading_space`` adds the usual ``▁`` first."""
        s = (SPACE if leading_space else "") + text.replace(" ", SPACE)
        symbols = list(s)
        while len(symbols) > 1:
            best, best_at = -1, -1
            for k in range(len(symbols) - 1):
                rank = self._ids.get(symbols[k] + symbols[k + 1], -1)
                if rank >= 0 and (best < 0 or rank < best):
                    best, best_at = rank, k
            if best < 0:
                break
            symbols[best_at : best_at + 2] = [symbols[best_at] + symbols[best_at + 1]]
        ids: list[int] = []
        for sym in symbols:
            known = self._ids.get(sym)
            if known is not None:
                ids.append(known)
            else:
                ids.extend(BYTE_BASE + b for b in sym.encode("utf-8"))
        return ids


def clean_text(text: str) -> str:
    """``text`` stripped, or ``""`` when it has no letter or digit."""
    t = " ".join(text.split())
    return t if _WORD.search(t) else ""


def drop_repeated_tail(text: str) -> str:
    """``text`` without the last copy of a phrase of three or more words said twice at its very end.

    For interims only: decoding audio cut mid-word often makes the model say the last phrase again; a real
    repeat comes back in the final, which is decoded without this cut.
    """
    words = text.split()
    keys = [re.sub(r"[^a-z0-9']", "", w.lower()) for w in words]
    n = len(words)
    for unit in range(3, n // 2 + 1):
        if keys[n - 2 * unit : n - unit] == keys[n - unit :]:
            return " ".join(words[: n - unit])
    return text
