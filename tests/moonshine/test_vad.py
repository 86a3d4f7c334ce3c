"""Silero VAD on the official ONNX Runtime: speech frames score high, silence and noise low."""

from __future__ import annotations

import numpy as np
import pytest

from captioner.engines.moonshine.vad import FRAME, SileroVad
from tests.moonshine.helpers import samples


def _probs(vad: SileroVad, x: np.ndarray) -> list[float]:
    return [vad(x[i : i + FRAME]) for i in range(0, len(x) - FRAME + 1, FRAME)]


def test_speech_scores_high_and_silence_low() -> None:
    vad = SileroVad()
    speech = _probs(vad, samples("beckett.wav", 0.3, 1.2))  # "Ever tried."
    vad.reset()
    quiet = _probs(vad, samples("beckett.wav", 1.3, 1.8))  # the pause after it
    vad.reset()
    noise = _probs(vad, np.random.default_rng(0).normal(0, 0.003, 16000).astype(np.float32))
    assert np.mean(np.array(speech) >= 0.5) > 0.6
    assert max(quiet) < 0.35 and max(noise) < 0.35


def test_frames_must_be_512_samples() -> None:
    with pytest.raises(ValueError, match="512"):
        SileroVad()(np.zeros(480, dtype=np.float32))
