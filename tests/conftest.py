"""Shared test set-up: every test runs with its own data/config/log directories and an in-memory keyring.

Area-specific fixtures live in the conftest.py of each sub-directory.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.memory_keyring.MemoryKeyring"


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("captioner-home")
    for var, sub in (("CAPTIONER_DATA_DIR", "data"), ("CAPTIONER_CONFIG_DIR", "config"), ("CAPTIONER_LOG_DIR", "log")):
        monkeypatch.setenv(var, str(base / sub))
    # The prepared Moonshine model is shared by every test (converted once per machine, never in the user's cache);
    # the model tests that need an empty cache point CAPTIONER_CACHE_DIR elsewhere themselves.
    from tests.support.speech import cache_dir

    monkeypatch.setenv("CAPTIONER_CACHE_DIR", str(cache_dir() / "moonshine-model"))
    for var in ("ASSEMBLYAI_API_KEY", "UHLIVE_CLIENT_ID", "UHLIVE_CLIENT_SECRET", "UHLIVE_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    from captioner import secrets
    from tests.support.memory_keyring import MemoryKeyring

    MemoryKeyring.store.clear()
    secrets.forget_session()
    yield base


@pytest.fixture
def speech_wav() -> Path:
    """The main real-speech fixture (A Tale of Two Cities, 44 s)."""
    from tests.support.speech import speech_wav as get

    return get("two_cities.wav")


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """``captioner.cli.main`` run in-process points the root logger at the stderr of that moment (a capture that
    pytest closes after the test): put the root logger back, so a later test's log records do not hit a closed
    stream ("--- Logging error ---")."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
