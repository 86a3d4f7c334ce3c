"""Live capture: the microphone through PortAudio (sounddevice), and the machinery every live source shares.

:class:`CaptureSource` is the part shared by every live capture source (thread →
loop hand-off, bounded queue, resampling, chunking); :class:`MicrophoneSource`
is its PortAudio backend, also used for Linux system audio (the ALSA ``pulse``
device pointed at a monitor source) and macOS loopback devices.

A capture backend (a PortAudio callback, a WASAPI loopback reader thread…) calls
:meth:`CaptureSource.push_block` from its own thread with a float32 block of
shape ``(frames, channels)`` at ``device_rate``. ``push_block`` only hands the
block to the asyncio loop with ``loop.call_soon_threadsafe``; everything else
(down-mix to mono, one streaming soxr resampler, 50 ms PCM16 chunks) happens in
:meth:`chunks`, on the loop.

The queue between them is bounded; a block that finds it full is dropped and
counted in :attr:`dropped_blocks`, as are blocks the backend reports lost
(PortAudio's input-overflow flag).

Time is not audio: an idle PulseAudio monitor or WASAPI loopback delivers no
blocks at all while nothing plays. Chunk ``start`` times count the samples
actually delivered; when no block has arrived for ``idle_fill_after`` seconds the
source inserts digital silence for the wall-clock gap, so that an engine's
endpointer still sees the silence that ends a caption and the source timeline
stays close to the clock. Nothing is inserted before the first block: a device
may take a second or two to start delivering (a PulseAudio monitor of an idle
null sink does), and that start-up delay holds no audio.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np
import soxr

from captioner.audio.base import AudioChunk, AudioError, AudioSource, to_pcm16

log = logging.getLogger(__name__)

_WAKE = None  # queue sentinel put by close()


class CaptureSource(AudioSource):
    """A live source fed block by block from a capture thread. Subclasses open and close the device."""

    def __init__(
        self,
        sample_rate: int,
        *,
        device_rate: int,
        chunk_ms: int = 50,
        max_queued_blocks: int = 64,
        idle_fill_after: float | None = 0.3,
    ) -> None:
        if sample_rate <= 0 or device_rate <= 0:
            raise ValueError("sample rates must be positive")
        self.sample_rate = sample_rate
        self.device_rate = device_rate
        self.chunk_samples = max(1, sample_rate * chunk_ms // 1000)
        self.max_queued_blocks = max(1, max_queued_blocks)
        self.idle_fill_after = idle_fill_after
        self.silence_filled = 0.0
        """Seconds of silence inserted while the device delivered nothing."""
        self.blocks_received = 0
        self._queue: asyncio.Queue[tuple[np.ndarray, float] | None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue_drops = 0  # touched on the loop thread only
        self._backend_drops = 0  # touched on the capture thread only
        self._closed = False
        self._started = False
        self._stopped = False
        self._failure: str | None = None

    # -- the backend's side ---------------------------------------------------------------
    @abc.abstractmethod
    def _start(self) -> None:
        """Open and start the device; blocks then arrive through :meth:`push_block`. Raise ``AudioError``."""

    @abc.abstractmethod
    def _stop(self) -> None:
        """Stop and release the device. Called once, on the loop thread; must not raise."""

    def push_block(self, block: np.ndarray, captured_at: float) -> None:
        """Called on the capture thread: hand ``block`` (already a copy) to the loop. Never blocks."""
        loop = self._loop
        if loop is None or self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: we are shutting down
            loop.call_soon_threadsafe(self._deliver, block, captured_at)

    def fail(self, message: str) -> None:
        """Called on the capture thread when capture has stopped for good: ``chunks()`` raises ``AudioError``."""
        loop = self._loop
        if loop is None or self._closed:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._set_failure, message)

    def _set_failure(self, message: str) -> None:
        if self._failure is None:
            self._failure = message
        q = self._queue
        if q is not None:
            with contextlib.suppress(asyncio.QueueFull):
                q.put_nowait(_WAKE)

    def count_backend_drop(self, n: int = 1) -> None:
        """Called on the capture thread when the backend reports lost input (overflow)."""
        self._backend_drops += n

    # -- the loop's side ------------------------------------------------------------------
    @property
    def dropped_blocks(self) -> int:
        return self._queue_drops + self._backend_drops

    def _deliver(self, block: np.ndarray, captured_at: float) -> None:
        q = self._queue
        if q is None or self._closed:
            return
        if q.full():
            self._queue_drops += 1
            return
        q.put_nowait((block, captured_at))

    def _attach(self) -> asyncio.Queue[tuple[np.ndarray, float] | None]:
        """Bind to the running loop (before the backend starts pushing)."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(maxsize=self.max_queued_blocks)
        return self._queue

    async def chunks(self) -> AsyncIterator[AudioChunk]:
        if self._started:
            raise RuntimeError("chunks() may be iterated only once")
        self._started = True
        if self._closed:
            return
        queue = self._attach()
        self._start()
        out = _Chunker(self.sample_rate, self.chunk_samples)
        resampler: soxr.ResampleStream | None = None
        last_block_at = time.monotonic()
        filled = 0.0  # silence inserted since the last block
        try:
            while not self._closed:
                try:
                    if self.idle_fill_after is None:
                        item = await queue.get()
                    else:
                        wait = self.idle_fill_after if filled == 0.0 else out.chunk_seconds
                        item = await asyncio.wait_for(queue.get(), wait)
                except TimeoutError:
                    now = time.monotonic()
                    gap = now - last_block_at - filled
                    if (
                        self.idle_fill_after is None
                        or self.blocks_received == 0  # not started yet (a device can take a second or two)
                        or now - last_block_at < self.idle_fill_after
                    ):
                        continue
                    if filled == 0.0 and resampler is not None:
                        # Going idle: flush the resampler's tail before the silence.
                        out.add(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True), now)
                        resampler = None
                    n = int(gap * self.sample_rate) // self.chunk_samples * self.chunk_samples
                    if n > 0:
                        out.add(np.zeros(n, dtype=np.float32), now)
                        filled += n / self.sample_rate
                        self.silence_filled += n / self.sample_rate
                    for chunk in out.take():
                        yield chunk
                    continue
                if item is _WAKE:
                    if self._failure is not None and not self._closed:
                        raise AudioError(self._failure)
                    continue
                block, captured_at = item
                self.blocks_received += 1
                last_block_at, filled = captured_at, 0.0
                mono = _to_mono(block)
                if self.device_rate != self.sample_rate:
                    if resampler is None:
                        resampler = soxr.ResampleStream(self.device_rate, self.sample_rate, 1, dtype="float32")
                    mono = resampler.resample_chunk(mono)
                out.add(mono, captured_at)
                for chunk in out.take():
                    yield chunk
            # Closed: what is still queued was captured before the stop, then the resampler's tail.
            while not queue.empty():
                item = queue.get_nowait()
                if item is not None:
                    mono = _to_mono(item[0])
                    if self.device_rate != self.sample_rate:
                        if resampler is None:
                            resampler = soxr.ResampleStream(self.device_rate, self.sample_rate, 1, dtype="float32")
                        mono = resampler.resample_chunk(mono)
                    out.add(mono, item[1])
            if resampler is not None:
                out.add(resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True), time.monotonic())
            for chunk in out.take(final=True):
                yield chunk
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        self._closed = True
        if self._started and not self._stopped:
            self._stopped = True
            try:
                self._stop()
            except Exception:  # pragma: no cover - a backend must not raise here, but never crash on close
                log.exception("error while closing the audio device")

    async def close(self) -> None:
        if self._closed:
            return
        # Stop the device now (no more blocks), then wake chunks() so that it flushes and ends.
        self._shutdown()
        q = self._queue
        if q is not None and not q.full():
            q.put_nowait(_WAKE)


def _to_mono(block: np.ndarray) -> np.ndarray:
    a = np.asarray(block, dtype=np.float32)
    if a.ndim == 2:
        a = a[:, 0] if a.shape[1] == 1 else a.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(a, dtype=np.float32)


class _Chunker:
    """Cuts float32 mono audio at the target rate into fixed-size PCM16 chunks on a sample-counted timeline."""

    def __init__(self, sample_rate: int, chunk_samples: int) -> None:
        self.sample_rate = sample_rate
        self.chunk_samples = chunk_samples
        self.chunk_seconds = chunk_samples / sample_rate
        self._parts: list[np.ndarray] = []
        self._pending = 0
        self._emitted = 0  # samples emitted so far: the source timeline
        self._captured_at = 0.0

    def add(self, samples: np.ndarray, captured_at: float) -> None:
        if len(samples):
            self._parts.append(samples)
            self._pending += len(samples)
            self._captured_at = captured_at

    def take(self, *, final: bool = False) -> list[AudioChunk]:
        if self._pending < self.chunk_samples and not (final and self._pending):
            return []
        data = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0]
        n_full = len(data) // self.chunk_samples * self.chunk_samples
        cut = len(data) if final else n_full
        chunks = []
        for off in range(0, cut, self.chunk_samples):
            piece = data[off : min(off + self.chunk_samples, cut)]
            start = self._emitted / self.sample_rate
            self._emitted += len(piece)
            chunks.append(AudioChunk(to_pcm16(piece), self.sample_rate, start, self._captured_at))
        rest = data[cut:]
        self._parts = [rest] if len(rest) else []
        self._pending = len(rest)
        return chunks


# -- PortAudio ------------------------------------------------------------------------------------

_open_streams = 0  # PortAudio streams we hold open (PortAudio must not be re-initialised under them)


def sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into a plain :class:`AudioError`."""
    try:
        import sounddevice as sd
    except OSError as exc:
        hint = {
            "linux": "install it (Debian/Ubuntu: sudo apt install libportaudio2)",
            "darwin": "reinstall Captioner (the sounddevice wheel bundles PortAudio)",
        }.get(sys.platform, "reinstall Captioner")
        raise AudioError(f"audio capture needs the PortAudio library, which is missing ({exc}): {hint}") from None
    return sd


def refresh_portaudio() -> bool:
    """Re-scan devices (PortAudio lists them once, at start-up) unless one of our streams is open."""
    sd = sounddevice()
    if _open_streams:
        return False
    try:
        sd._terminate()
        sd._initialize()
    except Exception as exc:  # a failed re-scan leaves the old list; not fatal
        log.debug("PortAudio re-scan failed: %s", exc)
        return False
    return True


def input_devices(sd: ModuleType | None = None) -> list[dict[str, Any]]:
    """PortAudio devices that can record, as dicts (index, name, max_input_channels, default_samplerate, hostapi)."""
    sd = sd or sounddevice()
    try:
        devices = list(sd.query_devices())
    except Exception as exc:
        raise AudioError(f"cannot list audio devices: {exc}") from None
    return [dict(d) for d in devices if d.get("max_input_channels", 0) > 0]


def default_input_index(sd: ModuleType | None = None) -> int:
    """Index of PortAudio's default input device, or -1 when there is none."""
    sd = sd or sounddevice()
    try:
        dev = sd.default.device[0]
        if dev is None or int(dev) < 0:
            return int(sd.query_devices(kind="input")["index"])
        return int(dev)
    except Exception:
        return -1


def resolve_input_device(devices: Sequence[Mapping[str, Any]], wanted: str | int | None, default_index: int) -> int:
    """Pick the PortAudio input device for ``wanted``: ``None`` (the default), an index, an exact name or a
    unique case-insensitive part of a name. Raises :class:`AudioError` with a plain message otherwise."""
    inputs = [d for d in devices if d.get("max_input_channels", 0) > 0]
    if wanted is None or (isinstance(wanted, str) and not wanted.strip()):
        if any(d["index"] == default_index for d in inputs):
            return default_index
        if not inputs:
            raise AudioError("no microphone found: no audio input device is connected or enabled")
        return int(inputs[0]["index"])
    if isinstance(wanted, int) or wanted.strip().isdigit():
        index = int(wanted)
        for d in inputs:
            if d["index"] == index:
                return index
        raise AudioError(f"no input device with id {index} (see `captioner devices`)")
    key = wanted.strip().casefold()
    exact = [d for d in inputs if str(d["name"]).casefold() == key]
    if len(exact) == 1:
        return int(exact[0]["index"])
    matches = exact or [d for d in inputs if key in str(d["name"]).casefold()]
    if len(matches) == 1:
        return int(matches[0]["index"])
    if not matches:
        raise AudioError(f"no input device matches {wanted!r} (see `captioner devices`)")
    names = ", ".join(f"{d['index']}: {d['name']}" for d in matches[:6])
    raise AudioError(f"{wanted!r} matches several input devices ({names}); pass the number instead")


def _pick_format(sd: ModuleType, index: int, info: Mapping[str, Any]) -> tuple[int, int]:
    """A (rate, channels) the device accepts: its default rate first, mono if it can."""
    default_rate = round(float(info.get("default_samplerate") or 48000))
    max_ch = int(info.get("max_input_channels", 1))
    for rate in dict.fromkeys((default_rate, 48000, 44100, 16000)):
        for channels in dict.fromkeys((1, min(2, max_ch), max_ch)):
            try:
                sd.check_input_settings(device=index, channels=channels, samplerate=rate, dtype="float32")
            except Exception:
                continue
            return rate, channels
    raise AudioError(f"input device {info.get('name')!r} accepts none of the usual sample rates")


class MicrophoneSource(CaptureSource):
    """A PortAudio input device (default, or chosen by index or name).

    ``pulse_source`` captures a PulseAudio/PipeWire source (e.g. a sink monitor)
    through PortAudio's ALSA ``pulse`` device: ``PULSE_SOURCE`` and
    ``PULSE_LATENCY_MSEC`` are set in this process while the stream opens.
    On Linux a ``device`` that names no PortAudio device but a PulseAudio source
    (as listed by ``captioner devices``) is opened that way.
    """

    def __init__(
        self,
        sample_rate: int,
        device: str | int | None = None,
        *,
        pulse_source: str | None = None,
        description: str | None = None,
        chunk_ms: int = 50,
        max_queued_blocks: int = 100,
        idle_fill_after: float | None = 0.3,
        pulse_latency_ms: int | None = 30,
        block_ms: int = 20,
    ) -> None:
        sd = sounddevice()
        self.block_ms = block_ms
        self._sd = sd
        self.pulse_source = pulse_source
        self.pulse_latency_ms = pulse_latency_ms
        if pulse_source is not None:
            index = _pulse_device_index(sd)
        else:
            try:
                index = resolve_input_device(input_devices(sd), device, default_input_index(sd))
            except AudioError:
                found = _pulse_source_for(device) if isinstance(device, str) and device.strip() else None
                if found is not None:
                    self.pulse_source = found
                    index = _pulse_device_index(sd)
                elif refresh_portaudio():  # plugged in (or sound server started) since PortAudio listed devices
                    index = resolve_input_device(input_devices(sd), device, default_input_index(sd))
                else:
                    raise
        info = dict(sd.query_devices(index))
        self.device_index = index
        self.device_name = str(info.get("name", index))
        rate, channels = _pick_format(sd, index, info)
        self.channels = channels
        if description is None:
            description = f"microphone {self.device_name}"
            if self.pulse_source:
                description = f"PulseAudio source {self.pulse_source}"
        self.description = description
        self._stream: Any = None
        super().__init__(
            sample_rate,
            device_rate=rate,
            chunk_ms=chunk_ms,
            max_queued_blocks=max_queued_blocks,
            idle_fill_after=idle_fill_after,
        )

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread: copy the block and hand it to the loop. Nothing else."""
        if status.input_overflow:
            self.count_backend_drop()
        self.push_block(indata.copy(), time.monotonic())

    def _finished(self) -> None:
        """PortAudio's thread: the stream ended. Unless we stopped it, the device went away."""
        if not self._stopped:
            self.fail(f"{self.description} stopped delivering audio (disconnected?)")

    def _start(self) -> None:
        global _open_streams
        sd = self._sd
        saved: dict[str, str | None] = {}
        if self.pulse_source:
            # Read by libpulse when the ALSA plugin connects (at open/start), so set for this process now.
            wanted = {"PULSE_SOURCE": self.pulse_source}
            if self.pulse_latency_ms is not None:
                wanted["PULSE_LATENCY_MSEC"] = str(self.pulse_latency_ms)
            for key, value in wanted.items():
                saved[key] = os.environ.get(key)
                os.environ[key] = value
        try:
            stream = sd.InputStream(
                samplerate=self.device_rate,
                device=self.device_index,
                channels=self.channels,
                dtype="float32",
                blocksize=max(1, self.device_rate * self.block_ms // 1000),
                callback=self._callback,
                finished_callback=self._finished,
            )
            _open_streams += 1
            self._stream = stream
            stream.start()
        except sd.PortAudioError as exc:
            self._release()
            raise AudioError(f"cannot open {self.description}: {exc}") from None
        finally:
            # PULSE_SOURCE is now in the stream's context; restore it so that a later `default` device
            # opened by this process is the user's microphone again. The latency setting stays harmless.
            if "PULSE_SOURCE" in saved:
                prev = saved["PULSE_SOURCE"]
                if prev is None:
                    os.environ.pop("PULSE_SOURCE", None)
                else:
                    os.environ["PULSE_SOURCE"] = prev

    def _release(self) -> None:
        global _open_streams
        stream, self._stream = self._stream, None
        if stream is None:
            return
        _open_streams -= 1
        with contextlib.suppress(Exception):
            stream.abort()
        with contextlib.suppress(Exception):
            stream.close()

    def _stop(self) -> None:
        self._release()


def _pulse_device_index(sd: ModuleType) -> int:
    """Index of PortAudio's ALSA ``pulse`` device (re-scanning once if PulseAudio started after us)."""
    for attempt in range(2):
        for d in input_devices(sd):
            if d["name"] == "pulse":
                return int(d["index"])
        if attempt == 0 and not refresh_portaudio():
            break
    raise AudioError(
        "PortAudio has no ALSA `pulse` device: install the ALSA PulseAudio plugin "
        "(Debian/Ubuntu: sudo apt install libasound2-plugins) and make sure PulseAudio or pipewire-pulse is running"
    )


def _pulse_source_for(device: str) -> str | None:
    """The PulseAudio source named (or uniquely matched) by ``device``, on Linux when a server runs."""
    if not sys.platform.startswith("linux"):
        return None
    from captioner.audio import pulse

    try:
        sources = pulse.list_sources()
    except AudioError:
        return None
    try:
        return pulse.match_source(sources, device, monitors_only=False).name
    except AudioError:
        return None
