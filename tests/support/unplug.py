"""Unplugging and replugging audio devices of the PulseAudio test daemon (``tests/audio/pulse.py``).

A :class:`Socket` is a device that can be pulled out and put back: a null sink ``<name>_sink`` (an output whose
monitor system audio captures), and optionally a source ``<name>`` remapped from that monitor (a stand-in
microphone: what is played into the sink is what it hears). :meth:`Socket.unplug_mic` unloads the remapped
source, :meth:`Socket.unplug_output` the sink (and the source on top of it); :meth:`Socket.plug` loads what is
missing again. The modules are the daemon's, so this is what the sound server does when a USB device goes away.
:func:`daemon` is a fixture (a test module imports it) with a daemon of its own; :func:`plugged` a socket on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.audio.pulse import PulseServer, started_pulse_server


@dataclass
class Socket:
    server: PulseServer
    name: str
    with_mic: bool = True
    modules: dict[str, str] = field(default_factory=dict)

    @property
    def sink(self) -> str:
        return f"{self.name}_sink"

    @property
    def monitor(self) -> str:
        return f"{self.sink}.monitor"

    @property
    def mic(self) -> str:
        return self.name

    def plug(self) -> None:
        if "sink" not in self.modules:
            self.modules["sink"] = self._load("module-null-sink", f"sink_name={self.sink}", "rate=48000")
        if self.with_mic and "mic" not in self.modules:
            self.modules["mic"] = self._load(
                "module-remap-source",
                f"master={self.monitor}",
                f"source_name={self.mic}",
                f"source_properties=device.description={self.name}-microphone",
            )

    def unplug_mic(self) -> None:
        self.server.pactl("unload-module", self.modules.pop("mic"))

    def unplug_output(self) -> None:
        if "mic" in self.modules:
            self.unplug_mic()
        self.server.pactl("unload-module", self.modules.pop("sink"))

    def remove(self) -> None:
        """Unload whatever is still loaded (end of a test)."""
        for key in ("mic", "sink"):
            if key in self.modules:
                self.server.pactl("unload-module", self.modules.pop(key))

    def _load(self, module: str, *args: str) -> str:
        return self.server.pactl("load-module", module, *args).strip()


@pytest.fixture(scope="module")
def daemon() -> Iterator[PulseServer]:
    """A PulseAudio daemon of the test module's own (its devices are unplugged: no other test may share it)."""
    with started_pulse_server() as server:
        yield server


@contextlib.contextmanager
def plugged(server: PulseServer, monkeypatch: pytest.MonkeyPatch, name: str) -> Iterator[Socket]:
    """A :class:`Socket` plugged in on ``server``, which this process (and its children) then talk to."""
    monkeypatch.setenv("PULSE_SERVER", server.server)
    monkeypatch.delenv("PULSE_SOURCE", raising=False)
    socket = Socket(server, name)
    socket.plug()
    try:
        yield socket
    finally:
        socket.remove()
