"""Engine options: the one parser of every ``--option KEY=VALUE`` / ``EngineSettings.extra`` value.

Owns how an engine-specific option string becomes a value: :class:`OptionSpec`
(what an option is: kind, range, choices, pattern; the settings panel builds its
fields from these), the one table of words for on and off (:data:`TRUE_WORDS`,
:data:`FALSE_WORDS`), and the plain-words error messages. The settings panel
checks what the user types with :meth:`OptionSpec.check`; every engine's own
settings code reads its options with :meth:`OptionSpec.flag`,
:meth:`~OptionSpec.integer`, :meth:`~OptionSpec.number`, :meth:`~OptionSpec.choice`
and :meth:`~OptionSpec.text`, so the panel and the engine apply the same rule.

Values are strings. An empty value (``""``, or only spaces) is never a word for
on or off, nor a number: it means **not set**, and the option takes the engine's
default. That is what the settings panel stores when a field is cleared.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

OptionKind = Literal["choice", "bool", "float", "int", "text"]
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
_D = TypeVar("_D", int, float, None)


def _num(x: float) -> str:
    """``50``, ``0.4``, ``1000000``: whole numbers without a decimal point, others in full (``repr``)."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One engine-specific option: ``--option KEY=VALUE`` in the CLI, ``EngineSettings.extra[KEY]`` in the app.

    Values are strings; ``""`` means "not set" (the engine's own default).
    ``default`` is what the engine does when it is not set: shown to the user,
    and what :meth:`flag` returns for a ``bool`` that is not set.
    """

    key: str
    label: str
    kind: OptionKind
    choices: tuple[str, ...] = ()
    default: str = ""
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    pattern: str = ""
    """``text`` only: a regular expression the whole value must match (e.g. a URL)."""
    pattern_hint: str = ""
    """``text`` only: what the pattern asks for, in plain words ("an http(s) URL")."""
    aliases: tuple[tuple[str, str], ...] = ()
    """``choice`` only: other spellings accepted for a choice, as ``(alias, choice)``."""
    only_with: tuple[str, tuple[str, ...]] | None = None
    """``(other key, values)``: the option has an effect only while that other option has one of
    ``values`` (``""`` = not set), e.g. a parameter only some speech models take. The settings panel
    disables the field otherwise; the engine ignores the value there and says so."""

    def applies(self, values: Mapping[str, str]) -> bool:
        """Whether the option has an effect with the other options set as in ``values``."""
        if self.only_with is None:
            return True
        key, allowed = self.only_with
        return str(values.get(key, "")).strip() in allowed

    def check(self, raw: str, *, name: str | None = None) -> str:
        """``raw`` normalised (``""`` = not set), or ``ValueError`` with a plain-words message.

        ``name`` is how the message names the option (default: its label).
        """
        value = raw.strip()
        if not value:
            return ""
        name = name or self.label or self.key
        if self.kind == "bool":
            v = value.lower()
            if v in TRUE_WORDS:
                return "true"
            if v in FALSE_WORDS:
                return "false"
            raise ValueError(f"{name} must be true or false (on or off), got {value!r}")
        if self.kind == "choice":
            lowered = {c.lower(): c for c in self.choices} | {a.lower(): c for a, c in self.aliases}
            if value.lower() not in lowered:
                raise ValueError(f"{name} must be one of {', '.join(self.choices)}, got {value!r}")
            return lowered[value.lower()]
        if self.kind in ("int", "float"):
            return self._check_number(value, name)
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise ValueError(f"{name} must be {self.pattern_hint or 'in the form ' + self.pattern}, got {value!r}")
        return value

    def _check_number(self, value: str, name: str) -> str:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"{name} must be a number, got {value!r}")
        whole = self.kind == "int"
        if whole and not number.is_integer():
            raise ValueError(f"{name} must be a whole number, got {value!r}")
        lo, hi = self.minimum, self.maximum
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise ValueError(
                f"{name} must be {'an integer' if whole else 'a number'} {self.range_text()}, got {value!r}"
            )
        return str(int(number)) if whole else _num(number)

    def range_text(self) -> str:
        """``"between 0 and 1"``, ``"at least 5"``… (empty without limits)."""
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"between {_num(lo)} and {_num(hi)}"
        if lo is not None:
            return f"at least {_num(lo)}"
        if hi is not None:
            return f"at most {_num(hi)}"
        return ""

    # -- reading the option from an engine's ``extra`` -------------------------------------------
    # ``owner`` names the engine in messages: "AssemblyAI option chunk_ms must be …".

    def value(self, extra: Mapping[str, str], owner: str) -> str:
        """The option as set in ``extra``, normalised by :meth:`check` (``""``: not set)."""
        raw = extra.get(self.key)
        return "" if raw is None else self.check(str(raw), name=f"{owner} option {self.key}")

    def flag(self, extra: Mapping[str, str], owner: str) -> bool:
        """A ``bool`` option; not set: :attr:`default`."""
        return (self.value(extra, owner) or self.default) == "true"

    def integer(self, extra: Mapping[str, str], owner: str, default: _D) -> int | _D:
        """An ``int`` option within its range; not set: ``default`` (``None`` to tell "not set" apart)."""
        v = self.value(extra, owner)
        return int(v) if v else default

    def number(self, extra: Mapping[str, str], owner: str, default: _D) -> float | _D:
        """A ``float`` (or ``int``) option within its range; not set: ``default`` (may be ``None``)."""
        v = self.value(extra, owner)
        return float(v) if v else default

    def choice(self, extra: Mapping[str, str], owner: str) -> str:
        """A ``choice`` option (aliases and case resolved); not set: :attr:`default`."""
        return self.value(extra, owner) or self.default

    def text(self, extra: Mapping[str, str], owner: str) -> str | None:
        """A ``text`` option matching its pattern, stripped; not set: ``None``."""
        return self.value(extra, owner) or None
