"""The microphone: a PortAudio input stream (sounddevice) as a :class:`~captioner.audio.capture.CaptureSource`.

:class:`MicrophoneSource` is the PortAudio backend of
:class:`~captioner.audio.capture.CaptureSource` (which owns the hand-off to the
loop, the bounded queue, resampling and chunking). It is also used for Linux
system audio (the ALSA ``pulse`` device pointed at a monitor source) and macOS
loopback devices. Its callback, on PortAudio's thread, only copies the block and
pushes it; PortAudio's input-overflow flag is counted as a dropped block.
Device listing and resolution live in :mod:`~captioner.audio.portaudio`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from typing import Any

import numpy as np

from captioner.audio import portaudio
from captioner.audio.base import AudioError
from captioner.audio.capture import CaptureSource
from captioner.audio.portaudio import (
    default_input_index,
    input_devices,
    pick_format,
    pulse_device_index,
    refresh_portaudio,
    resolve_input_device,
    sounddevice,
)

log = logging.getLogger(__name__)


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
            index = pulse_device_index(sd)
        else:
            try:
                index = resolve_input_device(input_devices(sd), device, default_input_index(sd))
            except AudioError:
                found = _pulse_source_for(device) if isinstance(device, str) and device.strip() else None
                if found is not None:
                    self.pulse_source = found
                    index = pulse_device_index(sd)
                elif refresh_portaudio():  # plugged in (or sound server started) since PortAudio listed devices
                    index = resolve_input_device(input_devices(sd), device, default_input_index(sd))
                else:
                    raise
        info = dict(sd.query_devices(index))
        self.device_index = index
        self.device_name = str(info.get("name", index))
        rate, channels = pick_format(sd, index, info)
        self.channels = channels
        if description is None:
            description = f"microphone {self.device_name}"
            if self.pulse_source:
                description = f"PulseAudio source {self.pulse_source}"
        self.description = description
        self._stream: Any = None
        self._callback_error = ""
        super().__init__(
            sample_rate,
            device_rate=rate,
            chunk_ms=chunk_ms,
            max_queued_blocks=max_queued_blocks,
            idle_fill_after=idle_fill_after,
        )

    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread: copy the block and hand it to the loop. Nothing else.

        An error here would reach PortAudio as a traceback on stderr and an aborted stream; instead the
        stream is ended with the reason, which ``chunks()`` raises as an :class:`AudioError`.
        """
        try:
            if status.input_overflow:
                self.count_backend_drop()
            self.push_block(indata.copy(), time.monotonic())
        except Exception as exc:
            log.debug("error in the audio callback", exc_info=True)
            self._callback_error = f"{exc.__class__.__name__}: {exc}"
            self.fail(f"{self.description} stopped: audio capture failed ({self._callback_error})")
            raise self._sd.CallbackAbort from None

    def _finished(self) -> None:
        """PortAudio's thread: the stream ended. Unless we stopped it (or the callback failed), the device went away."""
        if not self._stopped and not self._callback_error:
            self.fail(f"{self.description} stopped delivering audio (disconnected?)")

    def _start(self) -> None:
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
            portaudio.stream_opened()
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
        stream, self._stream = self._stream, None
        if stream is None:
            return
        portaudio.stream_closed()
        with contextlib.suppress(Exception):
            stream.abort()
        with contextlib.suppress(Exception):
            stream.close()

    def _stop(self) -> None:
        self._release()


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
