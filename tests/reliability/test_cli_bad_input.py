"""Bad input at the command line, exhaustively: every option of every subcommand with a bad value, odd WAV files,
``--output`` into a missing directory, and stdout closed early.

The list of options comes from the parser itself (:func:`captioner.cli_args.build_parser`): every option taking
no value is tried with one (``--json=x``), every typed option with a value of the wrong type, and every other
option with the bad values of :data:`BAD_VALUES` — which must name each of them, so that an option added later
cannot be forgotten here. Each run must exit 2 with one line on stderr that says what is wrong, and no traceback.
The runs are in-process (fast), a few through a real ``captioner`` process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import struct
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from captioner import cli
from captioner.cli_args import build_parser
from captioner.engines import registry
from tests.support.repo import REPO
from tests.support.scripted_engine import Script, ScriptedEngine

WAV = "{wav}"
KEY = "{key}"
EMPTY, TWO_LINES, BINARY = "{empty}", "{two lines}", "{binary}"
"""Placeholders: a short WAV file, a file holding a key, and key files that hold none, made for each test."""
BASE = ["caption", "--engine", "scripted", "--source", WAV, "--no-autosave", "--no-realtime"]

# option -> [(the arguments to run, words the error line must hold)]; the bad value follows the option.
BAD_VALUES: dict[str, list[tuple[list[str], str]]] = {
    "--engine": [(["caption", "--source", WAV, "--engine", "nope"], "unknown engine 'nope'")],
    "--source": [
        (["caption", "--engine", "scripted", "--source", "bogus"], "unknown source 'bogus'"),
        (["caption", "--engine", "scripted", "--source", "/no/such.wav"], "no such file"),
        (["caption", "--engine", "scripted", "--source", ""], "--source"),
    ],
    "--device": [
        (["caption", "--engine", "scripted", "--source", "mic", "--device", "no-such-device-xyz"], "no-such-device"),
        ([*BASE, "--device", "default"], "--device"),
    ],
    "--word-boost": [([*BASE, "--word-boost", " "], "--word-boost")],
    "--language": [
        (["caption", "--engine", "moonshine", "--source", WAV, "--language", "xx"], "'xx'"),
        ([*BASE, "--language", ""], "--language"),
    ],
    "--endpoint": [
        (
            ["caption", "--engine", "assemblyai", "--api-key-file", KEY, "--source", WAV, "--endpoint", "a b"],
            "endpoint",
        ),
        (
            ["caption", "--engine", "uhlive-h2b", "--api-key-file", KEY, "--source", WAV, "--endpoint", "https://x"],
            "ws",
        ),
    ],
    "--auth-endpoint": [
        (
            ["caption", "--engine", "uhlive", "--api-key-file", KEY, "--source", WAV, "--auth-endpoint", "ftp://x"],
            "auth",
        ),
    ],
    "--api-key": [(["caption", "--engine", "assemblyai", "--source", WAV, "--api-key", ""], "no AssemblyAI API key")],
    "--api-key-file": [
        ([*BASE, "--api-key-file", "/no/such/key"], "no such file"),
        ([*BASE, "--api-key-file", "/"], "is a directory"),
        ([*BASE, "--api-key-file", EMPTY], "empty"),
        ([*BASE, "--api-key-file", TWO_LINES], "2 lines"),
        ([*BASE, "--api-key-file", BINARY], "not a text file"),
        ([*BASE, "--api-key", "k", "--api-key-file", KEY], "not both"),
    ],
    "--option": [
        ([*BASE, "--option", "novalue"], "KEY=VALUE"),
        (
            ["caption", "--engine", "assemblyai", "--api-key-file", KEY, "--source", WAV, "--option", "chunk_ms=1"],
            "chunk_ms",
        ),
    ],
    "--output": [([*BASE, "--output", "/no/such/directory/out.txt"], "cannot write /no/such/directory/out.txt")],
    "--serve": [([*BASE, "--serve", "nonsense"], "--serve"), ([*BASE, "--serve", "99999"], "--serve")],
}
# typed options: a value of the right type but out of range
OUT_OF_RANGE: dict[str, list[str]] = {
    "--silence-ms": ["-1", "60001"],
    "--cue-chars": ["9", "201"],
    "--cue-lines": ["0", "6"],
    "--cue-seconds": ["0.5", "nan", "inf"],
    "--max-retries": ["-1"],
}
WRONG_TYPE = ["abc", "1.5x", ""]


def _options() -> Iterator[tuple[str, argparse.Action]]:
    """``(subcommand, action)`` of every option of the parser, the top level's under ``""``."""
    parser = build_parser()
    commands = {"": parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands.update(action.choices)
    for command, sub in commands.items():
        for action in sub._actions:
            if action.option_strings and not isinstance(action, argparse._HelpAction):
                yield command, action


def _cases() -> Iterator[tuple[str, list[str], str]]:
    """``(id, arguments, words the error must hold)`` for every option."""
    for command, action in _options():
        option = max(action.option_strings, key=len)
        prefix = [command] if command else []
        if action.nargs == 0:
            for flag in action.option_strings:
                yield f"{command} {flag}=x", [*prefix, f"{flag}=x"], "ignored explicit argument"
        elif action.choices is not None:
            yield f"{option} bogus", [*prefix, option, "bogus"], "invalid choice"
        elif action.type in (int, float):
            for value in WRONG_TYPE:
                yield f"{option} {value!r}", [*BASE, option, value], "invalid"
            for value in OUT_OF_RANGE[option]:
                yield f"{option} {value}", [*BASE, option, value], ""
        else:
            for n, (args, words) in enumerate(BAD_VALUES[option]):
                yield f"{option} #{n}", args, words


def test_every_option_has_bad_values() -> None:
    valued = {
        max(a.option_strings, key=len)
        for _, a in _options()
        if a.nargs != 0 and a.choices is None and a.type not in (int, float)
    }
    typed = {max(a.option_strings, key=len) for _, a in _options() if a.type in (int, float)}
    assert set(BAD_VALUES) == valued, "give every option that takes text its bad values in BAD_VALUES"
    assert set(OUT_OF_RANGE) == typed, "give every number option its out-of-range values in OUT_OF_RANGE"
    assert len(list(_cases())) >= 50


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    key = tmp_path / "key.txt"
    key.write_text("test-key-123\n")
    (tmp_path / "empty").write_text(" \n\n")
    (tmp_path / "two").write_text("secret-one\nsecret-two\n")
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00secret")
    named = {EMPTY: "empty", TWO_LINES: "two", BINARY: "binary"}
    return {WAV: str(_wav(tmp_path / "a.wav", 0.3)), KEY: str(key)} | {k: str(tmp_path / v) for k, v in named.items()}


@pytest.fixture(autouse=True)
def scripted_engine() -> Iterator[None]:
    ScriptedEngine.script = Script()
    registry.register(
        registry.EngineInfo("scripted", "Scripted", "tests.support.scripted_engine", "ScriptedEngine", "t")
    )
    yield
    registry.ENGINES.pop("scripted", None)


def _wav(path: Path, seconds: float, *, rate: int = 16000, channels: int = 1, width: int = 2) -> Path:
    n = int(seconds * rate) * channels
    tone = np.sin(np.arange(n) * 2 * np.pi * 300 / rate / channels)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 1:
            w.writeframes((tone * 100 + 128).astype(np.uint8).tobytes())
        else:
            w.writeframes((tone * 8000).astype("<i2").tobytes())
    return path


def _float_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    """A WAV of 32-bit float samples (format 3, which the wave module cannot write)."""
    data = (np.sin(np.arange(int(seconds * rate)) / 10) * 0.5).astype("<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    riff = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)
    return path


def run(args: list[str]) -> tuple[int, str, str]:
    """``captioner ARGS`` in this process: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(args)
        except SystemExit as exc:  # argparse's own exits
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def _one_clear_line(err: str, words: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {lines}"
    assert lines[0].startswith("captioner") and words in lines[0], lines[0]
    return lines[0]


def test_the_files_of_the_bad_values_are_good(files: dict[str, str]) -> None:
    """The runs below fail for their bad value only: with good values the same set-up captions the file."""
    code, out, err = run([files.get(a, a) for a in [*BASE, "--api-key-file", KEY]])
    assert (code, err) == (0, "") and out.strip()


@pytest.mark.parametrize(("args", "words"), [pytest.param(a, w, id=i) for i, a, w in _cases()])
def test_a_bad_value_exits_2_with_one_clear_line(files: dict[str, str], args: list[str], words: str) -> None:
    code, out, err = run([files.get(a, a) for a in args])
    _one_clear_line(err, words)
    assert "secret" not in err, "a key file's content is never quoted"
    assert code == 2 and out == ""


def test_bad_values_through_a_real_process(tmp_path: Path) -> None:
    """As a user runs it: the real ``captioner`` command, its exit status and its one line on stderr."""
    wav = str(_wav(tmp_path / "a.wav", 0.2))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for args, words in (
        (["caption", "--format", "docx"], "invalid choice"),
        (["caption", "--engine", "local", "--source", wav, "--output", str(tmp_path / "no" / "x.srt")], "cannot write"),
        (["caption", "--source", wav, "--cue-seconds", "nan"], "seconds per cue"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "captioner", *args], env=env, capture_output=True, text=True, timeout=60
        )
        _one_clear_line(proc.stderr, words)
        assert proc.returncode == 2


def test_odd_wav_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """8-bit, 6 channels and a 20-minute file caption; no samples, float samples and 1 Hz say why they cannot."""
    captions = {
        "8-bit": _wav(tmp_path / "8bit.wav", 1.0, width=1),
        "6 channels": _wav(tmp_path / "6ch.wav", 1.0, channels=6),
        "20 minutes": _wav(tmp_path / "20min.wav", 20 * 60, rate=8000, width=1),
    }
    refused = {
        "no samples": (_wav(tmp_path / "empty.wav", 0.0), "no audio (0 samples)"),
        "32-bit float": (_float_wav(tmp_path / "float.wav", 1.0), "floating-point WAV files are not supported"),
        "1 Hz": (_wav(tmp_path / "1hz.wav", 10.0, rate=1), "1 Hz"),
    }
    for name, path in captions.items():
        t0 = time.perf_counter()
        code, out, err = run([a.replace(WAV, str(path)) for a in BASE])
        took = time.perf_counter() - t0
        print(f"\n{name}: exit {code}, {len(out.splitlines())} caption lines in {took:.1f} s")
        assert code == 0 and err == "" and out.strip(), (name, err)
    for name, (path, words) in refused.items():
        code, out, err = run([a.replace(WAV, str(path)) for a in BASE])
        assert code == 2 and out == "", name
        assert str(path) in _one_clear_line(err, words)


def test_stdout_closed_early_exits_quietly(tmp_path: Path) -> None:
    """``captioner caption … | head -1``: the reader goes away after one line; no BrokenPipe traceback."""
    wav = str(_wav(tmp_path / "a.wav", 3.0))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = f"{sys.executable} -m captioner caption --engine local --source {wav} --no-realtime --format jsonl | head -1"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], env=env, capture_output=True, text=True, timeout=120)
    assert proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
