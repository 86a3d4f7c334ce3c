"""Fixtures of the audio tests: a real PulseAudio daemon with null sinks (see ``tests/audio/pulse.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.audio.pulse import PulseServer, started_pulse_server


@pytest.fixture(scope="session")
def pulse_server() -> Iterator[PulseServer]:
    with started_pulse_server() as server:
        yield server


@pytest.fixture
def pulse(pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch) -> PulseServer:
    """The PulseAudio test server, reachable from this process and its children through ``PULSE_SERVER``."""
    monkeypatch.setenv("PULSE_SERVER", pulse_server.server)
    monkeypatch.delenv("PULSE_SOURCE", raising=False)
    monkeypatch.delenv("PULSE_SINK", raising=False)
    return pulse_server
