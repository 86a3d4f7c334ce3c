"""Moonshine on ONNX Runtime: audio in, token ids out (encoder, greedy decoding with a key/value cache, guards).

:class:`MoonshineDecoder` holds the two ONNX Runtime sessions (encoder ``input_values`` → ``last_hidden_state``;
the merged decoder, whose ``use_cache_branch`` input selects between the first step, which computes the
cross-attention cache from the encoder output, and later steps, which reuse it and extend the self-attention
cache by one token). Decoding is greedy from the start token to the end token, bounded by a token budget of
about 6.5 tokens per second of audio plus a few (fluent English runs at 3-5), and by the repetition guard: a
unit of one token said four times in a row, or of several tokens said three times in a row, is a decoding loop
(the model's typical failure on noise), so decoding stops there and the last copy is dropped; a sentence said
twice is kept. Word boost (:mod:`~captioner.engines.moonshine.biasing`) adds its bonus to the logits and
rewinds the decoder state when a boosted term is abandoned. A decode can be cancelled from another thread.

The two ONNX Runtime sessions are read-only once loaded, so engines running at once (meeting mode: one for the
microphone, one for the system audio) share one decoder through :func:`shared_decoder` instead of each loading
its own copy of the model (about 160 MB each).
"""

from __future__ import annotations

import math
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from captioner.engines.moonshine.biasing import BiasMatcher, BiasTrie
from captioner.engines.moonshine.tokenizer import END, START

SAMPLE_RATE = 16000
TOKENS_PER_SECOND = 6.5
EXTRA_TOKENS = 4
MAX_UNIT = 24
"""Longest repeated unit (tokens) the repetition guard looks for."""


def token_budget(seconds: float) -> int:
    """Most tokens decoded for ``seconds`` of audio."""
    return math.ceil(TOKENS_PER_SECOND * max(0.0, seconds)) + EXTRA_TOKENS


def repetition_cut(ids: list[int]) -> int | None:
    """Length to cut ``ids`` to when it ends in a decoding loop (see the module docstring), else ``None``."""
    n = len(ids)
    for unit in range(1, MAX_UNIT + 1):
        copies = 4 if unit == 1 else 3
        if unit * copies > n:
            break
        tail = ids[n - unit :]
        if all(ids[n - (c + 1) * unit : n - c * unit] == tail for c in range(1, copies)):
            return n - unit
    return None


class Cancel:
    """Cancels one decode from another thread: the decode stops at its next step and reports ``cancelled``."""

    def __init__(self) -> None:
        import onnxruntime as ort

        self._event = threading.Event()
        self.run_options = ort.RunOptions()
        self.run_options.log_severity_level = 4  # a cancelled run is no error worth logging

    def cancel(self) -> None:
        self._event.set()
        self.run_options.terminate = True

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one decode produced: token ids (without start/end) and why it stopped."""

    tokens: tuple[int, ...]
    stop: str
    """``"end"`` (the model ended the text), ``"budget"``, ``"repeat"`` or ``"cancelled"``."""
    steps: int
    """Decoder steps run (more than ``len(tokens)`` when word boost rewound)."""


class MoonshineDecoder:
    """The encoder and decoder sessions of one model; ``transcribe`` is safe to call from two threads."""

    def __init__(self, encoder: Path, decoder: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        self._encoder = ort.InferenceSession(str(encoder), opts, providers=providers)
        self._decoder = ort.InferenceSession(str(decoder), opts, providers=providers)
        self._past = [i.name for i in self._decoder.get_inputs() if i.name.startswith("past_key_values.")]
        self._outputs = [o.name for o in self._decoder.get_outputs()]
        if self._outputs[0] != "logits" or not self._past:
            raise ValueError("the decoder model does not have the expected inputs and outputs")
        heads_dim = self._decoder.get_inputs()[2].shape
        self._heads, self._dim = int(heads_dim[1]), int(heads_dim[3])

    def transcribe(self, audio: np.ndarray, *, bias: BiasTrie | None = None, cancel: Cancel | None = None) -> Decoded:
        """Decode float32 mono 16 kHz ``audio`` (-1…1) to token ids."""
        budget = token_budget(len(audio) / SAMPLE_RATE)
        try:
            return self._transcribe(audio, budget, bias, cancel)
        except Exception:
            if cancel is not None and cancel.cancelled:
                return Decoded(tokens=(), stop="cancelled", steps=0)
            raise

    def _transcribe(self, audio: np.ndarray, budget: int, bias: BiasTrie | None, cancel: Cancel | None) -> Decoded:
        run_options = cancel.run_options if cancel is not None else None
        x = np.ascontiguousarray(audio, dtype=np.float32).reshape(1, -1)
        hidden = self._encoder.run(None, {"input_values": x}, run_options)[0]
        empty = np.zeros((1, self._heads, 0, self._dim), dtype=np.float32)
        feed: dict[str, np.ndarray] = {name: empty for name in self._past}
        feed["encoder_hidden_states"] = hidden
        logits = self._step(feed, START, first=True, run_options=run_options)
        matcher = BiasMatcher(bias) if bias is not None and bias.size else None
        bonus = bias.score if bias is not None else 0.0
        ids: list[int] = []
        steps, stop = 1, "budget"
        checkpoint: tuple[int, np.ndarray, dict[str, np.ndarray]] | None = None
        no_start_at: set[int] = set()
        while len(ids) < budget and steps < 3 * budget + 8:
            if cancel is not None and cancel.cancelled:
                return Decoded(tokens=tuple(ids), stop="cancelled", steps=steps)
            if matcher is None:
                token = int(logits.argmax())
            else:
                if matcher.at_rest:
                    checkpoint = (len(ids), logits, dict(feed))
                may_start = len(ids) not in no_start_at
                candidates = matcher.candidates(may_start=may_start)
                if len(candidates):
                    scores = logits.copy()
                    scores[candidates] += bonus
                    token = int(scores.argmax())
                else:
                    token = int(logits.argmax())
                if not matcher.push(token, may_start=may_start):
                    assert checkpoint is not None  # a match only starts at rest, where a checkpoint was taken
                    at, logits, feed = checkpoint[0], checkpoint[1], dict(checkpoint[2])
                    del ids[at:]
                    no_start_at.add(at)
                    matcher.reset()
                    continue
            if token == END:
                stop = "end"
                break
            ids.append(token)
            cut = repetition_cut(ids)
            if cut is not None:
                del ids[cut:]
                stop = "repeat"
                break
            if len(ids) >= budget:
                break
            logits = self._step(feed, token, first=False, run_options=run_options)
            steps += 1
        return Decoded(tokens=tuple(ids), stop=stop, steps=steps)

    def _step(self, feed: dict[str, np.ndarray], token: int, *, first: bool, run_options: Any) -> np.ndarray:
        """Run one decoder step for ``token``; update the caches in ``feed``; the next token's logits."""
        feed["input_ids"] = np.array([[token]], dtype=np.int64)
        feed["use_cache_branch"] = np.array([not first], dtype=np.bool_)
        out = self._decoder.run(None, feed, run_options)
        for name, value in zip(self._outputs[1:], out[1:], strict=True):
            past = "past_key_values" + name[len("present") :]
            if first or ".decoder." in past:
                feed[past] = value
        logits: np.ndarray = out[0][0, -1]
        return logits


_shared: dict[tuple[str, str, int], weakref.ReferenceType[MoonshineDecoder]] = {}
_shared_lock = threading.Lock()


def shared_decoder(encoder: Path, decoder: Path, threads: int = 1) -> MoonshineDecoder:
    """The decoder of these model files and thread count, loaded once for every engine that runs at the same time.

    It is kept only while an engine holds it (a weak reference): when the last one ends, the model is freed.
    """
    key = (str(encoder), str(decoder), max(1, threads))
    with _shared_lock:  # a second engine waits for the first one's load rather than load a copy
        ref = _shared.get(key)
        found = ref() if ref is not None else None
        if found is None:
            found = MoonshineDecoder(encoder, decoder, threads)
            _shared[key] = weakref.ref(found)
        return found
