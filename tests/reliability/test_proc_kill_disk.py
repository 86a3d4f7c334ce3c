"""Process faults of ``captioner caption`` as a real process (the scripted engine, :mod:`tests.support.scripted_cli`):
``kill -9`` mid-caption loses no final it had printed (the autosave is compared with stdout), and a full disk or a
read-only data folder (a tiny tmpfs) leaves the captions whole, with one warning and no traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.mounts import tmpfs
from tests.support.repo import REPO
from tests.support.speech import speech_wav

BECKETT = speech_wav("beckett.wav")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.support.scripted_cli", "caption", "--engine", "scripted", *args]


def env_with(data_dir: Path) -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), CAPTIONER_DATA_DIR=str(data_dir))


def autosaved(data_dir: Path) -> list[str]:
    """The texts of the autosave's whole records (a record cut by the kill or the full disk is not one)."""
    texts = []
    for path in sorted((data_dir / "transcripts").glob("*.jsonl")):
        for line in path.read_text(errors="replace").splitlines():
            try:
                texts.append(json.loads(line)["text"])
            except (ValueError, KeyError):
                continue
    return texts


def test_kill_9_loses_no_final_already_printed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        command("--source", str(BECKETT)), env=env_with(data), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    printed: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(printed) < 8 and time.monotonic() < deadline:  # at 1×: a few seconds of captioning
        line = proc.stdout.readline()
        if not line:
            break
        printed.append(line.rstrip("\n"))
    os.kill(proc.pid, signal.SIGKILL)
    rest, _ = proc.communicate(timeout=10)
    printed += [line for line in rest.splitlines() if line]  # reached the pipe before the kill: printed too
    assert proc.returncode == -signal.SIGKILL
    assert len(printed) >= 8, "the command printed too little before the kill"
    saved = autosaved(data)
    lost = [text for text in printed if text not in saved]
    print(f"\nkill -9 after {len(printed)} printed finals: {len(saved)} autosaved, {len(lost)} lost")
    assert lost == []


def clean_run(tmp_path: Path) -> list[str]:
    proc = subprocess.run(
        command("--source", str(BECKETT), "--no-realtime"),
        env=env_with(tmp_path / "clean"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.parametrize("fault", ["full disk", "read-only"])
def test_autosave_faults_keep_the_captions_whole_with_one_warning(tmp_path: Path, fault: str) -> None:
    expected = clean_run(tmp_path)
    mount = tmp_path / "mnt"
    with tmpfs(mount, read_only=fault == "read-only", leave_free=4096 if fault == "full disk" else None):
        proc = subprocess.run(
            command("--source", str(BECKETT), "--no-realtime"),
            env=env_with(mount),
            capture_output=True,
            text=True,
            timeout=60,
        )
        saved = autosaved(mount) if fault == "full disk" else []
    warnings = proc.stderr.splitlines()
    print(
        f"\n{fault}: exit {proc.returncode}, {len(proc.stdout.splitlines())}/{len(expected)} finals printed, "
        f"{len(saved)} autosaved; stderr: {warnings}"
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert proc.stdout.splitlines() == expected  # the captions do not suffer
    assert len(warnings) == 1 and warnings[0].startswith("captioner: warning: the transcript cannot be saved (")
    assert "; captions go on. It was to be kept in " in warnings[0] and str(mount) in warnings[0]
    if fault == "full disk":
        assert 0 < len(saved) < len(expected) and saved == expected[: len(saved)]  # what fitted, in order
