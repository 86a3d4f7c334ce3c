"""A damaged, truncated, undecodable or future-version settings file: Captioner starts with the defaults, keeps the
file aside (never over an earlier backup), says so once in plain words, and never shows a traceback — the loader
itself, the desktop app's start-up (its overlay says it) and the real ``captioner`` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from captioner import settings as S
from tests.support.net import free_port
from tests.support.repo import REPO
from tests.support.speech import speech_wav


def saved_file(tmp_path: Path) -> bytes:
    """A real settings file, with a word that is not ASCII."""
    s = S.Settings(engine="local", word_boost=("café crème", "Zoë"), silence_ms=900)
    return S.save(s, tmp_path / "model.json").read_bytes()


def cases(tmp_path: Path) -> dict[str, bytes]:
    good = saved_file(tmp_path)
    cut = good.index("é".encode()) + 1  # inside the two bytes of "é"
    return {
        "corrupt": b"{not json",
        "truncated": good[: len(good) // 2],
        "truncated mid-character": good[:cut],
        "not UTF-8": b'{"engine": "\xff\xfe"}',
        "not an object": b"[1, 2, 3]",
        "empty": b"",
        "future version": json.dumps({"version": 99, "engine": "hologram", "new_thing": {"x": 1}}).encode(),
    }


@pytest.mark.parametrize(
    "case",
    ["corrupt", "truncated", "truncated mid-character", "not UTF-8", "not an object", "empty", "future version"],
)
def test_a_bad_file_gives_defaults_a_backup_and_one_message(tmp_path: Path, case: str) -> None:
    content = cases(tmp_path)[case]
    p = tmp_path / "settings.json"
    p.write_bytes(content)
    loaded = S.load_checked(p)
    assert loaded.settings == S.Settings()
    assert loaded.backup is not None and loaded.backup.read_bytes() == content
    assert loaded.backup.parent == tmp_path and loaded.backup.name.startswith("settings.json.")
    assert "Captioner started with default settings" in loaded.problem
    assert str(loaded.backup) in loaded.problem
    assert not p.exists()
    assert S.load_checked(p).problem == ""  # told once: the next start finds no file


def test_a_second_bad_file_does_not_overwrite_the_first_backup(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    backups = []
    for content in (b"{first", b"{second"):
        p.write_bytes(content)
        backups.append(S.load_checked(p).backup)
    assert backups[0] != backups[1]
    assert [b.read_bytes() for b in backups if b is not None] == [b"{first", b"{second"]


def test_an_absurd_future_version_still_gives_defaults_and_a_backup(tmp_path: Path) -> None:
    """A version number of hundreds of digits (found by the fuzzer) must not make a backup name too long."""
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"version": 10**400, "engine": "local"}))
    loaded = S.load_checked(p)
    assert loaded.settings == S.Settings() and loaded.backup is not None and loaded.backup.exists()
    assert "newer version" in (loaded.problem or "") and len(loaded.backup.name) < 80


def test_a_good_file_from_this_or_an_older_version_is_used_as_is(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    p.write_bytes(saved_file(tmp_path))
    loaded = S.load_checked(p)
    assert loaded.problem == "" and loaded.backup is None
    assert loaded.settings.word_boost == ("café crème", "Zoë") and loaded.settings.silence_ms == 900


def test_the_real_app_starts_on_a_damaged_file_and_captions(tmp_path: Path) -> None:
    p = S.settings_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(b'{"engine": "local", "appearance": {')
    env = dict(os.environ, PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen")
    beckett = speech_wav("beckett.wav")
    args = ["--minimized", "--engine", "local", "--source", str(beckett), "--no-realtime", "--exit-when-done"]
    proc = subprocess.run(
        [sys.executable, "-m", "captioner.app", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    [backup] = p.parent.glob("settings.json.bad-*")
    assert backup.read_bytes() == b'{"engine": "local", "appearance": {'
    [autosave] = Path(os.environ["CAPTIONER_DATA_DIR"]).glob("transcripts/*.jsonl")
    assert "fail" in autosave.read_text()  # it captioned the recording ("… fail again, fail better")


def test_the_command_says_it_in_one_line_when_it_reads_the_settings(tmp_path: Path) -> None:
    p = S.settings_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(json.dumps({"version": 99}).encode())
    env = dict(os.environ, PYTHONPATH=str(REPO))
    args = ["--engine", "scripted", "--source", str(speech_wav("beckett.wav")), "--no-realtime"]
    proc = subprocess.run(
        [sys.executable, "-m", "tests.support.scripted_cli", "caption", *args, "--serve", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, proc.stderr
    assert warnings[0].startswith(
        "captioner: warning: The settings were saved by a newer version of Captioner; "
        "Captioner started with default settings. (version 99.)"
    )
    assert len(list(p.parent.glob("settings.json.v99-*"))) == 1
