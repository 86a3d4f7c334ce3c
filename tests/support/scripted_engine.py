"""The scripted (fake) engines of the session, CLI and UI tests (a boundary: what drives them is under test).

A scripted engine "recognises" audio by naming the chunks it received: every
chunk yields an interim; every ``per_final`` chunks a final whose text lists the
chunk start times in milliseconds (``"c0 c50 c100 …"``). So a test can check
exactly which audio reached which committed caption.

Silent chunks (below ``Script.quiet_dbfs``, -55 dBFS) are named ``s<ms>``
instead. With ``Script.endpoint_ms`` set, the engine ends a line like a cloud
service does: after that much silence received (not after ``per_final``
chunks). :class:`ScriptedCloudEngine` declares ``realtime_input`` and, with
``Script.pace``, takes audio no faster than ``pace`` × real time (a scaled
clock, so tests of catch-up stay short).

What an engine does is set by its class's :class:`Script` (shared by the
instances of one test; a test or fixture assigns a fresh one).
:class:`FakeEngine` (``"fake"``) and :class:`RestartingEngine`
(``"restarting"``, which cannot apply options live) are the engines of the UI
tests: :func:`ui_script` names every chunk ``c<ms>`` (no silence), ends a line
every 8 chunks and, when told to fail, fails after 20 chunks.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, EngineState, Final, Interim, Status
from captioner.engines.base import Capabilities, Engine, EngineFailure, EngineOptions


@dataclass
class Script:
    """Shared between engine instances of one test."""

    per_final: int = 4
    fail_at_chunk: dict[int, EngineFailure] = field(default_factory=dict)
    """instance number (0 for the first engine of the test) → failure raised after that instance received
    ``fail_after`` chunks."""
    fail_after: int = 6
    live_update: bool = True
    endpoint_ms: int | None = None
    """End a line after this much received silence (instead of every ``per_final`` chunks)."""
    pace: float | None = None
    """Take audio no faster than ``pace`` × real time (``ScriptedCloudEngine``)."""
    quiet_dbfs: float = -55.0
    """The engine's own voice activity threshold: quieter chunks are silence (``s<ms>``)."""
    instances: list[ScriptedEngine] = field(default_factory=list)
    """Every engine created with this script, in order."""
    updates: list[EngineOptions] = field(default_factory=list)
    """Every ``update()`` any of them received, in order."""


class ScriptedEngine(Engine):
    id = "scripted"
    name = "Scripted test engine"
    capabilities = Capabilities(
        sample_rate=16000,
        interim_results=True,
        word_boost=True,
        live_update=True,
        silence_threshold=True,
    )
    script = Script()

    def __init__(self, options: EngineOptions, credentials: object = None) -> None:
        if options.language == "bad":
            raise ValueError("unknown language 'bad'")
        super().__init__(options)
        self.number = len(self.script.instances)
        self.script.instances.append(self)
        self.received: list[AudioChunk] = []
        self.updates: list[EngineOptions] = []
        """The ``update()`` calls this instance received."""

    def endpoint_silence(self) -> float:
        ms = self.script.endpoint_ms
        return ms / 1000.0 if ms is not None else super().endpoint_silence()

    def quiet(self, chunk: AudioChunk) -> bool:
        return chunk.rms_dbfs() < self.script.quiet_dbfs

    def name_of(self, chunk: AudioChunk) -> str:
        return f"{'s' if self.quiet(chunk) else 'c'}{round(chunk.start * 1000)}"

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        yield Status(engine=self.id, state=EngineState.LISTENING, message="listening")
        pending: list[AudioChunk] = []
        line = 0
        failure = self.script.fail_at_chunk.get(self.number)
        endpoint = self.script.endpoint_ms
        silence = 0.0
        t0: float | None = None
        sent = 0.0
        async for chunk in audio:
            if self.script.pace is not None:
                now = time.monotonic()
                t0 = now if t0 is None else t0
                delay = t0 + sent / self.script.pace - now
                if delay > 0:
                    await asyncio.sleep(delay)
                sent += chunk.duration
            self.received.append(chunk)
            quiet = self.quiet(chunk)
            silence = silence + chunk.duration if quiet else 0.0
            if endpoint is not None and quiet and all(self.quiet(c) for c in pending):
                continue  # silence between lines is not part of any line
            pending.append(chunk)
            text = " ".join(self.name_of(c) for c in pending)
            yield Interim(line_id=str(line), text=text, engine=self.id, start=pending[0].start, end=chunk.end)
            if failure is not None and len(self.received) >= self.script.fail_after:
                raise failure
            done = silence * 1000 >= endpoint - 1e-6 if endpoint is not None else len(pending) >= self.script.per_final
            if done:
                yield Final(line_id=str(line), text=text, engine=self.id, start=pending[0].start, end=chunk.end)
                pending = []
                line += 1
        if pending:
            text = " ".join(self.name_of(c) for c in pending)
            yield Final(line_id=str(line), text=text, engine=self.id, start=pending[0].start, end=pending[-1].end)

    async def update(self, options: EngineOptions) -> bool:
        self.updates.append(options)
        self.script.updates.append(options)
        return self.script.live_update


class ScriptedCloudEngine(ScriptedEngine):
    """A scripted engine that, like the cloud engines, must not get audio faster than real time."""

    id = "scripted-cloud"
    capabilities = Capabilities(
        sample_rate=16000,
        interim_results=True,
        word_boost=True,
        live_update=True,
        silence_threshold=True,
        realtime_input=True,
    )


def ui_script(*, live_update: bool = True) -> Script:
    """The script of the UI tests' engines: a line every 8 chunks, every chunk named ``c<ms>`` (nothing is
    silence), and a failure (``fail_at_chunk``) raised after 20 chunks."""
    return Script(per_final=8, fail_after=20, quiet_dbfs=-math.inf, live_update=live_update)


class FakeEngine(ScriptedEngine):
    """The UI tests' engine: applies option changes live."""

    id = "fake"
    name = "Fake engine"
    script = ui_script()


class RestartingEngine(FakeEngine):
    """Cannot apply options live: the session must restart it seamlessly."""

    id = "restarting"
    name = "Restarting engine"
    capabilities = Capabilities(
        sample_rate=16000, interim_results=True, word_boost=True, live_update=False, silence_threshold=True
    )
    script = ui_script(live_update=False)


@dataclass(frozen=True, kw_only=True)
class Turn:
    """One speaker's turn of a scripted conversation: the words of ``text`` said one every ``per_word`` seconds
    from ``start``, with an interim after each word and a final after the last."""

    speaker: str | None
    start: float
    text: str
    per_word: float = 0.3
    language: str | None = None


def conversation(turns: list[Turn], *, engine: str = "scripted") -> list[Interim | Final]:
    """The caption events of ``turns`` as a diarising engine (or meeting mode's two sessions) would send them:
    in time order, so overlapping turns interleave their interims; line ids ``t0``, ``t1``… by turn."""
    timed: list[tuple[float, int, Interim | Final]] = []
    for n, turn in enumerate(turns):
        line_id = f"t{n}"
        words = turn.text.split()
        for i in range(1, len(words) + 1):
            t = turn.start + i * turn.per_word
            text = " ".join(words[:i])
            ev = Interim(line_id=line_id, text=text, engine=engine, start=turn.start, end=t, speaker=turn.speaker)
            timed.append((t, n, ev))
        end = turn.start + len(words) * turn.per_word
        text = " ".join(words)
        final = Final(
            line_id=line_id,
            text=text,
            engine=engine,
            start=turn.start,
            end=end,
            speaker=turn.speaker,
            language=turn.language,
        )
        timed.append((end + 0.05, n, final))
    return [ev for _, _, ev in sorted(timed, key=lambda k: (k[0], k[1]))]
