"""Helpers of the meeting-mode tests: the recordings (and their echo mix, made with sox) and the CLI run.

"The others" read *A Tale of Two Cities* (44 s); "you" read Beckett (10 s), twice, from 12 s and from 30 s,
so that you talk while the others talk (double talk). The echo mix is what a microphone in the room hears: the
others' recording 10 dB down, ``delay`` later, with a little reverb, plus your own recording at 0 dB.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.audio.pulse import PulseServer
from tests.audio.test_system_e2e import LineReader, open_lines
from tests.support.speech import TRANSCRIPTS, speech_wav, words

OTHERS_WAV = "two_cities.wav"
YOU_WAV = "beckett.wav"
YOU_AT = (12.0, 30.0)
"""Where your recording starts in the microphone's audio (seconds), both times while the others talk."""


def others_text() -> str:
    return TRANSCRIPTS[OTHERS_WAV]


def you_text() -> str:
    return " ".join([TRANSCRIPTS[YOU_WAV]] * len(YOU_AT))


def others_only_words() -> set[str]:
    """Words the others say that you never say: heard as "You", they are echo."""
    return set(words(others_text())) - set(words(TRANSCRIPTS[YOU_WAV]))


def sox(*args: str | Path) -> None:
    subprocess.run(["sox", *map(str, args)], check=True, capture_output=True, timeout=60)


def your_voice(out: Path) -> Path:
    """Your recording at 0 dB, at 16 kHz, placed at :data:`YOU_AT`."""
    parts = []
    for i, at in enumerate(YOU_AT):
        part = out.with_name(f"you-{i}.wav")
        sox(speech_wav(YOU_WAV), "-r", "16000", "-b", "16", part, "pad", f"{at}", "0")
        parts.append(part)
    sox("-m", *parts, out)
    return out


def echo_mix(out: Path, *, delay: float = 0.1) -> Path:
    """What the microphone hears with the others on the speakers: their echo (−10 dB, ``delay`` s, reverb) + you."""
    echo = out.with_name("echo.wav")
    sox(
        speech_wav(OTHERS_WAV),
        "-r",
        "16000",
        "-b",
        "16",
        echo,
        "gain",
        "-10",
        "reverb",
        "20",
        "50",
        "30",
        "pad",
        f"{delay}",
        "0",
    )
    you = your_voice(out.with_name("you.wav"))
    sox("-m", echo, you, out)
    return out


@dataclass
class MeetingRun:
    records: list[dict[str, Any]]
    stderr: str
    code: int

    def finals(self, speaker: str | None = None) -> list[dict[str, Any]]:
        """The last final of each line (of ``speaker``), empty ones (dropped) left out."""
        last: dict[str, dict[str, Any]] = {}
        for r in self.records:
            if r["type"] == "final":
                last[r["id"]] = r
        return [r for r in last.values() if r["text"] and (speaker is None or r.get("speaker") == speaker)]

    def text(self, speaker: str) -> str:
        return " ".join(r["text"] for r in sorted(self.finals(speaker), key=lambda r: r["start"] or 0.0))


def run_meeting(pulse: PulseServer, others: Path, mic: Path, *extra: str, timeout: float = 150.0) -> MeetingRun:
    """``captioner caption --source both --format jsonl`` while ``others`` plays as the system audio and ``mic``
    into the microphone; stopped with Ctrl-C once playback ended and no line is open."""
    cmd = [sys.executable, "-m", "captioner", "-v", "-v", "caption", "--source", "both", "--format", "jsonl", *extra]
    with subprocess.Popen(cmd, env=pulse.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        reader = LineReader(proc)
        try:
            code = _play_and_stop(pulse, proc, reader, others, mic, timeout)
        except BaseException:
            proc.kill()
            raise
        reader.join(10)
        return MeetingRun(reader.records(), proc.stderr.read() if proc.stderr else "", code)


def _play_and_stop(
    pulse: PulseServer, proc: subprocess.Popen[str], reader: LineReader, others: Path, mic: Path, timeout: float
) -> int:
    def listening(recs: list[dict[str, Any]]) -> bool:
        return {r.get("speaker") for r in recs if r.get("state") == "listening"} >= {"You", "Others"}

    assert reader.wait_for(lambda recs: listening(recs) or proc.poll() is not None, 120), "engines never listened"
    native = [s for s in pulse.recording_streams() if "protocol-native" in s]  # not the remap module's own
    assert len(native) == 2, pulse.recording_streams()
    system = pulse.play(others)
    microphone = pulse.play(mic, sink=pulse.other_sink)
    assert system.wait(timeout=timeout) == 0
    assert microphone.wait(timeout=timeout) == 0
    reader.wait_for(lambda recs: not open_lines(recs) or proc.poll() is not None, 30)
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=60)
