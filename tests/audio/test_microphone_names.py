"""Microphones as the sound server names them, and a monitor picked as "the microphone" (real PulseAudio).

The test server (``conftest.py``) has no microphone: its default source is the monitor of a null sink, which
is what a machine without a microphone looks like. A null *source* stands in for a real microphone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from captioner.audio.devices import list_devices, microphone_monitor
from tests.audio.pulse import PulseServer

pytestmark = pytest.mark.pulse

MIC = "captioner_test_mic"
MIC_DESCRIPTION = "Null Input"  # what the server calls a null source (its description, not its name)


@pytest.fixture
def microphone(pulse: PulseServer) -> Iterator[str]:
    """A source that is not a monitor, as a plugged-in microphone is."""
    module = pulse.pactl("load-module", "module-null-source", f"source_name={MIC}").strip()
    try:
        yield MIC
    finally:
        pulse.pactl("set-default-source", f"{pulse.other_sink}.monitor")
        pulse.pactl("unload-module", module)


def test_microphones_are_listed_by_their_descriptions(pulse: PulseServer, microphone: str) -> None:
    mics = [d for d in list_devices() if d.kind == "mic"]
    assert [(d.id, d.name) for d in mics] == [(MIC, MIC_DESCRIPTION)]  # no ALSA plugin names, no monitors
    assert not mics[0].default  # the default source is still the monitor
    pulse.pactl("set-default-source", MIC)
    assert [d.default for d in list_devices() if d.kind == "mic"] == [True]


def test_a_monitor_as_the_default_microphone_is_detected(pulse: PulseServer) -> None:
    found = microphone_monitor(None)
    assert found is not None and found.name == f"{pulse.other_sink}.monitor"
    assert found.description.startswith("Monitor of")
    assert microphone_monitor("default") == found
    assert microphone_monitor(f"{pulse.sink}.monitor").name == f"{pulse.sink}.monitor"  # type: ignore[union-attr]


def test_a_real_microphone_is_not_a_monitor(pulse: PulseServer, microphone: str) -> None:
    assert microphone_monitor(MIC) is None
    pulse.pactl("set-default-source", MIC)
    assert microphone_monitor(None) is None


def test_no_sound_server_means_no_claim(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/no-such-socket")
    assert microphone_monitor(None) is None
