"""System audio — what the computer plays — on each platform.

* Linux: the default sink's monitor of PulseAudio / PipeWire, through the ALSA
  ``pulse`` device (:mod:`captioner.audio.pulse`);
* Windows: WASAPI loopback of the default output, through the ``soundcard``
  package (:mod:`captioner.audio.windows`);
* macOS: a loopback input device such as BlackHole (:mod:`captioner.audio.macos`).
"""

from __future__ import annotations

import logging
import sys

from captioner.audio.base import AudioError, AudioSource

log = logging.getLogger(__name__)


def open_system_source(sample_rate: int, device: str | None = None) -> AudioSource:
    """Open the system-audio source (``device``: a specific one, as listed by ``captioner devices``).

    Raises :class:`AudioError` with a message saying what to install or start.
    """
    device = device.strip() if device and device.strip() else None
    if sys.platform.startswith("linux"):
        return open_monitor_source(sample_rate, device)
    if sys.platform == "win32":
        from captioner.audio.windows import open_loopback_source

        return open_loopback_source(sample_rate, device)
    if sys.platform == "darwin":
        from captioner.audio.macos import open_loopback_source as open_mac

        return open_mac(sample_rate, device)
    raise AudioError(f"system audio capture is not supported on {sys.platform}; use --source mic")


def open_monitor_source(sample_rate: int, device: str | None = None) -> AudioSource:
    """Linux: capture the default sink's monitor (or the monitor source ``device``) at ``sample_rate``."""
    from captioner.audio import pulse
    from captioner.audio.mic import MicrophoneSource

    sources = pulse.list_sources()
    chosen = (
        pulse.match_source(sources, device) if device else pulse.pick_default_monitor(sources, pulse.default_sink())
    )
    label = chosen.description or chosen.name
    log.info("system audio: capturing %s through the ALSA pulse device", chosen.name)
    return MicrophoneSource(sample_rate, pulse_source=chosen.name, description=f"system audio ({label})")
