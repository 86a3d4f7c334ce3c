"""System audio on Windows: WASAPI loopback of the default output, through the ``soundcard`` package.

PortAudio releases cannot open WASAPI loopback streams, so a reader thread
records from soundcard's loopback "microphone" of the output device and hands
each block to the loop like the PortAudio callback does (:class:`CaptureSource`).
Only :func:`pick_loopback` (pure) runs on other platforms, in tests.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from captioner.audio.base import AudioError, AudioSource
from captioner.audio.capture import CaptureSource

log = logging.getLogger(__name__)

DEVICE_RATE = 48000  # WASAPI shared mode mixes at the output's rate; soundcard converts if it differs
BLOCK_FRAMES = 960  # 20 ms at 48 kHz


@dataclass(frozen=True, slots=True)
class LoopbackDevice:
    """A soundcard 'microphone': ``loopback`` ones record an output device."""

    id: str
    name: str
    loopback: bool


def pick_loopback(devices: Sequence[LoopbackDevice], default_output: str | None, wanted: str | None) -> LoopbackDevice:
    """The loopback device to record: ``wanted`` (id, name or unique name part), else the default output's."""
    loopbacks = [d for d in devices if d.loopback]
    if wanted:
        key = wanted.strip().casefold()
        exact = [d for d in loopbacks if key in (d.id.casefold(), d.name.casefold())]
        found = exact or [d for d in loopbacks if key in d.name.casefold()]
        if len(found) == 1:
            return found[0]
        if not found:
            raise AudioError(f"no output device to record matches {wanted!r} (see `captioner devices`)")
        names = ", ".join(d.name for d in found[:6])
        raise AudioError(f"{wanted!r} matches several output devices ({names}); pass the full name")
    if not loopbacks:
        raise AudioError("no output device to record: enable a playback device in the Windows sound settings")
    if default_output:
        for d in loopbacks:
            if d.name == default_output or d.id == default_output:
                return d
    if len(loopbacks) == 1:
        return loopbacks[0]
    names = ", ".join(d.name for d in loopbacks)
    raise AudioError(f"cannot tell which output is the default; pass --device, one of: {names}")


def _soundcard() -> Any:
    try:
        import soundcard
    except Exception as exc:  # ImportError, or COM/runtime errors raised at import
        raise AudioError(f"system audio on Windows needs the `soundcard` package ({exc}): reinstall") from None
    return soundcard


def list_loopbacks() -> tuple[list[LoopbackDevice], str | None]:
    """Loopback devices and the default output's name."""
    sc = _soundcard()
    devices = [
        LoopbackDevice(str(m.id), str(m.name), bool(getattr(m, "isloopback", False)))
        for m in sc.all_microphones(include_loopback=True)
    ]
    default = None
    with contextlib.suppress(Exception):
        default = str(sc.default_speaker().name)
    return devices, default


class WasapiLoopbackSource(CaptureSource):
    """Records a soundcard loopback device on a reader thread."""

    def __init__(self, sample_rate: int, device_id: str, name: str) -> None:
        super().__init__(sample_rate, device_rate=DEVICE_RATE)
        self.device_id = device_id
        self.description = f"system audio ({name})"
        self._stop_flag = threading.Event()
        self._thread: threading.Thread | None = None

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="captioner-wasapi-loopback", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        if sys.platform == "win32":  # each thread that uses COM must initialise it
            import ctypes

            with contextlib.suppress(Exception):
                ctypes.windll.ole32.CoInitializeEx(None, 0)  # type: ignore[attr-defined]
        try:
            sc = _soundcard()
            mic = sc.get_microphone(self.device_id, include_loopback=True)
            with mic.recorder(samplerate=DEVICE_RATE, blocksize=BLOCK_FRAMES) as rec:
                while not self._stop_flag.is_set():
                    data = rec.record(numframes=BLOCK_FRAMES)
                    if len(data):
                        self.push_block(data.copy(), time.monotonic())
        except Exception as exc:
            self.fail(f"system audio capture stopped: {exc}")
            log.error("WASAPI loopback capture stopped: %s", exc)

    def _stop(self) -> None:
        self._stop_flag.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=1.0)


def open_loopback_source(sample_rate: int, device: str | None = None) -> AudioSource:
    devices, default = list_loopbacks()
    chosen = pick_loopback(devices, default, device)
    return WasapiLoopbackSource(sample_rate, chosen.id, chosen.name)
