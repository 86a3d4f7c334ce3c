"""The transcript: the one place where caption events are merged.

* An :class:`~captioner.captions.events.Interim` replaces the interim text of its line.
* A :class:`~captioner.captions.events.Final` commits the line.
* A later ``Final`` with the same id replaces the committed text (e.g. a
  formatted version of the same turn); it never adds a line.

One transcript has **one timeline**, however many captioning sessions feed it in turn (the desktop app starts a
new session on every engine or source change): a session's times are seconds on its source's timeline, from 0,
and :meth:`Transcript.run_offset` says where that 0 lies on the transcript's — the wall-clock time elapsed since
the first session started, and never before the end of what is already committed (a file captioned faster
than real time). The first session's times are unchanged (offset 0), so a single session (the CLI) keeps its
source times.

History is bounded in memory; every final is appended to an autosave file
(one JSON object per line, written to the OS at once, so even ``kill -9`` loses
nothing; :mod:`~captioner.captions.autosave` syncs it to disk off the caller's
thread). A
replacement final is appended too (same id): readers keep the last one.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from captioner.captions.autosave import AutosaveFile
from captioner.captions.events import CaptionEvent, Final, Interim, Word

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One caption line as views show it."""

    line_id: str
    text: str
    final: bool
    engine: str
    start: float | None = None
    end: float | None = None
    tail: str = ""
    wall_time: float = 0.0
    """``time.time()`` when the line was first seen (for transcript timestamps)."""
    speaker: str | None = None
    """Who spoke (:attr:`~captioner.captions.events.Final.speaker`)."""
    words: tuple[Word, ...] = field(default=(), compare=False)
    """The words with their times, when the engine gave them (:attr:`~captioner.captions.events.Final.words`)."""
    language: str | None = None
    """The language the engine detected (:attr:`~captioner.captions.events.Final.language`)."""


ChangeKind = Literal["interim", "commit", "revise", "drop"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """What one event did to the transcript: views redraw ``line``.

    ``kind`` is ``"interim"`` (a live line changed), ``"commit"`` (a line became
    final), ``"revise"`` (a committed line's text was replaced) or
    ``"drop"`` (an interim line was abandoned, e.g. after a reconnect).
    """

    kind: ChangeKind
    line: Line


Listener = Callable[[Change], None]


class Transcript:
    """Merges caption events into lines and notifies listeners of each change."""

    def __init__(
        self,
        *,
        max_lines: int = 5000,
        autosave: Path | None = None,
        many_runs: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._final: OrderedDict[str, Line] = OrderedDict()
        self._live: OrderedDict[str, Line] = OrderedDict()
        self._max_lines = max_lines
        self._listeners: list[Listener] = []
        self._autosave_path = autosave
        self._autosave: AutosaveFile | None = None
        self.on_autosave_error: Callable[[str], None] | None = None
        """Told once, with a message for the user, when the autosave cannot be written (captioning goes on)."""
        self.revisions: deque[Change] = deque(maxlen=100)
        self._runs = 0
        self._many_runs = many_runs
        self._clock = clock
        self._origin: float | None = None  # clock() when the first session started
        self.origin_wall: float | None = None
        """``time.time()`` at the transcript's time 0 (when its first session started); ``None`` before."""
        self._timeline_end = 0.0  # the latest end (or start) of a committed line, transcript time

    def new_run(self) -> str:
        """The line-id prefix of the next captioning session that feeds this transcript.

        The first session of a transcript made for one session gets none (its ids stay ``1-0``, ``1-1``…);
        every later one, and every one of a transcript made for ``many_runs`` (the app: one transcript across
        engine and source changes), gets ``r<n>.`` so that ids never collide.
        """
        self._runs += 1
        return f"r{self._runs}." if self._many_runs or self._runs > 1 else ""

    def run_offset(self) -> float:
        """Where a session starting now puts its source time 0 on this transcript's timeline (seconds).

        0 for the first session; for a later one, the time elapsed since the first started, or the end of the
        last committed line if that is later. Call it once, when the session starts capturing.
        """
        now = self._clock()
        if self._origin is None:
            self._origin = now
            self.origin_wall = time.time()
            return 0.0
        return math.ceil(round(max(now - self._origin, self._timeline_end) * 1000, 6)) / 1000  # whole ms

    # -- listeners -------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            listener(change)

    # -- merging ---------------------------------------------------------------------------
    def apply(self, event: CaptionEvent) -> Change | None:
        """Merge one event; return the change (``None`` if it changed nothing)."""
        if isinstance(event, Interim):
            return self._interim(event)
        if isinstance(event, Final):
            return self._commit(event)
        return None

    def _interim(self, ev: Interim) -> Change | None:
        if ev.line_id in self._final:
            # A late interim for a committed line (e.g. out-of-order delivery): the final wins.
            return None
        old = self._live.get(ev.line_id)
        line = Line(
            line_id=ev.line_id,
            text=ev.text,
            final=False,
            engine=ev.engine,
            start=ev.start if ev.start is not None or old is None else old.start,
            end=ev.end,
            tail=ev.tail,
            wall_time=old.wall_time if old else time.time(),
            speaker=ev.speaker,
        )
        if old == line:
            return None
        self._live[ev.line_id] = line
        change = Change(kind="interim", line=line)
        self._notify(change)
        return change

    def _commit(self, ev: Final) -> Change | None:
        live = self._live.pop(ev.line_id, None)
        old = self._final.get(ev.line_id)
        wall = old.wall_time if old else live.wall_time if live else time.time()
        start = ev.start
        if start is None:
            start = old.start if old else live.start if live else None
        speaker = ev.speaker if ev.speaker is not None else old.speaker if old else live.speaker if live else None
        language = ev.language if ev.language is not None else old.language if old else None
        line = Line(
            line_id=ev.line_id,
            text=ev.text,
            final=True,
            engine=ev.engine,
            start=start,
            end=ev.end,
            wall_time=wall,
            speaker=speaker,
            words=ev.words,
            language=language,
        )
        if old is not None:
            if _content(old) == _content(line):
                return None
            self._final[ev.line_id] = line
            change = Change(kind="revise", line=line)
            self.revisions.append(change)
        else:
            if not line.text.strip():
                # An empty final just closes an interim (e.g. noise that decoded to nothing).
                if live is not None:
                    change = Change(kind="drop", line=live)
                    self._notify(change)
                    return change
                return None
            self._final[ev.line_id] = line
            while len(self._final) > self._max_lines:
                self._final.popitem(last=False)
            change = Change(kind="commit", line=line)
        self._timeline_end = max([self._timeline_end, *(t for t in (line.start, line.end) if t is not None)])
        self._save(line)
        self._notify(change)
        return change

    def drop_live(self, prefix: str = "") -> list[Change]:
        """Abandon interim lines (all, or those whose id starts with ``prefix``)."""
        changes = []
        for line_id in [i for i in self._live if i.startswith(prefix)]:
            line = self._live.pop(line_id)
            change = Change(kind="drop", line=line)
            self._notify(change)
            changes.append(change)
        return changes

    # -- views -----------------------------------------------------------------------------
    @property
    def finals(self) -> list[Line]:
        """Committed lines, oldest first (bounded to ``max_lines``)."""
        return list(self._final.values())

    @property
    def live(self) -> list[Line]:
        """Lines still being spoken, oldest first."""
        return list(self._live.values())

    def lines(self) -> Iterator[Line]:
        """Committed lines then live ones."""
        yield from self._final.values()
        yield from self._live.values()

    # -- autosave --------------------------------------------------------------------------
    @property
    def autosave_path(self) -> Path | None:
        return self._autosave_path

    def _save(self, line: Line) -> None:
        if self._autosave_path is None:
            return
        if self._autosave is None:
            self._autosave = AutosaveFile(self._autosave_path, on_error=self._autosave_failed)
        record = line_record(line)
        record["time"] = line.wall_time
        self._autosave.append(json.dumps(record, ensure_ascii=False))

    def _autosave_failed(self, message: str) -> None:
        if self.on_autosave_error is None:
            log.warning("%s", message)
        else:
            self.on_autosave_error(message)

    def close(self) -> None:
        """Close the autosave file (every final is already on disk)."""
        if self._autosave is not None:
            self._autosave.close()
            self._autosave = None


def line_record(line: Line) -> dict[str, object]:
    """A committed line as JSON data (the autosave's records and the JSON export's): speaker and words when known."""
    record: dict[str, object] = {
        "id": line.line_id,
        "text": line.text,
        "start": line.start,
        "end": line.end,
        "engine": line.engine,
    }
    if line.speaker is not None:
        record["speaker"] = line.speaker
    if line.language is not None:
        record["language"] = line.language
    if line.words:
        record["words"] = [{"text": w.text, "start": w.start, "end": w.end} for w in line.words]
    return record


def _word(data: dict[str, object]) -> Word:
    start, end = data["start"], data["end"]
    if not isinstance(start, int | float) or not isinstance(end, int | float):
        raise TypeError("word times are not numbers")
    return Word(text=str(data["text"]), start=float(start), end=float(end))


def _content(line: Line) -> tuple[object, ...]:
    """What a revision must change for it to count (the wall time and id stay)."""
    return (line.text, line.start, line.end, line.speaker, line.language, line.words)


def load_autosave(path: Path) -> list[Line]:
    """Read an autosave file back into lines (last record of each id wins; bad lines skipped)."""
    lines: OrderedDict[str, Line] = OrderedDict()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    for raw in text.splitlines():
        try:
            r = json.loads(raw)
            line = Line(
                line_id=str(r["id"]),
                text=str(r["text"]),
                final=True,
                engine=str(r.get("engine", "")),
                start=r.get("start"),
                end=r.get("end"),
                wall_time=float(r.get("time") or 0.0),
                speaker=str(r["speaker"]) if r.get("speaker") is not None else None,
                words=tuple(
                    Word(text=str(w["text"]), start=float(w["start"]), end=float(w["end"]))
                    for w in r.get("words") or ()
                ),
                language=str(r["language"]) if r.get("language") is not None else None,
            )
        except (ValueError, KeyError, TypeError):
            continue
        lines[line.line_id] = line
    return list(lines.values())


def finals_in_range(lines: Iterable[Line], start: float | None, end: float | None) -> list[Line]:
    """Lines whose start lies in ``[start, end]`` (open bounds when ``None``)."""
    out = []
    for line in lines:
        t = line.start if line.start is not None else 0.0
        if (start is None or t >= start) and (end is None or t <= end):
            out.append(line)
    return out
