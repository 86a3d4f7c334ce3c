"""The desktop app as a real process on a test X display, with its own settings, for window-manager tests.

:class:`AppProcess` writes the settings the test wants, starts ``python -m captioner.app`` on an
:class:`~tests.support.xdisplay.XDisplay` (xcb), waits for the caption overlay to be mapped, and stops the
app with SIGTERM (a normal quit: settings are saved). Tests then look at it only from outside, as the
window manager and other applications do: ``xdotool``, ``xwininfo``, the settings file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from captioner import settings as settings_store
from captioner.settings import OverlaySettings, Settings
from tests.support.xdisplay import XDisplay

REPO = Path(__file__).resolve().parents[2]
OVERLAY_TITLE = "Captioner captions"


def app_settings(**overlay: object) -> Settings:
    """Settings for an app under test: captions not started, no last transcript offered, ``overlay`` set."""
    return Settings(
        autostart_captions=False,
        offer_last_transcript=False,
        overlay=OverlaySettings(**overlay),  # type: ignore[arg-type]
    )


class AppProcess:
    """``captioner`` (the desktop app) running on ``display`` with ``settings``."""

    def __init__(self, display: XDisplay, settings: Settings) -> None:
        self.display = display
        self.stderr = ""
        settings_store.save(settings)  # the config dir is the test's own (tests/conftest.py)
        env = dict(display.env, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "captioner.app"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            self.overlay = display.find_window(OVERLAY_TITLE, timeout=30)
        except AssertionError:
            self.stop()
            raise AssertionError(f"the app did not show its overlay: {self.stderr}") from None
        self.frame = display.frame_of(self.overlay)

    def settings(self) -> Settings:
        return settings_store.load()

    def stop(self) -> int:
        """Quit as the desktop does (SIGTERM); the exit status."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=5)
        self.stderr = err.decode(errors="replace")
        return self.proc.returncode

    def __enter__(self) -> AppProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
