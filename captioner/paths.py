"""Where Captioner keeps its files (platformdirs; overridable for tests and portable installs)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import platformdirs

APP = "captioner"


def data_dir() -> Path:
    """User data: autosaved transcripts. ``CAPTIONER_DATA_DIR`` overrides."""
    override = os.environ.get("CAPTIONER_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP, appauthor=False))


def config_dir() -> Path:
    """User settings. ``CAPTIONER_CONFIG_DIR`` overrides."""
    override = os.environ.get("CAPTIONER_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP, appauthor=False))


def log_dir() -> Path:
    """Logs (tracebacks of unexpected errors go here, never to the user's terminal)."""
    override = os.environ.get("CAPTIONER_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP, appauthor=False))


def transcripts_dir() -> Path:
    return data_dir() / "transcripts"


def new_autosave_path() -> Path:
    """A fresh autosave file for a session starting now."""
    stamp = time.strftime("%Y-%m-%d_%H%M%S")
    path = transcripts_dir() / f"{stamp}.jsonl"
    n = 1
    while path.exists():
        n += 1
        path = transcripts_dir() / f"{stamp}_{n}.jsonl"
    return path


def latest_autosave() -> Path | None:
    """The newest autosave file, if any."""
    d = transcripts_dir()
    if not d.is_dir():
        return None
    files = sorted(d.glob("*.jsonl"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None
