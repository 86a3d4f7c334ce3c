"""Running a cloud engine's session through a :class:`~tests.support.faultproxy.FaultProxy`, for the fault tests.

Owns the three targets (AssemblyAI, Uhlive Stream Conversation, Uhlive Stream H2B), each its faithful fake
started on 127.0.0.1 behind a proxy, and :func:`caption`: a real :class:`~captioner.session.session.Session`
captioning a WAV of human speech (paced at 1×) through the proxy while a fault scenario runs, recording every
event with the loop time it arrived at. A :class:`Run` gives what the fault tests compare with a clean run:
the committed lines (text and source times), the messages the user saw, and the time from the end of the
fault to the first sign of recovery (a final caption, or the engine listening again).

The engines' socket settings (heartbeat, handshake timeout) are scaled down through their ``socket`` attribute
(a :class:`~captioner.engines.wire.connect.SocketSettings`), so a fault needs a second, not 30; ``end_wait`` and
``setup`` reach the other knobs (the wait for the end of a session, the slow-link threshold).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from captioner.audio.base import to_pcm16
from captioner.audio.file import WavFileSource, read_wav
from captioner.captions.events import CaptionEvent, EngineError, EngineState, Final, Notice, Status
from captioner.captions.transcript import Transcript
from captioner.engines.assemblyai.engine import AssemblyAIEngine
from captioner.engines.base import Credentials, Engine, EngineOptions
from captioner.engines.uhlive.conversation import UhliveConversationEngine
from captioner.engines.uhlive.h2b import UhliveH2BEngine
from captioner.engines.wire.connect import SocketSettings
from captioner.session.session import RetryPolicy, Session
from tests.support.fakes.assemblyai import FakeAssemblyAI, make_turn
from tests.support.fakes.uhlive import FakeConversationServer, FakeH2BServer, FakeTokenServer
from tests.support.faultproxy import FaultProxy
from tests.support.speech import speech_wav

KEY = "netfault-key-0123456789"
UHLIVE = Credentials(client_id="cid", client_secret="s3cret")
CLIP_SECONDS = 6.0
"""The first 6 s of the Beckett reading: "ever tried, ever failed, no matter, try again, fail again"."""
# What the fake AssemblyAI "hears" in the clip (turns on the source timeline, where the reader speaks).
SCRIPT = (
    make_turn(0.30, "ever tried ever failed", "Ever tried. Ever failed.", 0.42),
    make_turn(2.10, "no matter", "No matter.", 0.4),
    make_turn(3.52, "try again fail again", "Try again. Fail again.", 0.36),
)
FAST_SOCKET = SocketSettings(open_timeout=0.6, ping_interval=0.2, ping_timeout=0.3, close_timeout=0.2)
"""The engines' heartbeat and handshake timeout, scaled down from the defaults (ping every 5 s, 5 s for its pong,
10–15 s to connect) for the tests."""
ENGINES = ("assemblyai", "uhlive", "uhlive-h2b")
RETRY = RetryPolicy(initial=0.05, maximum=0.2, max_attempts=40)


def speech_clip(path: Path, seconds: float = CLIP_SECONDS) -> Path:
    """The first ``seconds`` of the Beckett reading (16 kHz mono PCM16, peak at -1 dBFS), written to ``path``."""
    samples, rate = read_wav(speech_wav("beckett.wav"))[:2]
    clip = np.asarray(samples[: int(seconds * rate)], dtype=np.float32)
    pcm = to_pcm16(clip * (0.89 / float(np.max(np.abs(clip)))))
    with wave.open(str(path), "wb") as w:
        w.setparams((1, 2, rate, 0, "NONE", "not compressed"))  # mono PCM16
        w.writeframes(pcm)
    return path


CloudEngine = AssemblyAIEngine | UhliveConversationEngine | UhliveH2BEngine


@dataclass
class Target:
    """One engine, its fake behind a proxy, and how to point the engine at it."""

    name: str
    engine_cls: type[CloudEngine]
    credentials: Credentials
    proxy: FaultProxy
    options: Callable[[str], EngineOptions]
    """The engine's options for a websocket endpoint URL."""
    bytes_per_second: int
    """Audio bytes per second of source on the wire (the fault scenarios start at a point of the audio)."""
    fake: Any = None
    same_text: bool = True
    """Whether a line replayed after a reconnect must have the clean run's text. The Uhlive fakes "recognise"
    tones: a reading's words become one of their phrases by its pitch, which the fake measures in 20 ms windows
    counted from the first byte of a connection, so replayed audio (windows shifted by up to 10 ms) may get
    another phrase for the same line. There lines are matched by their times alone."""
    tolerance: float = 0.011
    """How close (s) a line's times must be to the clean run's: AssemblyAI's are its scripted words', to the ms;
    the Uhlive fakes' are counted in 20 ms windows from the first byte of a connection."""


@contextlib.asynccontextmanager
async def target(name: str, clip: Path) -> AsyncIterator[Target]:
    """The engine ``name`` (``assemblyai``, ``uhlive``, ``uhlive-h2b``), its fake started, behind a proxy."""
    if name == "assemblyai":
        ref = to_pcm16(read_wav(clip)[0])
        fake = FakeAssemblyAI(keys=(KEY,), script=SCRIPT, reference_pcm=ref, formatting="in-place")
        async with fake, FaultProxy(fake.port) as proxy:
            yield Target(
                name,
                AssemblyAIEngine,
                Credentials(api_key=KEY),
                proxy,
                lambda url: EngineOptions(endpoint=url, silence_ms=600, extra={"connect_timeout": "0.6"}),
                32000,
                fake,
            )
        return
    with FakeTokenServer() as tokens:
        h2b = name == "uhlive-h2b"
        cls: type[CloudEngine] = UhliveH2BEngine if h2b else UhliveConversationEngine
        fake_cls = FakeH2BServer if h2b else FakeConversationServer
        async with fake_cls(tokens.issued) as uhlive_fake:
            port = int(uhlive_fake.url.rsplit(":", 1)[1])
            async with FaultProxy(port) as proxy:
                yield Target(
                    name,
                    cls,
                    UHLIVE,
                    proxy,
                    lambda url: EngineOptions(
                        endpoint=url,
                        language="en",
                        # The fake's confidence is the loudness of the "speech": a reading is quieter than its tones.
                        extra={"auth_endpoint": tokens.url, **({"confidence_threshold": "0.2"} if h2b else {})},
                    ),
                    16000,
                    uhlive_fake,
                    same_text=False,
                    tolerance=0.03,
                )


def with_end_wait(cls: type[CloudEngine], opts: EngineOptions, creds: Credentials, seconds: float) -> CloudEngine:
    """An engine that waits ``seconds`` for the end of its session to be confirmed (each engine has its knob)."""
    if cls is AssemblyAIEngine:
        return cls(dataclasses.replace(opts, extra={**opts.extra, "terminate_timeout": str(seconds)}), creds)
    engine = cls(opts, creds)
    if isinstance(engine, UhliveConversationEngine):
        engine.leave_timeout = seconds
    elif isinstance(engine, UhliveH2BEngine):
        engine.close_timeout = seconds
    return engine


@dataclass
class Run:
    """What one session did: its events with their loop times, and the committed lines."""

    events: list[tuple[float, CaptionEvent]] = field(default_factory=list)
    transcript: Transcript = field(default_factory=Transcript)
    error: BaseException | None = None
    fault_start: float | None = None
    """The loop time the fault began (the scenario sets it)."""
    fault_end: float | None = None
    same_text: bool = True
    tolerance: float = 0.011

    def lines(self) -> list[tuple[str, float, float]]:
        """Every committed line: text, start and end on the source timeline (ms precision)."""
        return [
            (line.text, round(line.start or 0.0, 2), round(line.end or 0.0, 2))
            for line in self.transcript.lines()
            if line.final
        ]

    def lost_and_extra(self, clean: Run) -> tuple[list[tuple[str, float, float]], list[tuple[str, float, float]]]:
        """The clean run's lines this run lacks, and this run's lines the clean run lacks (see :func:`compare`)."""
        return compare(clean.lines(), self.lines(), same_text=self.same_text, tol=self.tolerance)

    def messages(self) -> list[str]:
        """What the user was told: errors, notices and statuses other than the routine ones."""
        return [e.message for _, e in self.events if isinstance(e, EngineError | Notice)]

    def noticed(self) -> float | None:
        """Seconds from the start of the fault to the first error the user saw, if any."""
        start = self.fault_start
        if start is None:
            return None
        return next((t - start for t, e in self.events if t >= start and isinstance(e, EngineError)), None)

    def recovery(self) -> float | None:
        """Seconds from the end of the fault to the next final caption or the engine listening again."""
        if self.fault_end is None:
            return None
        for t, e in self.events:
            if t < self.fault_end:
                continue
            if isinstance(e, Final) or (isinstance(e, Status) and e.state is EngineState.LISTENING):
                return t - self.fault_end
        return None


def compare(
    expected: list[tuple[str, float, float]], got: list[tuple[str, float, float]], *, same_text: bool, tol: float
) -> tuple[list[tuple[str, float, float]], list[tuple[str, float, float]]]:
    """``(lost, extra)``: lines of ``expected`` with no match in ``got``, and lines of ``got`` left over.

    A match has the same source times within ``tol`` (and the same text if ``same_text``); each line matches once,
    so a line committed twice is extra."""
    left = list(got)
    lost = []
    for text, start, end in expected:
        match = next(
            (
                line
                for line in left
                if abs(line[1] - start) <= tol and abs(line[2] - end) <= tol and (line[0] == text or not same_text)
            ),
            None,
        )
        if match is None:
            lost.append((text, start, end))
        else:
            left.remove(match)
    return lost, left


Scenario = Callable[[Target, Run], Awaitable[float | None]]
"""Runs a fault on the target's proxy while the session captions (into the run); returns the loop time the
fault ended."""


async def caption(
    tgt: Target,
    clip: Path,
    scenario: Scenario | None = None,
    *,
    endpoint: Callable[[int], str] | None = None,
    socket: SocketSettings | None = FAST_SOCKET,
    end_wait: float | None = None,
    setup: Callable[[CloudEngine], None] | None = None,
    timeout: float = 40.0,
) -> Run:
    """Caption ``clip`` through ``tgt``'s proxy (or, per attempt, ``endpoint(attempt)``) while ``scenario`` runs.

    ``socket``: the engine's socket settings (``None``: the engine's defaults); ``end_wait``: how long the engine
    waits for the service to confirm the end of the session once the audio has ended (``None``: its default);
    ``setup``: anything else to set on each engine."""
    run = Run(same_text=tgt.same_text, tolerance=tgt.tolerance)
    loop = asyncio.get_running_loop()
    attempts = 0

    def factory(opts: EngineOptions) -> Engine:
        nonlocal attempts
        attempts += 1
        if endpoint is not None:
            opts = dataclasses.replace(opts, endpoint=endpoint(attempts))
        if end_wait is None:
            engine = tgt.engine_cls(opts, tgt.credentials)
        else:
            engine = with_end_wait(tgt.engine_cls, opts, tgt.credentials, end_wait)
        if socket is not None:
            engine.socket = socket
        if setup is not None:
            setup(engine)
        return engine

    session = Session(
        WavFileSource(clip, tgt.engine_cls.capabilities.sample_rate, realtime=True),
        factory,
        tgt.options(tgt.proxy.url()),
        transcript=run.transcript,
        on_event=lambda e: run.events.append((loop.time(), e)),
        retry=RETRY,
    )
    faults = asyncio.ensure_future(scenario(tgt, run)) if scenario is not None else None
    try:
        await asyncio.wait_for(session.run(), timeout)
    except Exception as exc:
        run.error = exc
    if faults is not None:
        run.fault_end = await faults
    return run
