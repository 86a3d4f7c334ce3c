"""System audio on Linux: the default sink's monitor source of PulseAudio or PipeWire (pipewire-pulse); and what
the server calls its sources (descriptions people recognise) and which one a "microphone" really records.

PortAudio releases have no PulseAudio host API, so the monitor is captured
through PortAudio's ALSA ``pulse`` device (from ``libasound2-plugins``), with
``PULSE_SOURCE=<sink>.monitor`` set in this process while the stream opens.
The server is asked about sinks and sources with ``pactl`` (``pulseaudio-utils``),
which speaks to PulseAudio and to pipewire-pulse alike.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from captioner.audio.base import AudioError

log = logging.getLogger(__name__)

INSTALL_HINT = "Debian/Ubuntu: sudo apt install pulseaudio-utils libasound2-plugins"
START_HINT = "start your sound server (PipeWire: systemctl --user start pipewire-pulse; PulseAudio: pulseaudio --start)"


class PulseUnavailable(AudioError):
    """No ``pactl`` or no sound server: nothing else will work either."""


@dataclass(frozen=True, slots=True)
class PulseSourceInfo:
    """A PulseAudio source: ``monitor_of`` names the sink it monitors ('' for a microphone)."""

    name: str
    description: str = ""
    monitor_of: str = ""

    @property
    def is_monitor(self) -> bool:
        return bool(self.monitor_of) or self.name.endswith(".monitor")


def pactl(*args: str, timeout: float = 5.0) -> str:
    """Run ``pactl`` (C locale) and return its output; :class:`AudioError` with a plain message on failure."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        proc = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except FileNotFoundError:
        raise PulseUnavailable(
            f"system audio needs PulseAudio or PipeWire and the `pactl` tool, which is missing ({INSTALL_HINT})"
        ) from None
    except subprocess.TimeoutExpired:
        raise PulseUnavailable("the sound server does not answer (pactl timed out): " + START_HINT) from None
    if proc.returncode != 0:
        why = (proc.stderr or proc.stdout).strip().splitlines()
        detail = why[-1] if why else f"exit status {proc.returncode}"
        if "connection" in detail.lower() or "refused" in detail.lower():
            raise PulseUnavailable(f"no PulseAudio/PipeWire sound server is running ({detail}): {START_HINT}")
        raise AudioError(f"pactl {' '.join(args)} failed: {detail}")
    return proc.stdout


def parse_sources(text: str) -> list[PulseSourceInfo]:
    """Parse ``LC_ALL=C pactl list sources``."""
    out: list[PulseSourceInfo] = []
    fields: dict[str, str] = {}

    def flush() -> None:
        if fields.get("Name"):
            monitor = fields.get("Monitor of Sink", "")
            monitor = "" if monitor == "n/a" else monitor
            out.append(PulseSourceInfo(fields["Name"], fields.get("Description", ""), monitor))
        fields.clear()

    for line in text.splitlines():
        if line.startswith("Source #"):
            flush()
            continue
        # Only the top-level "Key: value" lines (one tab); properties and ports are indented deeper.
        if line.startswith("\t") and not line.startswith("\t\t"):
            key, sep, value = line.strip().partition(":")
            if sep and key in ("Name", "Description", "Monitor of Sink"):
                fields[key] = value.strip()
    flush()
    return out


def list_sources() -> list[PulseSourceInfo]:
    """All sources of the running PulseAudio/PipeWire server."""
    return parse_sources(pactl("list", "sources"))


def _server_default(kind: str) -> str:
    """Name of the server's default ``sink`` or ``source`` ('' when it has none)."""
    try:
        name = pactl(f"get-default-{kind}").strip()  # PulseAudio >= 15, PipeWire
        if name:
            return name
    except PulseUnavailable:
        raise
    except AudioError:
        pass  # an older pactl without get-default-sink / get-default-source
    label = f"Default {kind.capitalize()}:"
    for line in pactl("info").splitlines():
        if line.startswith(label):
            return line.partition(":")[2].strip()
    return ""


def default_sink() -> str:
    """Name of the default sink ('' when the server has none)."""
    return _server_default("sink")


def default_source() -> str:
    """Name of the default source, what "the microphone" records through the ``pulse`` device ('' if none)."""
    return _server_default("source")


DEFAULT_DEVICE_NAMES = frozenset({"", "default", "pulse", "sysdefault"})
"""PortAudio/ALSA device names that record the sound server's default source."""


def recorded_source(sources: list[PulseSourceInfo], device: str | None, default: str) -> PulseSourceInfo | None:
    """The source a microphone ``device`` records: the default source (``default``) for the default devices,
    ``PULSE_SOURCE`` when set, or the source ``device`` names; ``None`` for a device the server does not own."""
    wanted = os.environ.get("PULSE_SOURCE") or ""
    key = (device or "").strip()
    if not wanted and key.casefold() in DEFAULT_DEVICE_NAMES:
        wanted = default
    if wanted:
        return next((s for s in sources if s.name == wanted), None)
    try:
        return match_source(sources, key, monitors_only=False)
    except AudioError:
        return None


def pick_default_monitor(sources: list[PulseSourceInfo], sink: str) -> PulseSourceInfo:
    """The monitor of ``sink`` (the default output); else the only monitor there is."""
    monitors = [s for s in sources if s.is_monitor]
    for s in monitors:
        if sink and (s.monitor_of == sink or s.name == f"{sink}.monitor"):
            return s
    if not monitors:
        raise AudioError(
            "the sound server has no output device to listen to (no sink monitor source); "
            "is an output device enabled in your sound settings?"
        )
    if len(monitors) == 1:
        return monitors[0]
    names = ", ".join(s.name for s in monitors)
    raise AudioError(f"cannot tell which output is the default (default sink {sink!r}); pass --device, one of: {names}")


def match_source(sources: list[PulseSourceInfo], wanted: str, *, monitors_only: bool = True) -> PulseSourceInfo:
    """The source named by ``wanted``: its exact name or description, else a unique case-insensitive part of one."""
    pool = [s for s in sources if s.is_monitor or not monitors_only]
    key = wanted.strip().casefold()
    for s in pool:
        if s.name.casefold() == key:
            return s
    exact = [s for s in pool if s.description.casefold() == key]
    matches = exact or [s for s in pool if key in s.name.casefold() or key in s.description.casefold()]
    if len(matches) == 1:
        return matches[0]
    what = "system-audio (monitor) source" if monitors_only else "PulseAudio source"
    if not matches:
        raise AudioError(f"no {what} matches {wanted!r} (see `captioner devices`)")
    names = ", ".join(s.name for s in matches[:6])
    raise AudioError(f"{wanted!r} matches several sources ({names}); pass the full id")


def device_probe(kind: str, device: str | None) -> Callable[[], str | None]:
    """What the capture of ``kind`` (``mic`` or ``system``) with ``device`` should record now, for
    :class:`~captioner.audio.reconnect.ReconnectingSource`: the source's name, ``None`` when it is gone.

    A default device follows the server's default (source, or default sink's monitor); a chosen device is the
    source it named the first time, by its exact name (a part of a name could match another device once it
    is gone).
    """
    key = (device or "").strip()
    follows_default = key.casefold() in DEFAULT_DEVICE_NAMES
    chosen: list[str] = []

    def resolve(sources: list[PulseSourceInfo]) -> str | None:
        if kind == "mic":
            found = recorded_source(sources, key or None, default_source() if follows_default else "")
            return found.name if found is not None else None
        return (match_source(sources, key) if key else pick_default_monitor(sources, default_sink())).name

    def probe() -> str | None:
        try:
            sources = list_sources()
            if chosen:
                return chosen[0] if any(s.name == chosen[0] for s in sources) else None
            name = resolve(sources)
        except AudioError:
            return None
        if name is not None and not follows_default:
            chosen.append(name)
        return name

    return probe
