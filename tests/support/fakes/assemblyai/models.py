"""The fake AssemblyAI's own knowledge of the streaming models (written from the vendor's sources,
independently of the client's model table, so that the two cannot agree on a mistake).

* Universal-Streaming (``universal-streaming-english`` / ``-multilingual``): word-by-word partials,
  ``transcript`` = the final words; turn silence 400/1280 ms.
* Whisper Streaming (``whisper-rt``): the same turn shape, plus turns for silence and noise
  (``[Silence]``, ``[Music]`` in ``utterance``); keyterms are not taken (the vendor lists no
  customisation for it): the fake ignores them, as the service ignores unknown parameters.
* The Universal-3 Pro family (``u3-rt-pro``, ``universal-3-5-pro``, ``universal-3-6-pro``…): a
  ``SpeechStarted`` before each turn, partials only at pauses (plus one early partial in long
  speech) whose ``transcript`` is the whole partial and whose words are all ``word_is_final:
  false``, turns ending on terminal punctuation after ``min_turn_silence`` or in any case after
  ``max_turn_silence``; ``end_of_turn_confidence_threshold`` has no effect; finals are always
  formatted. Silence defaults: 100/1000 ms on ``u3-rt-pro``; on 3.5/3.6 they follow ``mode``
  (the fake's per-mode numbers are its own stand-ins: the vendor does not publish them all).
* Parameters only the Universal-3 Pro family takes (``mode``, ``voice_focus``, ``language_codes``…)
  sent to another model: the fake closes 3006 ``Invalid Message: …`` (the real code and wording
  are not documented; other clients report that the service rejects them).
"""

from __future__ import annotations

from dataclasses import dataclass

U3_ONLY = frozenset(
    {
        "mode",
        "voice_focus",
        "voice_focus_threshold",
        "language_codes",
        "prompt",
        "agent_context",
        "continuous_partials",
        "interruption_delay",
    }
)
MODE_SILENCE = {"min_latency": (100, 800), "balanced": (100, 1536), "max_accuracy": (200, 2400)}


@dataclass(frozen=True)
class FakeModel:
    u3: bool = False
    silence: tuple[int, int] = (400, 1280)
    by_mode: bool = False
    whisper: bool = False
    ignores: frozenset[str] = frozenset()
    """Parameters the model ignores (recorded by the fake, without effect)."""

    def rejects(self, params: set[str]) -> list[str]:
        return sorted(params & U3_ONLY) if not self.u3 else []

    def turn_silence(self, mode: str | None) -> tuple[int, int]:
        if self.by_mode:
            return MODE_SILENCE.get(mode or "balanced", MODE_SILENCE["balanced"])
        return self.silence


UNIVERSAL = FakeModel()
FAKE_MODELS = {
    "universal-streaming-english": UNIVERSAL,
    "universal-streaming-multilingual": UNIVERSAL,
    "whisper-rt": FakeModel(whisper=True, ignores=frozenset({"keyterms_prompt"})),
    "u3-rt-pro": FakeModel(u3=True, silence=(100, 1000), ignores=frozenset({"end_of_turn_confidence_threshold"})),
    "u3-pro": FakeModel(u3=True, silence=(100, 1000), ignores=frozenset({"end_of_turn_confidence_threshold"})),
    "universal-3-5-pro": FakeModel(u3=True, by_mode=True, ignores=frozenset({"end_of_turn_confidence_threshold"})),
    "universal-3-6-pro": FakeModel(u3=True, by_mode=True, ignores=frozenset({"end_of_turn_confidence_threshold"})),
}
DEFAULT_MODEL = "universal-streaming-english"


def fake_model(name: str | None) -> FakeModel:
    return FAKE_MODELS.get(name or DEFAULT_MODEL, UNIVERSAL)


class SpeakerLabels:
    """Labels A, B, C… given to people in the order this connection first hears them (like the service,
    the labels of one connection know nothing of another's). Turns under a second are ``UNKNOWN``."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}

    def label(self, person: str | None, duration: float) -> str | None:
        if person is None:
            return None
        if duration < 1.0:
            return "UNKNOWN"
        if person not in self._labels:
            self._labels[person] = chr(ord("A") + len(self._labels))
        return self._labels[person]
