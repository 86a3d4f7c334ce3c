"""AssemblyAI speaker labels → the speaker shown on caption lines, across the service's sessions (sans-IO).

The service labels the speakers of one session ``A``, ``B``… in the order it hears them (and
``UNKNOWN`` for a turn too short to tell). Its labels restart with every session, and a new
session — a reconnect, or the rollover before the 3-hour limit — cannot tell that its ``A`` is
the previous session's ``A``. :class:`SpeakerBook` (one per engine, carried over to the engine of
a reconnect) therefore keeps the first labelling session's letters as they are and gives the
speakers of every later session new letters, unless :meth:`SpeakerBook.alias` was told that a
label is a speaker already known (the rollover, which hears the same audio on both sessions for
a moment, finds that out); the first label of a later session comes with a notice saying so.
Nobody is silently given another person's letter.
"""

from __future__ import annotations

import string


class SpeakerBook:
    """Display labels of the speakers of one engine's sessions."""

    def __init__(self) -> None:
        self._labels: dict[tuple[int, str], str] = {}
        self._sessions = 0
        self._first: int | None = None
        """The first session that labelled anyone: its letters are kept as the service gave them."""
        self._told: set[int] = set()
        self._due: set[int] = set()

    def new_session(self) -> int:
        """A number for a new service session (the sessions of one book never share labels)."""
        self._sessions += 1
        return self._sessions

    @property
    def used(self) -> set[str]:
        return set(self._labels.values())

    def label(self, session: int, raw: object) -> str | None:
        """The display label of the service's label ``raw`` in ``session`` (``None``: unknown speaker)."""
        if not isinstance(raw, str) or not raw.strip() or raw.strip().upper() == "UNKNOWN":
            return None
        key = (session, raw.strip())
        if key not in self._labels:
            if self._first is None:
                self._first = session
            if session == self._first and key[1] not in self.used:
                self._labels[key] = key[1]
            else:
                self._labels[key] = self._fresh()
                self._due.add(session)
        return self._labels[key]

    def alias(self, session: int, raw: str, display: str) -> None:
        """``raw`` of ``session`` is the speaker already shown as ``display``."""
        self._labels[(session, raw)] = display

    def restart_notice(self, session: int) -> str | None:
        """Once per later session that gave a speaker a new letter: why."""
        if session not in self._due or session in self._told:
            return None
        self._told.add(session)
        return (
            "speaker labels restart with each new AssemblyAI session: the speakers from here on get new "
            "letters, since the service cannot tell whether they are the same people"
        )

    def _fresh(self) -> str:
        used = self.used
        for letter in string.ascii_uppercase:
            if letter not in used:
                return letter
        n = len(used) + 1
        while f"S{n}" in used:
            n += 1
        return f"S{n}"
