"""The echo canceller (WebRTC AEC3 through livekit) on real speech: the echo of the system audio leaves the
microphone, aligned on capture time even when the two sources' timelines start at different moments; your own
voice passes; a microphone chunk waits for its reference only while the system audio plays, and never for long."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from captioner.audio.base import AudioChunk, to_pcm16
from captioner.audio.echo import EchoCanceller, EchoUnavailable
from tests.moonshine.helpers import samples

RATE = 16000
CHUNK = 800  # 50 ms


def room(x: np.ndarray, delay: float, gain_db: float = -10.0) -> np.ndarray:
    """``x`` as a microphone hears it from a speaker: later, quieter, with a few reflections."""
    taps = np.zeros(int(0.12 * RATE))
    taps[0], taps[int(0.011 * RATE)], taps[int(0.037 * RATE)], taps[int(0.09 * RATE)] = 1.0, 0.45, -0.3, 0.15
    wet = np.convolve(x, taps)[: len(x)] * 10 ** (gain_db / 20)
    out = np.zeros_like(x)
    k = int(delay * RATE)
    out[k:] = wet[: len(x) - k]
    return out.astype(np.float32)


def chunks(x: np.ndarray, timeline_start: float, wall_start: float, lateness: float) -> list[AudioChunk]:
    """``x`` as 50 ms chunks on a timeline starting at ``timeline_start``, captured from ``wall_start`` on
    (delivered ``lateness`` seconds plus a little jitter after the audio ends)."""
    rng = np.random.default_rng(7)
    out = []
    for i in range(0, len(x) - CHUNK + 1, CHUNK):
        end = (i + CHUNK) / RATE
        captured = wall_start + end + lateness + float(rng.uniform(0, 0.02))
        out.append(AudioChunk(to_pcm16(x[i : i + CHUNK]), RATE, timeline_start + i / RATE, captured))
    return out


def energy_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-12))


def run(canceller: EchoCanceller, mic: list[AudioChunk], ref: list[AudioChunk], wait: float = 0.06) -> np.ndarray:
    """Feed both in the order they are delivered, a microphone chunk ``wait`` s after it was (as
    :meth:`EchoCanceller.wait_for_reference` holds it until its reference is in); the cancelled mic."""
    events = sorted(
        [(c.captured_at, 0, c) for c in ref] + [(c.captured_at + wait, 1, c) for c in mic], key=lambda e: e[:2]
    )
    out = []
    for _, kind, c in events:
        if kind == 0:
            canceller.reference(c)
        else:
            out.append(np.frombuffer(canceller.process(c).pcm, dtype="<i2"))
    return np.concatenate(out).astype(np.float32) / 32768.0


@pytest.fixture(scope="module")
def voices() -> tuple[np.ndarray, np.ndarray]:
    others = samples("two_cities.wav", 0.0, 24.0)
    you = np.zeros_like(others)
    mine = samples("beckett.wav")
    you[12 * RATE : 12 * RATE + len(mine)] = mine[: len(you) - 12 * RATE]
    return others, you


def test_the_echo_of_real_speech_is_removed_aligned_on_capture_time(voices: tuple[np.ndarray, np.ndarray]) -> None:
    others, _ = voices
    mic = room(others, delay=0.08)
    # The microphone's timeline starts at 0; the system audio's at 3.0 s (its monitor started delivering
    # later, say): only capture times say which samples go together.
    wall = 1000.0
    ref_chunks = chunks(others, timeline_start=3.0, wall_start=wall, lateness=0.03)
    mic_chunks = chunks(mic, timeline_start=0.0, wall_start=wall, lateness=0.01)
    canceller = EchoCanceller(RATE)
    out = run(canceller, mic_chunks, ref_chunks)
    assert canceller.late_chunks == 0
    after = slice(5 * RATE, 12 * RATE)  # converged, echo only
    erle = energy_db(mic[after]) - energy_db(out[after])
    print(f"ERLE {erle:.1f} dB")
    assert erle >= 20.0


def test_your_voice_passes_and_the_echo_under_it_is_reduced(voices: tuple[np.ndarray, np.ndarray]) -> None:
    others, you = voices
    echo = room(others, delay=0.08)
    wall = 50.0
    out = run(
        EchoCanceller(RATE),
        chunks(echo + you, 0.0, wall, 0.01),
        chunks(others, 0.0, wall, 0.02),
    )
    talk = slice(12 * RATE, 20 * RATE)
    kept = energy_db(out[talk]) - energy_db(you[talk])
    print(f"double talk: your level {kept:+.1f} dB")
    assert kept >= -4.0  # your words are still there


def test_nothing_playing_leaves_the_microphone_as_it_is(voices: tuple[np.ndarray, np.ndarray]) -> None:
    _, you = voices
    silence = np.zeros_like(you)
    out = run(EchoCanceller(RATE), chunks(you, 0.0, 0.0, 0.01), chunks(silence, 0.0, 0.0, 0.02))
    talk = slice(12 * RATE, 20 * RATE)
    assert abs(energy_db(out[talk]) - energy_db(you[talk])) < 1.5


def test_unsupported_rate_says_so() -> None:
    with pytest.raises(EchoUnavailable, match="8, 16, 32 or 48 kHz"):
        EchoCanceller(22050)


def live_chunk(start: float, amplitude: float, captured_at: float) -> AudioChunk:
    t = np.arange(CHUNK) / RATE
    return AudioChunk(to_pcm16(np.sin(2 * np.pi * 300 * t) * amplitude), RATE, start, captured_at)


async def test_a_chunk_waits_for_its_reference_only_while_the_system_audio_plays() -> None:
    canceller = EchoCanceller(RATE, max_wait=0.15)
    now = time.monotonic()
    canceller.reference(live_chunk(0.0, 0.3, now))  # the system audio plays
    first = live_chunk(0.0, 0.1, now)
    await canceller.wait_for_reference(first)  # its reference is in: no wait
    canceller.process(first)
    # The next reference chunk comes 40 ms after the microphone's chunk of the same moment: the chunk waits.
    second = live_chunk(0.05, 0.1, now + 0.05)
    asyncio.get_running_loop().call_later(0.04, canceller.reference, live_chunk(0.05, 0.3, now + 0.05))
    began = time.monotonic()
    await canceller.wait_for_reference(second)
    waited = time.monotonic() - began
    canceller.process(second)
    assert 0.03 <= waited < 0.14
    assert canceller.late_chunks == 0
    # The reference stalls: the microphone waits max_wait, no longer, and counts the chunk as late.
    third = live_chunk(0.1, 0.1, now + 0.1)
    began = time.monotonic()
    await canceller.wait_for_reference(third)
    assert 0.14 <= time.monotonic() - began < 0.5
    canceller.process(third)
    assert canceller.late_chunks == 1


async def test_no_wait_while_nothing_plays_or_after_the_system_audio_ended() -> None:
    canceller = EchoCanceller(RATE, max_wait=0.5)
    now = time.monotonic()
    canceller.reference(AudioChunk(bytes(2 * CHUNK), RATE, 0.0, now))  # digital silence
    began = time.monotonic()
    await canceller.wait_for_reference(live_chunk(0.5, 0.1, now + 0.5))
    assert time.monotonic() - began < 0.05
    playing = EchoCanceller(RATE, max_wait=0.5)
    playing.reference(live_chunk(0.0, 0.3, now))
    playing.end_reference()
    began = time.monotonic()
    await playing.wait_for_reference(live_chunk(0.5, 0.1, now + 0.5))
    assert time.monotonic() - began < 0.05
