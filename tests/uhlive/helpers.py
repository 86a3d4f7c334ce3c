"""Running a real Session over a WAV file into a Uhlive engine, collecting what comes out."""

from __future__ import annotations

import asyncio
from pathlib import Path

from captioner.audio.file import WavFileSource
from captioner.captions.events import CaptionEvent, Final
from captioner.captions.transcript import Transcript
from captioner.engines.base import Credentials, Engine, EngineOptions
from captioner.session.session import RetryPolicy, Session


async def run_session(
    engine_cls: type[Engine],
    wav: Path,
    options: EngineOptions,
    credentials: Credentials,
    *,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> tuple[Transcript, list[CaptionEvent]]:
    events: list[CaptionEvent] = []
    transcript = Transcript()
    source = WavFileSource(wav, engine_cls.capabilities.sample_rate, realtime=True)
    session = Session(
        source,
        lambda opts: engine_cls(opts, credentials),
        options,
        transcript=transcript,
        on_event=events.append,
        retry=retry or RetryPolicy(initial=0.05, max_attempts=3),
    )
    await asyncio.wait_for(session.run(), timeout)
    return transcript, events


def finals(events: list[CaptionEvent]) -> list[Final]:
    return [e for e in events if isinstance(e, Final)]
