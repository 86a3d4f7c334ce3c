"""Pure selection logic: which device each platform captures, and the messages when there is none.

The Windows (WASAPI loopback) and macOS (loopback device) capture paths cannot
run on this Linux machine; their choice of device is tested here.
"""

from __future__ import annotations

import pytest

from captioner.audio import macos, pulse, windows
from captioner.audio.base import AudioError
from captioner.audio.devices import DeviceInfo, microphones_from
from captioner.audio.windows import LoopbackDevice

# -- Windows ------------------------------------------------------------------------------------

WIN = [
    LoopbackDevice("{0.0.1.00000000}.{mic-1}", "Microphone (Realtek(R) Audio)", loopback=False),
    LoopbackDevice("{0.0.0.00000000}.{spk-1}", "Speakers (Realtek(R) Audio)", loopback=True),
    LoopbackDevice("{0.0.0.00000000}.{hdmi-1}", "LG ULTRAGEAR (NVIDIA High Definition Audio)", loopback=True),
    LoopbackDevice("{0.0.0.00000000}.{bt-1}", "Headphones (WH-1000XM4 Stereo)", loopback=True),
]


def test_windows_picks_the_loopback_of_the_default_output() -> None:
    assert windows.pick_loopback(WIN, "Headphones (WH-1000XM4 Stereo)", None).id == "{0.0.0.00000000}.{bt-1}"
    assert windows.pick_loopback(WIN, "{0.0.0.00000000}.{hdmi-1}", None).name.startswith("LG ULTRAGEAR")


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        ("Speakers (Realtek(R) Audio)", "{0.0.0.00000000}.{spk-1}"),
        ("speakers", "{0.0.0.00000000}.{spk-1}"),
        ("{0.0.0.00000000}.{hdmi-1}", "{0.0.0.00000000}.{hdmi-1}"),
        ("wh-1000", "{0.0.0.00000000}.{bt-1}"),
    ],
)
def test_windows_device_by_name_part_or_id(wanted: str, expected: str) -> None:
    assert windows.pick_loopback(WIN, "Speakers (Realtek(R) Audio)", wanted).id == expected


def test_windows_errors() -> None:
    with pytest.raises(AudioError, match="no output device to record matches 'microphone'"):
        windows.pick_loopback(WIN, None, "microphone")  # the real microphone is not a loopback device
    with pytest.raises(AudioError, match=r"'\(' matches several output devices"):
        windows.pick_loopback(WIN, None, "(")
    with pytest.raises(AudioError, match="enable a playback device"):
        windows.pick_loopback(WIN[:1], None, None)
    with pytest.raises(AudioError, match="cannot tell which output is the default; pass --device"):
        windows.pick_loopback(WIN, None, None)
    only = [WIN[0], WIN[1]]
    assert windows.pick_loopback(only, None, None) == WIN[1]  # one output: no doubt


# -- macOS --------------------------------------------------------------------------------------


def mac_devices(*names: str, inputs: int = 2) -> list[dict[str, object]]:
    devs: list[dict[str, object]] = [
        {"index": 0, "name": "MacBook Pro Microphone", "max_input_channels": 1},
        {"index": 1, "name": "MacBook Pro Speakers", "max_input_channels": 0},
    ]
    for i, name in enumerate(names, start=2):
        devs.append({"index": i, "name": name, "max_input_channels": inputs})
    return devs


def test_macos_finds_a_loopback_device_preferring_blackhole() -> None:
    assert macos.pick_loopback(mac_devices("BlackHole 2ch")) == 2
    assert macos.pick_loopback(mac_devices("Loopback Audio", "ZoomAudioDevice", "BlackHole 16ch")) == 4
    assert macos.pick_loopback(mac_devices("Soundflower (2ch)")) == 2


def test_macos_without_loopback_explains_how_to_get_one() -> None:
    with pytest.raises(AudioError) as err:
        macos.pick_loopback(mac_devices("ZoomAudioDevice"))
    msg = str(err.value)
    assert "https://existential.audio/blackhole/" in msg
    assert "Multi-Output Device" in msg and "ScreenCaptureKit" in msg
    # An output-only "BlackHole" (no input channels) does not count.
    with pytest.raises(AudioError, match="BlackHole"):
        macos.pick_loopback(mac_devices("BlackHole 2ch", inputs=0))


def test_macos_device_choice() -> None:
    devs = mac_devices("BlackHole 2ch", "BlackHole 16ch")
    assert macos.pick_loopback(devs, "blackhole 16") == 3
    assert macos.pick_loopback(devs, "0") == 0  # any input the user names, even the microphone
    with pytest.raises(AudioError, match="matches several input devices"):
        macos.pick_loopback(devs, "blackhole")
    with pytest.raises(AudioError, match="no input device matches 'loopback'"):
        macos.pick_loopback(devs, "loopback")


# -- Linux (pactl output) -----------------------------------------------------------------------

PACTL_SOURCES = """Source #0
\tState: SUSPENDED
\tName: alsa_output.pci-0000_00_1f.3.analog-stereo.monitor
\tDescription: Monitor of Built-in Audio Analog Stereo
\tDriver: module-alsa-card.c
\tMonitor of Sink: alsa_output.pci-0000_00_1f.3.analog-stereo
\tProperties:
\t\tdevice.description = "Monitor of Built-in Audio Analog Stereo"
\t\tdevice.class = "monitor"
Source #1
\tState: RUNNING
\tName: alsa_input.pci-0000_00_1f.3.analog-stereo
\tDescription: Built-in Audio Analog Stereo
\tMonitor of Sink: n/a
\tProperties:
\t\tName: not-a-field
Source #7
\tState: IDLE
\tName: bluez_output.AC_80_0A_11_22_33.1.monitor
\tDescription: Monitor of WH-1000XM4
\tMonitor of Sink: bluez_output.AC_80_0A_11_22_33.1
"""


def test_pactl_sources_parse() -> None:
    sources = pulse.parse_sources(PACTL_SOURCES)
    assert [s.name for s in sources] == [
        "alsa_output.pci-0000_00_1f.3.analog-stereo.monitor",
        "alsa_input.pci-0000_00_1f.3.analog-stereo",
        "bluez_output.AC_80_0A_11_22_33.1.monitor",
    ]
    assert [s.is_monitor for s in sources] == [True, False, True]
    assert sources[1].monitor_of == "" and sources[1].description == "Built-in Audio Analog Stereo"


def test_linux_picks_the_default_sinks_monitor() -> None:
    sources = pulse.parse_sources(PACTL_SOURCES)
    assert pulse.pick_default_monitor(sources, "bluez_output.AC_80_0A_11_22_33.1").name.startswith("bluez_output")
    assert pulse.pick_default_monitor(sources, "alsa_output.pci-0000_00_1f.3.analog-stereo").name.startswith("alsa")
    with pytest.raises(AudioError, match="cannot tell which output is the default"):
        pulse.pick_default_monitor(sources, "")
    with pytest.raises(AudioError, match="no output device to listen to"):
        pulse.pick_default_monitor(sources[1:2], "x")
    assert pulse.pick_default_monitor(sources[:2], "") == sources[0]


def test_linux_device_choice() -> None:
    sources = pulse.parse_sources(PACTL_SOURCES)
    assert pulse.match_source(sources, "Monitor of WH-1000XM4") == sources[2]
    assert pulse.match_source(sources, "wh-1000") == sources[2]
    with pytest.raises(AudioError, match="no system-audio"):
        pulse.match_source(sources, "alsa_input.pci-0000_00_1f.3.analog-stereo")  # a microphone
    assert pulse.match_source(sources, "alsa_input", monitors_only=False) == sources[1]
    with pytest.raises(AudioError, match="matches several sources"):
        pulse.match_source(sources, "monitor")


# -- microphone listing -------------------------------------------------------------------------


def test_microphones_listing() -> None:
    devices = [
        {"index": 0, "name": "Microphone (USB)", "hostapi": 0, "max_input_channels": 1, "default_samplerate": 48000.0},
        {"index": 1, "name": "Speakers", "hostapi": 0, "max_input_channels": 0, "default_samplerate": 48000.0},
        {"index": 2, "name": "Monitor of Speakers", "hostapi": 0, "max_input_channels": 2},
        {"index": 3, "name": "Line In", "hostapi": 0, "max_input_channels": 2, "default_samplerate": 44100.0},
        {"index": 4, "name": "Line In", "hostapi": 0, "max_input_channels": 2, "default_samplerate": 44100.0},
        {"index": 5, "name": "Microphone (USB)", "hostapi": 1, "max_input_channels": 1},  # same device, other API
        {"index": 6, "name": "BlackHole 2ch", "hostapi": 0, "max_input_channels": 2},
    ]
    mics = microphones_from(devices, 0)
    assert mics[0] == DeviceInfo("Microphone (USB)", "Microphone (USB)", "mic", True, "1 ch, 48000 Hz")
    assert [m.id for m in mics] == ["Microphone (USB)", "3", "4", "BlackHole 2ch"]  # duplicate names: by number
    assert [m.id for m in microphones_from(devices, 0, exclude_loopback=True)] == ["Microphone (USB)", "3", "4"]
    assert microphones_from(devices, 0)[1].as_dict() == {
        "id": "3", "name": "Line In", "kind": "mic", "default": False, "detail": "2 ch, 44100 Hz",
    }  # fmt: skip
    assert microphones_from([], -1) == []
