"""End to end: `captioner caption --source system` (the default engine, Moonshine) captions real speech played
into PulseAudio.

This test is mandatory on CI: there it is never skipped (without a PulseAudio daemon the
fixture fails instead, see ``tests/audio/pulse.py``). It uses a real PulseAudio daemon, a
null sink as the default output, a reader's voice played into it with paplay,
and the CLI as a user runs it, stopped with Ctrl-C (SIGINT) after playback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import pytest

from captioner.engines import registry
from tests.audio.pulse import PulseServer
from tests.support.speech import TRANSCRIPTS, speech_wav, wer, words

pytestmark = [pytest.mark.pulse, pytest.mark.slow]


def _default_engine_ready() -> None:
    ok, why = registry.get(registry.DEFAULT_ENGINE).availability()
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"the default engine is unavailable on CI: {why}")
        pytest.skip(f"the default engine is unavailable: {why}")


class LineReader:
    """Collects a subprocess's stdout lines on a thread; lets the test wait for a condition on them."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, args=(proc,), daemon=True)
        self._thread.start()

    def _run(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def records(self) -> list[dict[str, Any]]:
        with self._cond:
            return [json.loads(line) for line in self.lines if line.strip()]

    def wait_for(self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.records_unlocked()), timeout)

    def records_unlocked(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines if line.strip()]

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def open_lines(records: list[dict[str, Any]]) -> set[str]:
    """Caption lines with an interim but no final yet."""
    interim = {r["id"] for r in records if r["type"] == "interim"}
    return interim - {r["id"] for r in records if r["type"] == "final"}


def test_cli_captions_what_the_computer_plays(pulse: PulseServer) -> None:
    _default_engine_ready()
    env = pulse.env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "captioner", "caption", "--source", "system", "--format", "jsonl"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = LineReader(proc)
    try:
        pulse.wait_for_recording(timeout=30)  # the CLI's capture stream is connected to the server
        player = pulse.play(speech_wav("two_cities.wav"))
        assert player.wait(timeout=120) == 0
        # Stop with Ctrl-C once no caption line is open (SIGINT also makes the CLI flush the last one).
        reader.wait_for(lambda recs: not open_lines(recs) or proc.poll() is not None, 20)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    reader.join(10)
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in stderr, stderr
    records = reader.records()
    finals: dict[str, str] = {}
    for r in records:
        if r["type"] == "final":
            finals[r["id"]] = r["text"]  # a later final for the same id replaces the text
    text = " ".join(finals.values())
    assert finals, f"no final captions; stderr: {stderr[-500:]}"
    error_rate = wer(TRANSCRIPTS["two_cities.wav"], text)
    print(f"system audio -> default engine: WER {error_rate:.3f}; {text}")
    # The neural engine reads this recording almost perfectly from the file (WER ~0.02); the bound leaves room
    # for the capture path, and a capture that loses, truncates or garbles the audio still fails it.
    assert error_rate <= 0.15, f"WER {error_rate:.2f}: {text}"
    assert all(r["engine"] == registry.DEFAULT_ENGINE for r in records if r["type"] == "final")
    heard = set(words(text))
    assert {"best", "times", "worst"} <= heard, text
    assert not any(r["type"] == "error" and not r.get("retryable") for r in records)
    assert "audio block(s) dropped" not in stderr
