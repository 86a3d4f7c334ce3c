"""``captioner caption`` on a pseudo-terminal narrower than its long lines: what the screen shows at the end.

The local engine captions real speech whose lines are up to ~200 characters, on a terminal 100 columns wide
(read back through the ``pyte`` terminal emulator). Every row left on the screen must belong to a committed
caption, in order: no copy of any interim line survives.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.repo import REPO
from tests.support.terminal import PtyScreen, wrapped


def test_captions_on_a_narrow_terminal_leave_only_the_final_lines(speech_wav: Path, tmp_path: Path) -> None:
    term = PtyScreen(100, 60)
    out_file = tmp_path / "captions.txt"
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm"}
    cmd = [sys.executable, "-m", "captioner", "caption", "--source", str(speech_wav), "--no-realtime"]
    proc = subprocess.Popen(
        [*cmd, "--no-autosave", "--output", str(out_file)],
        stdin=subprocess.DEVNULL,
        stdout=term.slave_fd,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        term.pump(0.05)
    assert proc.wait(timeout=10) == 0, proc.stderr.read().decode() if proc.stderr else ""
    term.pump()
    finals = out_file.read_text(encoding="utf-8").splitlines()
    assert len(finals) >= 3 and max(len(f) for f in finals) > 100  # the case that flooded: wider than the terminal
    expected = [row for f in finals for row in wrapped(f, 100)]
    assert term.text_rows() == expected
    term.close()
