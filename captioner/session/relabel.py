"""Where a session's events get their final shape: :class:`Relabeller` builds line ids, gives lines the session's
speaker and moves times from the source's timeline onto the transcript's. It is the one place line ids are built."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from captioner.captions.events import EngineEvent, Final, Interim, SpeechStarted, Word


@dataclass(slots=True, kw_only=True)
class Relabeller:
    """One session's ids, speaker and timeline offset (see :meth:`__call__`)."""

    id_prefix: str
    """``r<run>.`` on a transcript with many runs (:meth:`~captioner.captions.transcript.Transcript.new_run`)."""
    speaker: str | None = None
    offset: float = 0.0
    """Where the session's source time 0 lies on the transcript's timeline."""

    def __call__(self, gen: int, ev: EngineEvent) -> EngineEvent:
        """The one place line ids are built, ``[r<run>.]<generation>-<engine's own id>``, lines get a speaker, and
        times move from the source's timeline to the transcript's (``+ offset``).

        ``r<run>.`` numbers the sessions on one transcript (:meth:`Transcript.new_run`), ``generation`` the engine
        sessions (reconnects, restarts) within this one, so ids stay unique for the life of the transcript. A line
        the engine did not attribute (no diarisation) is given this session's :attr:`speaker`.
        """
        if isinstance(ev, Interim | Final):
            if ev.speaker is None and self.speaker is not None:
                ev = dataclasses.replace(ev, speaker=self.speaker)
            moved = dataclasses.replace(
                ev,
                line_id=f"{self.id_prefix}{gen}-{ev.line_id}",
                start=self.on_timeline(ev.start),
                end=self.on_timeline(ev.end),
            )
            if isinstance(moved, Final) and moved.words and self.offset:
                words = tuple(
                    Word(text=w.text, start=round(w.start + self.offset, 3), end=round(w.end + self.offset, 3))
                    for w in moved.words
                )
                moved = dataclasses.replace(moved, words=words)
            return moved
        if isinstance(ev, SpeechStarted):
            line_id = None if ev.line_id is None else f"{self.id_prefix}{gen}-{ev.line_id}"
            return dataclasses.replace(ev, line_id=line_id, at=self.on_timeline(ev.at))
        return ev

    def on_timeline(self, t: float | None) -> float | None:
        if t is None or not self.offset:
            return t
        return round(t + self.offset, 3)
