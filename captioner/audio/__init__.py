"""Audio sources: microphone, system audio (what the computer plays) and WAV files."""

from __future__ import annotations

import sys
from pathlib import Path

from captioner.audio.base import AudioChunk, AudioError, AudioSource

__all__ = ["AudioChunk", "AudioError", "AudioSource", "open_source"]


def open_source(
    spec: str,
    sample_rate: int,
    *,
    device: str | None = None,
    realtime: bool = True,
    check_every: float = 1.0,
) -> AudioSource:
    """Open the source named by ``spec``: ``mic``, ``system`` or a path to a WAV file.

    A live source outlives its device: unplugged, it waits (in silence) for it to come back, checking every
    ``check_every`` seconds (:mod:`captioner.audio.reconnect`). Raises :class:`AudioError` with a user-facing
    message when it cannot be opened.
    """
    if spec in ("mic", "system"):
        return _live_source(spec, sample_rate, device, check_every)
    from captioner.audio.file import WavFileSource

    if not Path(spec).suffix and not Path(spec).exists():
        raise AudioError(f"unknown source {spec!r}: use mic, system, or the path of a WAV file")
    return WavFileSource(spec, sample_rate, realtime=realtime)


def _live_source(spec: str, sample_rate: int, device: str | None, check_every: float) -> AudioSource:
    from captioner.audio.portaudio import refresh_portaudio
    from captioner.audio.reconnect import Probe, ReconnectingSource

    def open_live() -> AudioSource:
        if spec == "mic":
            from captioner.audio.mic import MicrophoneSource

            return MicrophoneSource(sample_rate, device=device)
        from captioner.audio.system import open_system_source

        return open_system_source(sample_rate, device=device)

    def reopen() -> AudioSource:
        refresh_portaudio()  # PortAudio lists devices once: see the one plugged in again
        return open_live()

    probe: Probe | None = None
    if sys.platform.startswith("linux"):
        from captioner.audio import pulse

        probe = pulse.device_probe(spec, device)
    return ReconnectingSource(open_live, reopen=reopen, probe=probe, check_every=check_every)
