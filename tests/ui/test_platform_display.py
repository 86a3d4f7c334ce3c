"""No display: the app says so in one line and exits 2, instead of Qt aborting the process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from captioner.ui.platform import missing_display


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({}, "linux", "no graphical display"),
        ({"DISPLAY": ":0"}, "linux", None),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", None),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", None),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux", "DISPLAY is not set"),
        ({"QT_QPA_PLATFORM": "wayland"}, "linux", "WAYLAND_DISPLAY is not set"),
        ({}, "win32", None),
        ({}, "darwin", None),
    ],
)
def test_missing_display(env: dict[str, str], platform: str, expected: str | None) -> None:
    why = missing_display(env, platform)
    if expected is None:
        assert why is None
    else:
        assert why is not None and expected in why


def test_app_without_display_exits_2_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = subprocess.run([sys.executable, "-m", "captioner"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1
    assert "cannot open the caption overlay: no graphical display" in out.stderr
    assert "captioner caption" in out.stderr
