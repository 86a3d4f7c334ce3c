"""The microphone through PortAudio (sounddevice): device listing and selection, stream opening.

:class:`MicrophoneSource` is the PortAudio backend of
:class:`~captioner.audio.capture.CaptureSource` (which owns the hand-off to the
loop, the bounded queue, resampling and chunking). It is also used for Linux
system audio (the ALSA ``pulse`` device pointed at a monitor source) and macOS
loopback devices. Its callback, on PortAudio's thread, only copies the block and
pushes it; PortAudio's input-overflow flag is counted as a dropped block.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from captioner.audio.base import AudioError
from captioner.audio.capture import CaptureSource

log = logging.getLogger(__name__)

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
