"""Uhlive test helpers: the tone patterns of the audio fixtures, and running a real Session over a WAV file into a
Uhlive engine, collecting what comes out."""

from __future__ import annotations

import asyncio
from pathlib import Path

from captioner.audio.file import WavFileSource
from captioner.captions.events import CaptionEvent, Final
from captioner.captions.transcript import Transcript
from captioner.engines.base import Credentials, Engine, EngineOptions
from captioner.session.session import RetryPolicy, Session

# Three utterances (tone bursts) separated by pauses longer than the fakes' end-of-utterance silence.
PATTERN = [(0, 0.2), (400, 0.5), (0, 0.8), (700, 0.6), (0, 0.8), (1000, 0.4), (0, 0.3)]
# A cut in the middle of the second utterance (bytes of 16 kHz PCM16, i.e. of 8 kHz audio x 2).
CUT_BYTES = int((0.2 + 0.5 + 0.8 + 0.3) * 16000)
# One short utterance, for error paths.
SHORT = [(0, 0.2), (700, 0.5), (0, 0.7)]


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
