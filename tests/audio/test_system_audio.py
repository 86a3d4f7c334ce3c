"""System audio through a real PulseAudio daemon: real speech played with paplay into a null sink,
captured from its monitor through PortAudio's ALSA ``pulse`` device."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
import soxr

from captioner.audio.base import AudioChunk, AudioError, AudioSource
from captioner.audio.devices import list_devices
from captioner.audio.file import read_wav
from captioner.audio.mic import MicrophoneSource
from captioner.audio.system import open_system_source
from tests.audio.pulse import PulseServer
from tests.support.speech import speech_wav

pytestmark = pytest.mark.pulse
RATE = 16000


async def capture_while_playing(
    pulse: PulseServer, source: AudioSource, wav: Path | None, *, seconds_after: float = 0.6, max_seconds: float = 8.0
) -> tuple[np.ndarray, float]:
    """Capture ``source`` while paplay plays ``wav`` into the test sink (from the first captured chunk on).

    Returns the captured float32 samples and the source time at which playback was started.
    """
    chunks: list[AudioChunk] = []
    player: subprocess.Popen[bytes] | None = None
    started_at = 0.0
    ended_at: float | None = None

    async def run() -> None:
        nonlocal player, started_at, ended_at
        async for chunk in source.chunks():
            chunks.append(chunk)
            if player is None and wav is not None:
                player, started_at = pulse.play(wav), chunk.end
            done = wav is None or (player is not None and player.poll() is not None)
            if done and ended_at is None:
                ended_at = chunk.end
            if (ended_at is not None and chunk.end >= ended_at + seconds_after) or chunk.end >= max_seconds:
                break

    try:
        await asyncio.wait_for(run(), max_seconds + 30)
    finally:
        await source.close()
        if player is not None:
            if player.poll() is None:
                player.kill()
            _, err = player.communicate(timeout=10)
            assert player.returncode in (0, -9), err
    pcm = b"".join(c.pcm for c in chunks)
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, started_at


def envelope(x: np.ndarray, frame: int = 320) -> np.ndarray:
    n = len(x) // frame
    return np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1))


def best_alignment(reference: np.ndarray, captured: np.ndarray) -> tuple[int, float]:
    """Frame lag of ``reference`` inside ``captured`` and the Pearson correlation of the energy envelopes there."""
    ref, cap = envelope(reference), envelope(captured)
    assert len(cap) >= len(ref), "captured less audio than was played"
    best = (0, -1.0)
    for lag in range(len(cap) - len(ref) + 1):
        r = float(np.corrcoef(ref, cap[lag : lag + len(ref)])[0, 1])
        if r > best[1]:
            best = (lag, r)
    return best


def window_waveform_match(
    ref: np.ndarray, captured: np.ndarray, offset: int, window: int = RATE // 2, search: int = RATE // 4
) -> list[float]:
    """For each speech window of ``ref``, the best normalised waveform correlation found in ``captured``
    within ±``search`` samples of where the envelope alignment puts it."""
    scores = []
    for start in range(0, len(ref) - window, window):
        w = ref[start : start + window]
        if np.sqrt(np.mean(w**2)) < 0.01:  # skip pauses: nothing to compare
            continue
        lo = max(0, offset + start - search)
        hay = captured[lo : offset + start + window + search]
        if len(hay) < window:
            scores.append(0.0)
            continue
        xc = np.correlate(hay, w, mode="valid")
        energy = np.sqrt(np.convolve(hay**2, np.ones(window), mode="valid"))
        scores.append(round(float(np.max(xc / (energy * np.linalg.norm(w) + 1e-9))), 3))
    return scores


def reference_16k(path: Path) -> np.ndarray:
    samples, rate = read_wav(path)
    return soxr.resample(samples, rate, RATE).astype(np.float32)


def clip(path: Path, seconds: float, out: Path) -> Path:
    """The first ``seconds`` of a WAV file, as a new WAV file."""
    with wave.open(str(path), "rb") as src, wave.open(str(out), "wb") as dst:
        dst.setparams(src.getparams())
        dst.writeframes(src.readframes(int(src.getframerate() * seconds)))
    return out


async def test_system_source_captures_the_speech_played_into_the_default_sink(pulse: PulseServer) -> None:
    source = open_system_source(RATE)
    assert isinstance(source, MicrophoneSource)
    # The default *source* of the server is the other (silent) monitor: only PULSE_SOURCE gets us the right one.
    assert source.pulse_source == pulse.monitor
    assert source.device_name == "pulse"
    assert "system audio" in source.description
    captured, started_at = await capture_while_playing(pulse, source, speech_wav("beckett.wav"), max_seconds=15)
    ref = reference_16k(speech_wav("beckett.wav"))

    lag, r = best_alignment(ref, captured)
    assert r > 0.95, f"captured audio does not match the played speech (envelope correlation {r:.3f})"
    delay = lag * 320 / RATE - started_at
    assert -0.05 <= delay < 1.0, f"speech appears {delay:.2f} s after paplay started"
    # Waveform cross-check (PulseAudio and soxr resampling in between), window by window: on a loaded
    # machine paplay may underrun, and the null sink then inserts silence, shifting what follows.
    seg = captured[lag * 320 : lag * 320 + len(ref)]
    scores = window_waveform_match(ref, captured, lag * 320)
    assert len(scores) >= 10
    assert sum(r > 0.9 for r in scores) >= 0.8 * len(scores), f"waveform match per 0.5 s window: {scores}"
    # Level preserved (null sink at 100 %): no silent capture, no clipping.
    gain = float(np.sqrt(np.mean(seg**2)) / np.sqrt(np.mean(ref**2)))
    assert 0.7 < gain < 1.4
    assert source.dropped_blocks == 0


async def test_device_picks_another_monitor(pulse: PulseServer) -> None:
    """``--device`` names a monitor: the other null sink's monitor hears nothing of what the test sink plays."""
    source = open_system_source(RATE, device=f"{pulse.other_sink}.monitor")
    assert source.pulse_source == f"{pulse.other_sink}.monitor"  # type: ignore[attr-defined]
    captured, _ = await capture_while_playing(pulse, source, speech_wav("beckett.wav"), max_seconds=1.5)
    assert len(captured) >= RATE
    assert float(np.max(np.abs(captured))) < 1e-3


async def test_pulse_device_opened_as_a_microphone(
    pulse: PulseServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The ALSA ``pulse`` PortAudio device as a plain microphone, its source chosen by the user's PULSE_SOURCE."""
    monkeypatch.setenv("PULSE_SOURCE", pulse.monitor)
    source = MicrophoneSource(RATE, "pulse")
    assert source.pulse_source is None and source.device_name == "pulse"
    wav = clip(speech_wav("beckett.wav"), 3.0, tmp_path / "beckett3.wav")
    captured, _ = await capture_while_playing(pulse, source, wav, max_seconds=6)
    _, r = best_alignment(reference_16k(wav), captured)
    assert r > 0.95
    assert source.dropped_blocks == 0


async def test_monitor_id_works_as_a_microphone_device(pulse: PulseServer) -> None:
    """Device ids printed by `captioner devices` are accepted by --device for the mic source too."""
    source = MicrophoneSource(RATE, pulse.monitor)
    assert source.pulse_source == pulse.monitor
    assert source.description == f"PulseAudio source {pulse.monitor}"
    await source.close()


def test_unknown_or_ambiguous_monitor_is_a_plain_error(pulse: PulseServer) -> None:
    with pytest.raises(AudioError, match=r"no system-audio \(monitor\) source matches 'nope'"):
        open_system_source(RATE, device="nope")
    with pytest.raises(AudioError, match="matches several sources"):
        open_system_source(RATE, device="captioner_")


def test_list_devices_shows_the_monitors_with_the_default_marked(pulse: PulseServer) -> None:
    devices = list_devices()
    system = {d.id: d for d in devices if d.kind == "system"}
    assert set(system) == {pulse.monitor, f"{pulse.other_sink}.monitor"}
    assert system[pulse.monitor].default and not system[f"{pulse.other_sink}.monitor"].default
    assert system[pulse.monitor].as_dict()["kind"] == "system"
    mics = {d.id for d in devices if d.kind == "mic"}
    assert not mics & {"pulse", "default"}  # the sound server's sources, never ALSA plugin names
    assert not any(d.id.endswith(".monitor") for d in devices if d.kind == "mic")


def test_devices_command_lists_a_system_id_that_device_accepts(pulse: PulseServer) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "captioner", "devices", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=pulse.env(),
    )
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    default_system = [r for r in rows if r["kind"] == "system" and r["default"]]
    assert [r["id"] for r in default_system] == [pulse.monitor]
    text = subprocess.run(
        [sys.executable, "-m", "captioner", "devices"], capture_output=True, text=True, timeout=60, env=pulse.env()
    )
    assert f"{pulse.monitor}" in text.stdout and "[default]" in text.stdout
    # The id goes back in through --device.
    assert open_system_source(RATE, device=default_system[0]["id"]).pulse_source == pulse.monitor  # type: ignore[attr-defined]


def test_no_sound_server_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/no-such-socket")
    with pytest.raises(AudioError, match=r"no PulseAudio/PipeWire sound server is running .*pipewire-pulse"):
        open_system_source(RATE)
    assert [d for d in list_devices() if d.kind == "system"] == []  # listing never fails


def test_missing_pactl_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(AudioError, match=r"`pactl` tool, which is missing \(.*pulseaudio-utils"):
        open_system_source(RATE)


def test_devices_command_without_any_sound_hardware(tmp_path: Path) -> None:
    env = dict(os.environ, PULSE_SERVER=f"unix:{tmp_path}/no-such-socket")
    env.pop("PULSE_SOURCE", None)
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-m", "captioner", "devices"], capture_output=True, text=True, timeout=60, env=env
    )
    assert out.returncode == 0
    assert "Traceback" not in out.stderr
    assert "System audio (what the computer plays):\n  (none)" in out.stdout or "no audio input devices" in out.stdout
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "system"], "captioner: no PulseAudio/PipeWire sound server is running"),
        (["--source", "mic", "--device", "no-such-mic"], "captioner: no input device matches 'no-such-mic'"),
    ],
)
def test_cli_audio_errors_exit_2_with_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    env = dict(os.environ, PULSE_SERVER=f"unix:{tmp_path}/no-such-socket")
    out = subprocess.run(
        [sys.executable, "-m", "captioner", "caption", "--no-autosave", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(message) and out.stderr.count("\n") == 1, out.stderr
