"""Word boost terms without widgets: splitting pasted text, admitting terms within an engine's limits, and the
one-line messages about what was left out or what an engine will not use.

:class:`Limits` is what the engine takes (``None`` where it sets no limit); :func:`admit` decides, term by
term, what goes into the list; :func:`admitted_message` and :func:`unused_message` say it in plain words,
quoting a long term shortened so that no message is one unbreakable line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SHOWN_CHARS = 32
"""Characters of a term quoted in a message."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    max_terms: int | None = None
    max_chars: int | None = None
    engine: str = "This engine"


@dataclass(slots=True, kw_only=True)
class Admitted:
    """What :func:`admit` did with the terms it was given."""

    added: list[str] = field(default_factory=list)
    too_long: list[str] = field(default_factory=list)
    over: int = 0
    """Terms beyond the number of terms the engine takes."""
    repeated: int = 0
    """Terms already in the list."""


def split_terms(text: str) -> list[str]:
    """Terms from pasted or imported text: one per line (commas and tabs also separate).

    Blank lines and ``#`` comments are dropped; runs of spaces are collapsed.
    """
    out: list[str] = []
    for raw in text.replace("\t", "\n").replace(",", "\n").splitlines():
        t = " ".join(raw.split())
        if t and not t.startswith("#"):
            out.append(t)
    return out


def shown(term: str, limit: int = SHOWN_CHARS) -> str:
    """``term`` quoted for a message, shortened to ``limit`` characters."""
    return f"“{term if len(term) <= limit else term[: limit - 1] + '…'}”"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def admit(terms: list[str], present: set[str], usable: int, limits: Limits) -> Admitted:
    """Which of ``terms`` may join a list holding ``present`` (``usable`` of them within the limits)."""
    out = Admitted()
    seen = set(present)
    for raw in terms:
        t = " ".join(raw.split())
        if not t:
            continue
        if t in seen:
            out.repeated += 1
        elif limits.max_chars is not None and len(t) > limits.max_chars:
            out.too_long.append(t)
        elif limits.max_terms is not None and usable >= limits.max_terms:
            out.over += 1
        else:
            out.added.append(t)
            seen.add(t)
            usable += 1
    return out


def admitted_message(result: Admitted, limits: Limits, *, single: bool) -> tuple[str, bool]:
    """(one line on what was added or left out, whether it reports a refusal); ``""`` when nothing to say."""
    name, most, longest = limits.engine, limits.max_terms, limits.max_chars
    n = len(result.added)
    if single and result.too_long:
        return (
            f"Not added: {shown(result.too_long[0])} is longer than {longest} characters, the most {name} takes.",
            True,
        )
    if single and result.over:
        return f"Not added: {name} takes at most {most} terms. Remove some first.", True
    if single:
        return ("Already in the list.", False) if result.repeated else ("", False)
    if result.too_long or result.over:
        why = []
        if result.too_long:
            why.append(f"{len(result.too_long)} longer than {longest} characters")
        if result.over:
            why.append(f"{result.over} beyond {name}'s limit of {most} terms")
        left = len(result.too_long) + result.over
        return f"Added {plural(n, 'term')}; left out {left}: {' and '.join(why)}.", True
    if n or result.repeated:
        return f"Added {plural(n, 'term')}" + (
            f" ({result.repeated} already there)." if result.repeated else "."
        ), False
    return "", False


def unused_message(terms: tuple[str, ...], kept: tuple[str, ...], limits: Limits) -> str:
    """One line on the terms in the list that the engine will not use (saved for another engine)."""
    unused = [t for t in terms if t not in kept]
    if not unused:
        return ""
    long = sum(1 for t in unused if limits.max_chars is not None and len(t) > limits.max_chars)
    why = []
    if long:
        why.append(f"{long} longer than {limits.max_chars} characters")
    if len(unused) > long:
        why.append(f"{len(unused) - long} beyond its limit of {limits.max_terms} terms")
    return f"{limits.engine} will not use {plural(len(unused), 'term')} (in red): {' and '.join(why)}."
