"""The converted model says the same as the shipped one, on a real recording.

A deliberately plain greedy decoder (no repetition guard, no segmentation) so that only the model
files differ between the two runs.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from captioner.engines.moonshine import model
from tests.moonshine.test_model import converted  # noqa: F401  (the session fixture)

pytestmark = pytest.mark.skipif(model.wheel_model_dir() is None, reason="needs the moonshine-cpp wheel's model files")


def _audio(path: Path) -> np.ndarray:
    import soxr

    with wave.open(str(path)) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1)
    resampled: np.ndarray = soxr.resample(pcm, rate, 16000) if rate != 16000 else pcm
    return resampled.astype(np.float32)


def _greedy(encoder: Path, decoder: Path, audio: np.ndarray) -> list[int]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    enc = ort.InferenceSession(str(encoder), options, providers=["CPUExecutionProvider"])
    dec = ort.InferenceSession(str(decoder), options, providers=["CPUExecutionProvider"])
    hidden = enc.run(None, {"input_values": audio[None]})[0]
    past = {i.name: np.zeros((1, 8, 0, 52), np.float32) for i in dec.get_inputs() if i.name.startswith("past_")}
    outputs = [o.name for o in dec.get_outputs()]
    tokens = [1]
    for step in range(int(len(audio) / 16000 * 6.5) + 10):
        feeds = {
            "input_ids": np.array([[tokens[-1]]], np.int64),
            "encoder_hidden_states": hidden,
            "use_cache_branch": np.array([step > 0]),
            **past,
        }
        result = dec.run(None, feeds)
        token = int(np.argmax(result[0][0, -1]))
        for name, value in zip(outputs[1:], result[1:], strict=True):
            if step == 0 or ".decoder." in name:  # the cross-attention cache is computed once
                past[name.replace("present", "past_key_values")] = value
        if token == 2:
            break
        tokens.append(token)
    return tokens[1:]


def test_converted_model_gives_the_same_tokens_as_the_shipped_one(converted: model.ModelFiles) -> None:  # noqa: F811
    from tests.support.speech import speech_wav

    audio = _audio(speech_wav("beckett.wav"))
    wheel = model.wheel_model_dir()
    assert wheel is not None
    shipped = _greedy(wheel / "encoder_model.ort", wheel / "decoder_model_merged.ort", audio)
    ours = _greedy(converted.encoder, converted.decoder, audio)
    assert len(shipped) > 10
    assert ours == shipped
