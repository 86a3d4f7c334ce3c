"""Fixtures of the meeting-mode tests: the PulseAudio test daemon with a stand-in microphone.

The daemon of ``tests/audio/pulse.py`` has two null sinks. ``captioner_test`` is the default sink: what it plays
is "the others" (the system audio, captured from its monitor as always). The monitor of ``captioner_other`` is
remapped (``module-remap-source``) into an ordinary source, ``captioner_mic``, made the default source: what is
played into ``captioner_other`` is what "the microphone" hears.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.audio.pulse import PulseServer, started_pulse_server

MIC_SOURCE = "captioner_mic"


@pytest.fixture(scope="session")
def meeting_server() -> Iterator[PulseServer]:
    with started_pulse_server() as server:
        server.pactl(
            "load-module",
            "module-remap-source",
            f"master={server.other_sink}.monitor",
            f"source_name={MIC_SOURCE}",
            "source_properties=device.description=Test-microphone",
        )
        server.pactl("set-default-source", MIC_SOURCE)
        yield server


@pytest.fixture
def meeting_pulse(meeting_server: PulseServer, monkeypatch: pytest.MonkeyPatch) -> PulseServer:
    """The daemon, reachable from this process and its children through ``PULSE_SERVER``."""
    for var, value in meeting_server.env().items():
        if var.startswith("PULSE_"):
            monkeypatch.setenv(var, value)
    for var in ("PULSE_SOURCE", "PULSE_SINK"):
        monkeypatch.delenv(var, raising=False)
    return meeting_server
