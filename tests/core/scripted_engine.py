"""A scripted engine for session/CLI tests (a boundary: the session is what is under test).

It "recognises" audio by naming the chunks it received: every chunk yields an
interim; every ``per_final`` chunks a final whose text lists the chunk start
times in milliseconds (``"c0 c50 c100 …"``). So a test can check exactly which
audio reached which committed caption.
"""

from __future__ import annotations

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
    """instance number → failure raised after that instance received ``fail_after`` chunks."""
    fail_after: int = 6
    live_update: bool = True
    instances: list[ScriptedEngine] = field(default_factory=list)
    updates: list[EngineOptions] = field(default_factory=list)


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

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        yield Status(self.id, EngineState.LISTENING, "listening")
        pending: list[AudioChunk] = []
        line = 0
        failure = self.script.fail_at_chunk.get(self.number)
        async for chunk in audio:
            self.received.append(chunk)
            pending.append(chunk)
            text = " ".join(f"c{round(c.start * 1000)}" for c in pending)
            yield Interim(str(line), text, self.id, pending[0].start, chunk.end)
            if failure is not None and len(self.received) >= self.script.fail_after:
                raise failure
            if len(pending) >= self.script.per_final:
                yield Final(str(line), text, self.id, pending[0].start, chunk.end)
                pending = []
                line += 1
        if pending:
            text = " ".join(f"c{round(c.start * 1000)}" for c in pending)
            yield Final(str(line), text, self.id, pending[0].start, pending[-1].end)

    async def update(self, options: EngineOptions) -> bool:
        self.script.updates.append(options)
        return self.script.live_update
