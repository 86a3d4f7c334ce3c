"""First use of the default engine from the command line: the model is prepared once, with progress shown.

Runs the real CLI in a child process with an empty model cache, so the shipped model is converted for real
(a few seconds) and then found again without any work on the next run.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from captioner.captions.progress import ProgressLine
from captioner.engines.moonshine import model
from tests.support.repo import REPO
from tests.support.speech import speech_wav


def _caption(cache: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, CAPTIONER_CACHE_DIR=str(cache))
    wav = speech_wav("beckett.wav")
    cmd = [sys.executable, "-m", "captioner", "caption", "--source", str(wav), "--no-realtime", "--no-autosave"]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=240, check=False)


@pytest.mark.skipif(model.wheel_model_dir() is None, reason="needs the moonshine-cpp wheel's model files")
def test_first_use_prepares_the_model_once_with_progress(tmp_path: Path) -> None:
    first = _caption(tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    assert "preparing the speech model" in first.stderr
    assert "Try again" in first.stdout or "try again" in first.stdout  # captions, from the converted model
    assert first.stdout[0].isupper()  # capitalised: the neural engine ran, not the fallback
    second = _caption(tmp_path / "cache")
    assert second.returncode == 0, second.stderr
    assert "preparing the speech model" not in second.stderr  # found, never redone
    assert second.stdout == first.stdout


def test_progress_on_a_terminal_redraws_one_line_and_ends_it() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    p = ProgressLine(out)
    p.show("preparing the speech model: converting (10%)", 0.1)
    p.show("preparing the speech model: converting (60%)", 0.6)
    p.show("preparing the speech model: ready (100%)", 1.0)
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")  # one line, redrawn in place
    assert text.count("\r\x1b[2K") == 3 and "60%" in text


def test_progress_into_a_file_writes_whole_steps_only() -> None:
    out = io.StringIO()
    p = ProgressLine(out)
    for f in (0.1, 0.2, 0.3):
        p.show(f"preparing the speech model: downloading ({f:.0%})", f)
    p.show("preparing the speech model: converting (90%)", 0.9)
    p.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "downloading" in lines[0] and "converting" in lines[1]
