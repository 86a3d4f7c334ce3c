"""System audio on macOS: a loopback input device (BlackHole, Loopback, Soundflower…) found among PortAudio inputs.

macOS lets no app record what is playing without either a loopback driver or
ScreenCaptureKit / Core Audio taps (macOS 13+ / 14.2+, not used by Captioner
yet). The selection logic is pure so that it is tested on any platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from captioner.audio.base import AudioError, AudioSource

# Lower-case name fragments of virtual loopback devices.
LOOPBACK_HINTS: tuple[str, ...] = (
    "blackhole",
    "loopback",
    "soundflower",
    "background music",
    "ishowu",
    "vb-cable",
    "cable output",
    "eqmac",
)

HOW_TO = (
    "macOS cannot record what the computer plays without a loopback device. Install BlackHole "
    "(free: https://existential.audio/blackhole/ or `brew install blackhole-2ch`), then in Audio MIDI Setup "
    "create a Multi-Output Device with your speakers and BlackHole and make it the sound output; "
    "Captioner then finds BlackHole by itself (or pass --device NAME). "
    "Capture through ScreenCaptureKit without a driver is not supported yet."
)


def is_loopback_name(name: str) -> bool:
    low = name.casefold()
    return any(hint in low for hint in LOOPBACK_HINTS)


def pick_loopback(devices: Sequence[Mapping[str, Any]], wanted: str | None = None) -> int:
    """PortAudio index of the loopback input to capture: ``wanted`` (index or name part) or the first known one."""
    inputs = [d for d in devices if d.get("max_input_channels", 0) > 0]
    if wanted:
        key = wanted.strip().casefold()
        if key.isdigit():
            found = [d for d in inputs if d["index"] == int(key)]
        else:
            found = [d for d in inputs if str(d["name"]).casefold() == key] or [
                d for d in inputs if key in str(d["name"]).casefold()
            ]
        if len(found) == 1:
            return int(found[0]["index"])
        if not found:
            raise AudioError(f"no input device matches {wanted!r} (see `captioner devices`)")
        names = ", ".join(str(d["name"]) for d in found[:6])
        raise AudioError(f"{wanted!r} matches several input devices ({names}); pass the number instead")
    loopbacks = [d for d in inputs if is_loopback_name(str(d["name"]))]
    if not loopbacks:
        raise AudioError(HOW_TO)
    # Prefer BlackHole (the usual free choice), then the list order.
    loopbacks.sort(key=lambda d: 0 if "blackhole" in str(d["name"]).casefold() else 1)
    return int(loopbacks[0]["index"])


def open_loopback_source(sample_rate: int, device: str | None = None) -> AudioSource:
    from captioner.audio.mic import MicrophoneSource
    from captioner.audio.portaudio import input_devices, sounddevice

    sd = sounddevice()
    index = pick_loopback(input_devices(sd), device)
    name = str(sd.query_devices(index)["name"])
    return MicrophoneSource(sample_rate, index, description=f"system audio ({name})")
