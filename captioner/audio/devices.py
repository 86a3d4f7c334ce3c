"""Listing microphones and system-audio sources, with ids that ``--device`` accepts back.

* microphones: on Linux with PulseAudio/PipeWire, the server's sources that are not monitors, named by their
  descriptions ("Built-in Audio Analog Stereo", not ALSA plugin names such as "pulse"); id = the source name.
  Elsewhere PortAudio input devices (of the default host API), minus monitors and loopback devices;
  id = the device name (or its number when two share a name);
* system audio: PulseAudio/PipeWire sink monitors on Linux (id = source name),
  WASAPI loopback of each output on Windows (id = output name), loopback
  devices (BlackHole…) on macOS (id = device name).

Never raises for a machine without sound hardware or libraries: it lists what exists.
:func:`microphone_monitor` tells when the "microphone" is really a monitor of the speakers (no microphone
connected, and the server's default source is a monitor).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from captioner.audio.base import AudioError

if TYPE_CHECKING:
    from captioner.audio.pulse import PulseSourceInfo

log = logging.getLogger(__name__)

Kind = Literal["mic", "system"]


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: str
    name: str
    kind: Kind
    default: bool = False
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def microphones_from(
    devices: Sequence[Mapping[str, Any]], default_index: int, *, exclude_loopback: bool = False
) -> list[DeviceInfo]:
    """Microphones among PortAudio devices (pure: ``devices`` as from ``sounddevice.query_devices()``)."""
    from captioner.audio.macos import is_loopback_name

    inputs = [d for d in devices if d.get("max_input_channels", 0) > 0]
    default_api = next((d.get("hostapi") for d in inputs if d["index"] == default_index), None)
    if default_api is not None:  # Windows lists every device once per host API: keep the default one's
        inputs = [d for d in inputs if d.get("hostapi") == default_api]
    inputs = [d for d in inputs if "monitor" not in str(d["name"]).casefold()]
    if exclude_loopback:
        inputs = [d for d in inputs if not is_loopback_name(str(d["name"]))]
    names = [str(d["name"]) for d in inputs]
    out = []
    for d, name in zip(inputs, names, strict=True):
        ident = name if names.count(name) == 1 and not name.strip().isdigit() else str(d["index"])
        rate = d.get("default_samplerate")
        detail = f"{d.get('max_input_channels')} ch, {int(rate)} Hz" if rate else ""
        out.append(DeviceInfo(ident, name, "mic", d["index"] == default_index, detail))
    return out


def _portaudio() -> tuple[list[dict[str, Any]], int]:
    from captioner.audio.portaudio import default_input_index, input_devices, refresh_portaudio, sounddevice

    sd = sounddevice()
    refresh_portaudio()  # PortAudio lists devices once; pick up what was plugged in since (skipped while capturing)
    return input_devices(sd), default_input_index(sd)


def _linux_microphones() -> list[DeviceInfo]:
    """The sound server's inputs that are not monitors; :class:`AudioError` when there is no server."""
    from captioner.audio import pulse

    sources = pulse.list_sources()
    default = pulse.default_source()
    return [
        DeviceInfo(s.name, s.description or s.name, "mic", s.name == default, "sound server input")
        for s in sources
        if not s.is_monitor
    ]


def microphone_monitor(device: str | None) -> PulseSourceInfo | None:
    """The monitor source that microphone ``device`` (``None``: the default) records, if it is one.

    With no microphone connected, PulseAudio's default source may be a sink's monitor: "the microphone"
    then captions what the computer plays. ``None`` when the device is a real input, or off Linux, or the
    sound server cannot be asked.
    """
    if not sys.platform.startswith("linux"):
        return None
    from captioner.audio import pulse

    try:
        sources = pulse.list_sources()
        source = pulse.recorded_source(sources, device, pulse.default_source())
    except AudioError as exc:
        log.debug("cannot ask the sound server about the microphone: %s", exc)
        return None
    return source if source is not None and source.is_monitor else None


def _linux_system() -> list[DeviceInfo]:
    from captioner.audio import pulse

    sources = pulse.list_sources()
    try:
        default = pulse.pick_default_monitor(sources, pulse.default_sink()).name
    except AudioError:
        default = ""
    return [
        DeviceInfo(s.name, s.description or s.name, "system", s.name == default, f"monitor of {s.monitor_of}")
        for s in sources
        if s.is_monitor
    ]


def _windows_system() -> list[DeviceInfo]:
    from captioner.audio import windows

    devices, default = windows.list_loopbacks()
    return [DeviceInfo(d.name, d.name, "system", d.name == default, "WASAPI loopback") for d in devices if d.loopback]


def _macos_system(devices: Sequence[Mapping[str, Any]]) -> list[DeviceInfo]:
    from captioner.audio import macos

    try:
        chosen = macos.pick_loopback(devices)
    except AudioError:
        chosen = -1
    return [
        DeviceInfo(str(d["name"]), str(d["name"]), "system", d["index"] == chosen, "loopback device")
        for d in devices
        if d.get("max_input_channels", 0) > 0 and macos.is_loopback_name(str(d["name"]))
    ]


def _microphones() -> tuple[list[DeviceInfo], list[dict[str, Any]]]:
    """Microphones, and the PortAudio devices (empty when the sound server listed the microphones)."""
    if sys.platform.startswith("linux"):
        try:
            return _linux_microphones(), []
        except AudioError as exc:
            log.info("no sound server to list microphones (%s); listing PortAudio devices", exc)
    pa_devices, default_index = _portaudio()
    return microphones_from(pa_devices, default_index, exclude_loopback=sys.platform == "darwin"), pa_devices


def list_devices() -> list[DeviceInfo]:
    """Microphones, then system-audio sources; defaults marked. Lists nothing rather than fail."""
    found: list[DeviceInfo] = []
    pa_devices: list[dict[str, Any]] = []
    try:
        mics, pa_devices = _microphones()
        found += mics
    except AudioError as exc:
        log.warning("%s", exc)
    try:
        if sys.platform.startswith("linux"):
            found += _linux_system()
        elif sys.platform == "win32":
            found += _windows_system()
        elif sys.platform == "darwin":
            found += _macos_system(pa_devices)
    except AudioError as exc:
        log.info("no system-audio sources: %s", exc)
    return found
