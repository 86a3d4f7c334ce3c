"""Word boost for Moonshine: contextual biasing of the greedy decoder with a prefix tree of boosted terms.

As in sherpa-onnx hotwords and WeNet context biasing, each boosted term is written in the forms the model
may produce (as given, lower case, capitalised; with and without the leading space that starts a word) and
each form is encoded to tokens; the token sequences make one prefix tree (:class:`BiasTrie`). While decoding,
:class:`BiasMatcher` follows the tree: every token that starts a term (at rest) or continues the term being
matched gets ``score`` added to its logit (a log-probability bonus, since the normaliser is the same for all
tokens). When the decoder then leaves the tree before a term is complete, the bonus is withdrawn: a beam
search would drop that hypothesis; this greedy decoder rewinds to where the term started (its key/value
cache is kept there, by reference) and decodes that position again without any term start allowed. A
completed term is kept. So a boost can only make a whole term win, never leave a fragment of one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from captioner.engines.moonshine.tokenizer import Tokenizer

DEFAULT_SCORE = 3.0
"""Bonus per token of a boosted term, in log-probability units (nats); see docs/local-engine.md."""
_EMPTY = np.zeros(0, dtype=np.int64)


def spellings(term: str) -> list[str]:
    """The forms of ``term`` the model may write: as given, lower case, first letter and every word capitalised."""
    t = " ".join(term.split())
    if not t:
        return []
    forms = [t, t.lower(), t[0].upper() + t[1:], " ".join(w[0].upper() + w[1:] for w in t.split())]
    return list(dict.fromkeys(forms))


@dataclass(eq=False)
class _Node:
    children: dict[int, _Node] = field(default_factory=dict)
    term: str | None = None
    """The term this node completes (``None`` inside a term)."""
    keys: np.ndarray = field(default_factory=lambda: _EMPTY)


class BiasTrie:
    """The prefix tree of the boosted terms' token sequences, and the bonus per token."""

    def __init__(self, tokenizer: Tokenizer, terms: Iterable[str], score: float = DEFAULT_SCORE) -> None:
        self.score = float(score)
        self.root = _Node()
        self.terms: tuple[str, ...] = tuple(dict.fromkeys(t.strip() for t in terms if t.strip()))
        self.size = 0
        """Number of token sequences in the tree."""
        seen: set[tuple[int, ...]] = set()
        for term in self.terms:
            for form in spellings(term):
                for leading_space in (True, False):
                    seq = tuple(tokenizer.encode(form, leading_space=leading_space))
                    if seq and seq not in seen:
                        seen.add(seq)
                        self._add(seq, term)
        self._index(self.root)
        self._root_keys = self.root.keys

    def _add(self, seq: tuple[int, ...], term: str) -> None:
        node = self.root
        for tok in seq:
            node = node.children.setdefault(tok, _Node())
        node.term = term
        self.size += 1

    def _index(self, node: _Node) -> None:
        stack = [node]
        while stack:
            n = stack.pop()
            n.keys = np.fromiter(n.children, dtype=np.int64, count=len(n.children))
            stack.extend(n.children.values())


class BiasMatcher:
    """Where one decode is in a :class:`BiasTrie`: which tokens get the bonus, and whether a term was abandoned."""

    def __init__(self, trie: BiasTrie) -> None:
        self.trie = trie
        self.node = trie.root
        self.completed: list[str] = []
        """Terms completed so far in this decode (for tests and notices)."""

    @property
    def at_rest(self) -> bool:
        """No term is half-matched: a rewind never needs to go back further than here."""
        return self.node is self.trie.root or self.node.term is not None

    def reset(self) -> None:
        self.node = self.trie.root

    def candidates(self, *, may_start: bool) -> np.ndarray:
        """Token ids that get the bonus now: continuations of the current match, and term starts if allowed."""
        root = self.trie.root
        if self.node is root:
            return root.keys if may_start else _EMPTY
        if self.node.term is not None and may_start:
            return np.union1d(self.node.keys, root.keys)
        return self.node.keys

    def push(self, token: int, *, may_start: bool = True) -> bool:
        """Follow ``token``; ``False`` when it abandons a term before its end (the caller rewinds)."""
        root = self.trie.root
        node = self.node
        if node is not root:
            child = node.children.get(token)
            if child is not None:
                self._enter(child)
                return True
            if node.term is None:
                return False
            self.node = root
        if may_start:
            child = root.children.get(token)
            if child is not None:
                self._enter(child)
        return True

    def _enter(self, child: _Node) -> None:
        if child.term is not None:
            self.completed.append(child.term)
        self.node = child if child.children else self.trie.root
