"""AssemblyAI test helpers: the test key and script, synthetic noise WAVs, and a real Session run through the engine."""

from __future__ import annotations

import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from captioner.audio.base import to_pcm16
from captioner.audio.file import WavFileSource, read_wav
from captioner.captions.events import CaptionEvent, Final, Interim
from captioner.captions.transcript import Transcript
from captioner.engines.assemblyai.engine import AssemblyAIEngine
from captioner.engines.base import Credentials, EngineOptions
from captioner.session.session import RetryPolicy, Session
from tests.support.fakes.assemblyai import ScriptTurn, make_turn

KEY = "test-key-0123456789abcdef"

# Two turns in 2.5 s of audio.
SCRIPT: tuple[ScriptTurn, ...] = (
    make_turn(0.10, "hello world", "Hello world."),
    make_turn(1.20, "good morning everyone", "Good morning, everyone."),
)


def write_noise_wav(path: Path, seconds: float, rate: int = 16000, seed: int = 7) -> Path:
    """Low-level noise: unique content, so the fake can locate any frame in it."""
    rng = np.random.default_rng(seed)
    samples = (rng.standard_normal(int(seconds * rate)) * 2000).clip(-32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def reference_pcm(path: Path) -> bytes:
    """The PCM16 the file source will produce for ``path`` (what the engine is expected to send)."""
    return to_pcm16(read_wav(path)[0])


@dataclass
class RunResult:
    events: list[CaptionEvent] = field(default_factory=list)
    transcript: Transcript = field(default_factory=Transcript)
    error: BaseException | None = None

    def finals(self) -> list[Final]:
        return [e for e in self.events if isinstance(e, Final)]

    def interims(self) -> list[Interim]:
        return [e for e in self.events if isinstance(e, Interim)]

    def of(self, kind: type) -> list[CaptionEvent]:
        return [e for e in self.events if isinstance(e, kind)]

    def lines(self) -> list[str]:
        return [line.text for line in self.transcript.lines() if line.final]


async def run_session(
    wav: Path,
    options: EngineOptions,
    *,
    key: str = KEY,
    during: Callable[[Session], Awaitable[object]] | None = None,
) -> RunResult:
    """Caption ``wav`` (paced at 1×) through a real Session and the AssemblyAI engine."""
    result = RunResult()
    source = WavFileSource(wav, 16000, realtime=True)
    creds = Credentials(api_key=key)

    def factory(opts: EngineOptions) -> AssemblyAIEngine:
        return AssemblyAIEngine(opts, creds)

    session = Session(
        source,
        factory,
        options,
        transcript=result.transcript,
        on_event=result.events.append,
        retry=RetryPolicy(initial=0.05, maximum=0.2, max_attempts=4),
    )
    if during is not None:
        import asyncio

        task = asyncio.ensure_future(during(session))
    try:
        await session.run()
    except Exception as exc:
        result.error = exc
    if during is not None:
        await task
    return result
