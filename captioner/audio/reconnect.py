"""Unplug and replug: a live source that survives its device going away and picks it up again when it returns.

:class:`ReconnectingSource` wraps a live capture source (a microphone, a sink monitor). The device is lost when
the inner source fails (PortAudio ended the stream: :class:`~captioner.audio.base.AudioError`) or when the
``probe`` — asked every ``check_every`` seconds, off the loop — no longer names the device being captured (a
PulseAudio source unloaded: the server quietly moves the stream to its default source, so the stream alone would
never say). While it is lost the source goes on yielding digital silence at 1× (so the engine ends the line being
spoken and the timeline stays with the clock) and tries to open the device again every ``check_every`` seconds;
when that works, capture resumes on one continuous timeline. A probe that names another device (the default input
changed) moves capture to it at once. Each change goes, as a :class:`~captioner.audio.base.DeviceChange`, to
the listeners given to :meth:`~captioner.audio.base.AudioSource.watch_devices` (the session tells the user);
:attr:`ReconnectingSource.outages` keeps how long each outage lasted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable

from captioner.audio.base import AudioChunk, AudioError, AudioSource, DeviceChange

log = logging.getLogger(__name__)

Probe = Callable[[], str | None]
"""The name of the device to capture now (``None``: it is gone). Runs in a worker thread; must not raise."""


class ReconnectingSource(AudioSource):
    """``open()`` (called now: its :class:`AudioError` is the caller's) and again after each loss."""

    def __init__(
        self,
        open_source: Callable[[], AudioSource],
        *,
        reopen: Callable[[], AudioSource] | None = None,
        probe: Probe | None = None,
        check_every: float = 1.0,
        chunk_ms: int = 50,
    ) -> None:
        self.source = open_source()
        self.sample_rate = self.source.sample_rate
        self.description = self.source.description
        self._reopen = reopen or open_source
        self._probe = probe
        self._device = probe() if probe is not None else None
        if self._device is None:
            self._probe = None  # the sound server does not own this device: only a stream failure tells
        self.check_every = check_every
        self.chunk_samples = max(1, self.sample_rate * chunk_ms // 1000)
        self.outages: list[float] = []
        """How long each outage lasted (seconds from the loss to capture resuming)."""
        self._listeners: list[Callable[[DeviceChange], None]] = []
        self._dropped_before = 0
        self._closed = False
        self._gone: str | None = ""  # set by the watcher: '' nothing seen, None lost, a name: moved there

    @property
    def dropped_blocks(self) -> int:
        return self._dropped_before + self.source.dropped_blocks

    def watch_devices(self, listener: Callable[[DeviceChange], None]) -> None:
        self._listeners.append(listener)

    def _tell(self, *, available: bool, message: str) -> None:
        log.warning("%s", message)
        for listener in self._listeners:
            listener(DeviceChange(available=available, message=message))

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        offset = 0.0  # where the current inner source's time 0 lies on this source's timeline
        end = 0.0
        while not self._closed:
            inner = self.source
            self._gone = ""
            failure = ""
            watch = asyncio.create_task(self._watch(inner)) if self._probe is not None else None
            try:
                async for chunk in inner.chunks():
                    if offset:
                        chunk = dataclasses.replace(chunk, start=chunk.start + offset)
                    end = chunk.end
                    yield chunk
            except AudioError as exc:
                failure = str(exc)
            finally:
                if watch is not None:
                    watch.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watch
            if self._closed or (not failure and self._gone == ""):
                return  # closed, or the source ended by itself
            self._dropped_before += inner.dropped_blocks
            lost_at = time.monotonic()
            lost, lost_device = inner.description, self._device
            if self._gone is None or failure or not await self._open_again():
                self._tell(available=False, message=failure or f"{lost} was disconnected")
                async for chunk in self._silence_until_back(end):
                    end = chunk.end
                    yield chunk
                if self._closed:
                    return
            offset = end
            self.outages.append(time.monotonic() - lost_at)
            now = self.source.description
            same = self._device == lost_device if self._probe is not None else now == lost
            back = f"{now} is back: captioning resumed" if same else f"{lost} is gone: now capturing {now}"
            self._tell(available=True, message=back)

    async def _watch(self, inner: AudioSource) -> None:
        """Ask the probe every ``check_every`` s; when it names no device or another one, stop ``inner``."""
        assert self._probe is not None
        while True:
            await asyncio.sleep(self.check_every)
            name = await asyncio.to_thread(self._probe)
            if name != self._device:
                log.info("audio device %r → %r", self._device, name)
                self._gone = name
                await inner.close()
                return

    async def _open_again(self) -> bool:
        """Open the device (the probe's, when there is one) in a worker thread; False when it is not there."""

        def attempt() -> tuple[AudioSource, str | None] | None:
            name = self._probe() if self._probe is not None else None
            if self._probe is not None and name is None:
                return None
            try:
                return self._reopen(), name
            except AudioError as exc:
                log.debug("audio device not back yet: %s", exc)
                return None

        opened = await asyncio.to_thread(attempt)
        if opened is None:
            return False
        if self._closed:
            await opened[0].close()
            return False
        self.source, self._device = opened
        return True

    async def _silence_until_back(self, start: float) -> AsyncIterator[AudioChunk]:
        """Digital silence at 1× from ``start`` until the device opens again (or :meth:`close`)."""
        seconds = self.chunk_samples / self.sample_rate
        pcm = bytes(2 * self.chunk_samples)
        began = time.monotonic()
        sent = 0
        next_try = began + self.check_every
        while not self._closed:
            now = time.monotonic()
            while sent * seconds <= now - began:
                yield AudioChunk(pcm, self.sample_rate, start + sent * seconds, now)
                sent += 1
            if now >= next_try:
                if await self._open_again():
                    return
                next_try = time.monotonic() + self.check_every
            await asyncio.sleep(seconds)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self.source.close()
