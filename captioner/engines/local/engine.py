"""The embedded offline engine ``local``: PocketSphinx 5 with its bundled en-US model.

This module is the engine: availability, live option updates, and the async runner that feeds the
:class:`~captioner.engines.local.recognizer.Recognizer` from one worker thread (``pocketsphinx`` is not
thread-safe and holds the GIL while it decodes, so audio is fed in 30 ms calls to let the event loop run
between them). How a stream is captioned (details and measured figures in ``docs/local-engine.md``):

* :mod:`~captioner.engines.local.settings`: the options, parsed and validated.
* :mod:`~captioner.engines.local.endpointer`: where an utterance starts and ends (voice activity).
* :mod:`~captioner.engines.local.decoder`: the decoder's modes and word boost
  (:mod:`~captioner.engines.local.g2p` guesses pronunciations of unknown words).
* :mod:`~captioner.engines.local.realtime`: the real-time guard (lag, real-time factor, skipping).
* :mod:`~captioner.engines.local.recognizer`: PCM in, interim and final captions out, wiring the above.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, EngineState, Notice, Status
from captioner.engines.base import Capabilities, Credentials, Engine, EngineFailure, EngineOptions, WordBoostLimits
from captioner.engines.local.decoder import SAMPLE_RATE, boost_words
from captioner.engines.local.recognizer import Recognizer
from captioner.engines.local.settings import LocalSettings


def _model_dir() -> Path:
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us"


class LocalEngine(Engine):
    """PocketSphinx, offline, English; see the module docstring."""

    id = "local"
    name = "Local (offline)"
    capabilities = Capabilities(
        sample_rate=SAMPLE_RATE,
        interim_results=True,
        word_boost=True,
        live_update=True,
        silence_threshold=True,
        word_boost_limits=WordBoostLimits(max_terms=500, max_term_chars=100),
        languages=("en",),
        notes="offline PocketSphinx (US English); word boost adds words to the vocabulary and raises their weight",
    )

    _availability: ClassVar[tuple[bool, str] | None] = None

    def __init__(self, options: EngineOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials)
        self.settings = LocalSettings.from_options(options)  # ValueError → CLI exit 2
        self._recognizer: Recognizer | None = None

    @classmethod
    def check_available(cls) -> tuple[bool, str]:
        """Whether pocketsphinx imports and its bundled en-US model loads (cached per process)."""
        if cls._availability is None:
            cls._availability = cls._probe()
        return cls._availability

    @staticmethod
    def _probe() -> tuple[bool, str]:
        try:
            import pocketsphinx  # noqa: F401
        except ImportError:
            return False, "the Python package 'pocketsphinx' is not installed"
        model = _model_dir()
        needed = [model / "en-us" / "mdef", model / "en-us.lm.bin", model / "cmudict-en-us.dict"]
        missing = [str(p) for p in needed if not p.exists()]
        if missing:
            return False, f"the PocketSphinx en-US model is incomplete (missing {', '.join(missing)})"
        try:
            from pocketsphinx import Decoder

            Decoder(loglevel="FATAL", mmap=True)
        except Exception as exc:
            return False, f"the PocketSphinx en-US model does not load: {exc}"
        return True, "ready (offline, bundled en-US model)"

    @property
    def recognizer(self) -> Recognizer | None:
        """The running recogniser (for tests and benchmarks)."""
        return self._recognizer

    async def update(self, options: EngineOptions) -> bool:
        """Silence threshold and added boost words apply live (at the next utterance); anything else restarts."""
        try:
            new = LocalSettings.from_options(options)
        except ValueError:
            return False
        old = self.settings
        if replace(new, silence_ms=old.silence_ms, boost=old.boost) != old:
            return False  # advanced options: restart
        if {w.lower() for w in boost_words(old.boost)} - {w.lower() for w in boost_words(new.boost)}:
            return False  # a boosted word cannot be taken out of a running decoder
        self.settings = new
        self.options = options
        if self._recognizer is not None:
            self._recognizer.request_update(new)
        return True

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        loop = asyncio.get_running_loop()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="captioner-local")
        try:
            try:
                rec = await loop.run_in_executor(executor, Recognizer, self.settings, self.id)
            except Exception as exc:
                raise EngineFailure(f"cannot load the PocketSphinx model: {exc}", retryable=False) from exc
            self._recognizer = rec
            lts = [b.display for b in rec.boosted.values() if b.source == "letter-to-sound"]
            if lts:
                yield Notice(
                    engine=self.id,
                    message=f"word boost: guessed the pronunciation of {', '.join(lts)} (not in dictionary)",
                )
            mode = "fast mode" if rec.fast else "PocketSphinx"
            yield Status(engine=self.id, state=EngineState.LISTENING, message=f"listening (offline, {mode})")
            async for chunk in audio:
                if chunk.sample_rate != SAMPLE_RATE:
                    raise EngineFailure(
                        f"the local engine needs {SAMPLE_RATE} Hz audio, got {chunk.sample_rate} Hz", retryable=False
                    )
                try:
                    events = await loop.run_in_executor(executor, rec.feed, chunk)
                except RuntimeError as exc:  # PocketSphinx reports decoding errors this way
                    raise EngineFailure(f"PocketSphinx failed: {exc}", retryable=True) from exc
                for ev in events:
                    yield ev
            try:
                events = await loop.run_in_executor(executor, rec.finish)
            except RuntimeError as exc:
                raise EngineFailure(f"PocketSphinx failed: {exc}", retryable=True) from exc
            for ev in events:
                yield ev
        finally:
            executor.shutdown(wait=False)
