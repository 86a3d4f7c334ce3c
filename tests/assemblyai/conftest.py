"""Fixtures of the AssemblyAI engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.assemblyai.helpers import write_noise_wav


@pytest.fixture
def wav_2s5(tmp_path: Path) -> Path:
    return write_noise_wav(tmp_path / "noise-2.5s.wav", 2.5)
