"""The neural offline engine ``moonshine``: Moonshine base English on ONNX Runtime.

This module is the engine: availability, live option updates, the real-time guard, and the async runner.
The model is prepared by :mod:`~captioner.engines.moonshine.model` (found, or converted once on first
use, with progress shown as status messages) and loaded in the engine's worker thread, where VAD,
segmentation and the decoding of finals run (``captioner-moonshine``); interims are decoded in a second
thread (``captioner-moonshine-interim``) and cancelled when their line ends, so a final never waits for
one. ONNX Runtime releases the GIL while it computes, so the event loop never blocks.

Real-time guard: the lag is the wall clock against the audio position processed (from each chunk's
capture time). When it stays above 1.5 s for 2 s, interims are dropped (a ``DEGRADED`` status says so);
when finals alone fall more than 5 s behind, the stream fails with ``fallback="local"``: the light engine
takes over rather than build an ever-growing backlog. Audio read from a file faster than real time has no
real time to keep up with, and the guard stands down. How a stream is captioned is in
:mod:`~captioner.engines.moonshine.recognizer`; details and figures in ``docs/local-engine.md``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, EngineState, Final, Interim, Status
from captioner.engines.base import Capabilities, Credentials, Engine, EngineFailure, EngineOptions, WordBoostLimits
from captioner.engines.moonshine.model import ModelUnavailable, ensure_model, model_status
from captioner.engines.moonshine.recognizer import Recognizer
from captioner.engines.moonshine.settings import ADVANCED_OPTIONS, MAX_TERM_CHARS, MAX_TERMS, MoonshineSettings
from captioner.engines.moonshine.vad import SAMPLE_RATE, SileroVad, VadUnavailable, silero_model_path

DROP_INTERIMS_LAG_S = 1.5
DROP_INTERIMS_AFTER_S = 2.0
FAIL_LAG_S = 5.0
FAIL_GRACE_S = 3.0
"""After interims are dropped, the backlog gets this long to drain before finals alone are judged."""


def load_recognizer(
    settings: MoonshineSettings,
    engine_id: str,
    line_ids: itertools.count[int],
    progress: Callable[[str, float], None] | None = None,
) -> Recognizer:
    """Prepare and load the model and the VAD (in the worker thread); ``ModelUnavailable`` / ``VadUnavailable``."""
    from captioner.engines.moonshine.decoder import shared_decoder
    from captioner.engines.moonshine.tokenizer import Tokenizer

    files = ensure_model(progress)
    decoder = shared_decoder(files.encoder, files.decoder, settings.threads)
    return Recognizer(settings, decoder, Tokenizer.from_file(files.tokenizer), engine_id, line_ids, SileroVad())


class RealtimeGuard:
    """Lag of the audio processed behind the wall clock, and what to do about it (see the module docstring)."""

    def __init__(self) -> None:
        self._anchor: float | None = None  # max(captured_at - end): wall clock of audio time 0
        self._min_anchor: float | None = None
        self.paced = True
        self.lag = 0.0
        self.max_lag = 0.0
        self._behind_since: float | None = None
        self._dropped_at: float | None = None

    def arrived(self, chunk: AudioChunk) -> None:
        anchor = chunk.captured_at - chunk.end
        self._anchor = anchor if self._anchor is None else max(self._anchor, anchor)
        self._min_anchor = anchor if self._min_anchor is None else min(self._min_anchor, anchor)
        self.paced = self._anchor - self._min_anchor < 2.0

    def processed(self, chunk: AudioChunk) -> None:
        assert self._anchor is not None
        now = time.monotonic()
        self.lag = max(0.0, now - (self._anchor + chunk.end)) if self.paced else 0.0
        self.max_lag = max(self.max_lag, self.lag)
        if self.lag <= DROP_INTERIMS_LAG_S:
            self._behind_since = None
        elif self._behind_since is None:
            self._behind_since = now

    def drop_interims(self) -> bool:
        """Whether interims should go now (lag above its budget for a while)."""
        since = self._behind_since
        if since is None or time.monotonic() - since < DROP_INTERIMS_AFTER_S:
            return False
        self._dropped_at = time.monotonic()
        return True

    def give_up(self, interims_running: bool) -> bool:
        """Whether finals alone fall too far behind (never while interims still run: drop them first)."""
        if interims_running or self.lag <= FAIL_LAG_S:
            return False
        return self._dropped_at is None or time.monotonic() - self._dropped_at > FAIL_GRACE_S


class MoonshineEngine(Engine):
    """Moonshine base English, offline; see the module docstring."""

    id = "moonshine"
    name = "Moonshine (offline)"
    capabilities = Capabilities(
        sample_rate=SAMPLE_RATE,
        interim_results=True,
        word_boost=True,
        live_update=True,
        silence_threshold=True,
        word_boost_limits=WordBoostLimits(max_terms=MAX_TERMS, max_term_chars=MAX_TERM_CHARS),
        languages=("en",),
        notes="offline neural recogniser (Moonshine base, English) with capitals and punctuation; "
        "word boost biases the decoder toward the listed terms",
    )
    advanced_options = ADVANCED_OPTIONS

    def __init__(self, options: EngineOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials)
        self.settings = MoonshineSettings.from_options(options)  # ValueError → CLI exit 2
        self._line_ids = itertools.count()
        self._recognizer: Recognizer | None = None
        self.guard = RealtimeGuard()

    @classmethod
    def check_available(cls) -> tuple[bool, str]:
        """Whether the engine can run here, in plain words; never loads or prepares the model."""
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return False, "the Python package 'onnxruntime' is not installed"
        try:
            silero_model_path()
        except VadUnavailable as exc:
            return False, str(exc)
        return model_status()

    @property
    def recognizer(self) -> Recognizer | None:
        """The running recogniser (for tests and benchmarks)."""
        return self._recognizer

    def endpoint_silence(self) -> float:
        return self.settings.silence_ms / 1000.0

    async def update(self, options: EngineOptions) -> bool:
        """Silence threshold, word boost, boost strength, interims and line length apply live; threads restart."""
        try:
            new = MoonshineSettings.from_options(options)
        except ValueError:
            return False
        if new.threads != self.settings.threads:
            return False
        self.settings = new
        self.options = options
        if self._recognizer is not None:
            self._recognizer.request_update(new)
        return True

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        loop = asyncio.get_running_loop()
        main = ThreadPoolExecutor(max_workers=1, thread_name_prefix="captioner-moonshine")
        side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="captioner-moonshine-interim")
        interim: asyncio.Future[list[EngineEvent]] | None = None
        next_chunk: asyncio.Future[AudioChunk] | None = None
        rec: Recognizer | None = None
        last_final = -1
        self.guard = RealtimeGuard()
        try:
            async for ev in self._load(loop, main):
                yield ev
            rec = self._recognizer
            assert rec is not None
            yield Status(engine=self.id, state=EngineState.LISTENING, message="listening (offline, Moonshine)")
            chunks = aiter(audio)
            while True:
                if next_chunk is None:
                    next_chunk = asyncio.ensure_future(anext(chunks))
                waiting: set[asyncio.Future[object]] = {next_chunk}  # type: ignore[arg-type]
                if interim is not None:
                    waiting.add(interim)  # type: ignore[arg-type]
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if interim is not None and interim in done:
                    events, interim = await self._interim_result(interim), None
                    for ev in events:
                        if isinstance(ev, Interim) and int(ev.line_id) > last_final and rec.interims_allowed:
                            yield ev
                if next_chunk not in done:
                    continue
                try:
                    chunk = next_chunk.result()
                except StopAsyncIteration:
                    break
                next_chunk = None
                if chunk.sample_rate != SAMPLE_RATE:
                    raise EngineFailure(
                        f"the Moonshine engine needs {SAMPLE_RATE} Hz audio, got {chunk.sample_rate} Hz",
                        retryable=False,
                    )
                self.guard.arrived(chunk)
                events = await self._run(loop, main, rec.feed, chunk)
                self.guard.processed(chunk)
                for ev in events:
                    if isinstance(ev, Final):
                        last_final = int(ev.line_id)
                    yield ev
                status = self._check_realtime(rec)
                if status is not None:
                    yield status
                if interim is None:
                    job = rec.interim_job()
                    if job is not None:
                        interim = loop.run_in_executor(side, rec.run_interim, job)
                        if not self.guard.paced:
                            # Read faster than real time: nothing to keep up with, so let the interim finish.
                            events, interim = await self._interim_result(interim), None
                            for ev in events:
                                yield ev
            for ev in await self._run(loop, main, rec.finish):
                yield ev
        finally:
            if next_chunk is not None and not next_chunk.done():
                next_chunk.cancel()
            if interim is not None and rec is not None:
                rec.cancel_interim()
            main.shutdown(wait=False)
            side.shutdown(wait=False)

    async def _load(self, loop: asyncio.AbstractEventLoop, main: ThreadPoolExecutor) -> AsyncIterator[EngineEvent]:
        """Load the model in ``main``, yielding the progress of its first-use preparation as status messages."""
        steps: asyncio.Queue[tuple[str, float]] = asyncio.Queue()

        def progress(step: str, fraction: float) -> None:
            loop.call_soon_threadsafe(steps.put_nowait, (step, fraction))

        load = loop.run_in_executor(main, load_recognizer, self.settings, self.id, self._line_ids, progress)
        while not load.done():
            got: asyncio.Future[tuple[str, float]] = asyncio.ensure_future(steps.get())
            await asyncio.wait((load, got), return_when=asyncio.FIRST_COMPLETED)
            if not got.done():
                got.cancel()
                continue
            step, fraction = got.result()
            message = f"preparing the speech model: {step} ({fraction:.0%})"
            yield Status(engine=self.id, state=EngineState.CONNECTING, message=message, progress=fraction)
        try:
            self._recognizer = load.result()
        except (ModelUnavailable, VadUnavailable) as exc:
            message = f"{exc} The light offline engine takes over."
            raise EngineFailure(message, retryable=False, fallback="local") from exc
        except Exception as exc:
            raise EngineFailure(
                f"the Moonshine model does not load ({exc}); the light offline engine takes over",
                retryable=False,
                fallback="local",
            ) from exc

    async def _run(self, loop: asyncio.AbstractEventLoop, main: ThreadPoolExecutor, *call: object) -> list[EngineEvent]:
        fn, *args = call
        try:
            return await loop.run_in_executor(main, fn, *args)  # type: ignore[arg-type]
        except Exception as exc:
            raise EngineFailure(
                f"Moonshine failed while decoding ({exc}); the light offline engine takes over",
                retryable=True,
                fallback="local",
            ) from exc

    @staticmethod
    async def _interim_result(future: asyncio.Future[list[EngineEvent]]) -> list[EngineEvent]:
        try:
            return await future
        except Exception:
            return []  # a failed interim is only a missed interim; the final decodes the line again

    def _check_realtime(self, rec: Recognizer) -> Status | None:
        guard = self.guard
        interims_running = rec.settings.interim and rec.interims_allowed
        if interims_running and guard.drop_interims():
            rec.interims_allowed = False
            rec.cancel_interim()
            return Status(
                engine=self.id,
                state=EngineState.DEGRADED,
                message=f"decoding fell {guard.lag:.1f} s behind real time; "
                "finals only: this computer is too slow for live interim text",
            )
        if guard.give_up(interims_running):
            raise EngineFailure(
                f"the Moonshine engine fell {guard.lag:.1f} s behind real time even without interim text: "
                "this computer is too slow for it; the light offline engine takes over",
                retryable=True,
                fallback="local",
            )
        return None
