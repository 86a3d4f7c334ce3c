"""One timeline for sources captured together (meeting mode: the microphone and the system audio).

Each source's own timeline starts at its first sample, and two sources start at different moments (an idle
sink monitor delivers nothing until something plays). :class:`SharedClockSource` shifts a source's timeline by
a constant so that its times are seconds since a shared ``origin`` (a ``time.monotonic()`` value): the offset
is taken from the first chunk (``captured_at - end``, the moment its audio began), then kept, so the timeline
stays contiguous for the engine. Captions of both sources can then be ordered and compared in time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable

from captioner.audio.base import AudioChunk, AudioSource, DeviceChange


class SharedClockSource(AudioSource):
    """``source`` with chunk times counted from ``origin`` (see the module docstring)."""

    def __init__(self, source: AudioSource, origin: float) -> None:
        self.source = source
        self.origin = origin
        self.sample_rate = source.sample_rate
        self.description = source.description
        self.offset: float | None = None
        """Seconds added to the source's own times (set by the first chunk)."""

    @property
    def dropped_blocks(self) -> int:
        return self.source.dropped_blocks

    def watch_devices(self, listener: Callable[[DeviceChange], None]) -> None:
        self.source.watch_devices(listener)

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        async for chunk in self.source.chunks():
            if self.offset is None:
                self.offset = max(0.0, chunk.captured_at - chunk.end - self.origin)
            yield dataclasses.replace(chunk, start=chunk.start + self.offset)

    async def close(self) -> None:
        await self.source.close()
