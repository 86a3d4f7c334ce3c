"""Audio sources: microphone, system audio (what the computer plays) and WAV files."""

from __future__ import annotations

from pathlib import Path

from captioner.audio.base import AudioChunk, AudioError, AudioSource

__all__ = ["AudioChunk", "AudioError", "AudioSource", "open_source"]


def open_source(
    spec: str,
    sample_rate: int,
    *,
    device: str | None = None,
    realtime: bool = True,
) -> AudioSource:
    """Open the source named by ``spec``: ``mic``, ``system`` or a path to a WAV file.

    Raises :class:`AudioError` with a user-facing message when it cannot.
    """
    if spec == "mic":
        from captioner.audio.mic import MicrophoneSource

        return MicrophoneSource(sample_rate, device=device)
    if spec == "system":
        from captioner.audio.system import open_system_source

        return open_system_source(sample_rate, device=device)
    from captioner.audio.file import WavFileSource

    if not Path(spec).suffix and not Path(spec).exists():
        raise AudioError(f"unknown source {spec!r}: use mic, system, or the path of a WAV file")
    return WavFileSource(spec, sample_rate, realtime=realtime)
