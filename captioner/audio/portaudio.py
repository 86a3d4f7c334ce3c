"""PortAudio through sounddevice: the import (with a plain message when the library is missing), the device list,
device resolution by index or name, a format the device accepts, and the ALSA ``pulse`` device.

Every audio module that talks to PortAudio gets it from here; nothing here opens a stream.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

from captioner.audio.base import AudioError

log = logging.getLogger(__name__)

open_streams = 0
"""PortAudio streams this process holds open (PortAudio must not be re-initialised under them)."""


def stream_opened() -> None:
    global open_streams
    open_streams += 1


def stream_closed() -> None:
    global open_streams
    open_streams = max(0, open_streams - 1)


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
    if open_streams:
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


def pick_format(sd: ModuleType, index: int, info: Mapping[str, Any]) -> tuple[int, int]:
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


def pulse_device_index(sd: ModuleType) -> int:
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
