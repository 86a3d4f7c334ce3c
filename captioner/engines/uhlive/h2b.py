"""Uhlive Stream H2B (the recognition / "voicebot" API): one recognition after another.

Protocol (commands built and events parsed by the official ``uhlive`` SDK's
sans-IO :class:`~uhlive.stream.recognition.Recognizer`; the websocket I/O is ours,
through :mod:`captioner.engines.wire`; facts in ``docs/protocols/uhlive.md``):

* connect to ``{endpoint}/bots`` with ``Authorization: bearer TOKEN``;
* ``OPEN`` (codec ``linear``) → ``OPENED``; ``SET-PARAMS`` (language, the
  silence threshold as ``speech_complete_timeout``, long ``no_input_timeout``
  and ``recognition_timeout``) → ``PARAMS-SET``;
* ``RECOGNIZE builtin:speech/transcribe`` → ``RECOGNITION-IN-PROGRESS`` →
  ``START-OF-INPUT`` (a :class:`SpeechStarted` and a "…" interim) →
  ``RECOGNITION-COMPLETE`` (a :class:`Final`), and at once the next
  ``RECOGNIZE``. Audio flows continuously; a frame is only held back for the
  instant between a ``RECOGNITION-COMPLETE`` and the next ``RECOGNIZE`` being
  written, so every frame the server gets belongs to a recognition.
* ``NoInputTimeout`` / ``NoMatch`` are normal in silence: re-armed silently.
* At the end of the audio: if someone is speaking, silence is sent (at real
  time) until the service completes the recognition; then ``STOP`` if needed
  and ``CLOSE`` → ``CLOSED``.

There are no interim words: this API returns one result per recognition.

This module owns the websocket runner and the engine class (options, capabilities, live updates);
the pure protocol part (parameters, session state, event parsing, results) is in
:mod:`captioner.engines.uhlive.h2b_protocol`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, EngineState, Final, Interim, SpeechStarted, Status
from captioner.engines.base import Credentials, Engine, EngineFailure, EngineOptions
from captioner.engines.uhlive import common
from captioner.engines.uhlive.auth import access_token
from captioner.engines.uhlive.common import AUTH_ENDPOINT_OPTION, AVAILABLE, FRAME_BYTES, FRAME_MS, NO_WORD_BOOST_NOTE
from captioner.engines.uhlive.h2b_protocol import (
    GRAMMAR,
    H2B_OPTIONS,
    SPEAKING,
    SessionState,
    describe,
    parse_event,
    recognition_final,
    replay_floor,
    session_params,
)
from captioner.engines.wire.connect import SlowLink
from captioner.engines.wire.framer import Frame
from captioner.engines.wire.pacer import Pacer
from uhlive.stream.recognition import (
    Closed,
    InvalidParamValue,
    MethodFailed,
    MethodNotAllowed,
    MethodNotValid,
    MissingParam,
    Opened,
    ParamsSet,
    ProtocolError,
    RecognitionComplete,
    RecognitionInProgress,
    Recognizer,
    StartOfInput,
    Stopped,
    build_connection_request,
)
from uhlive.stream.recognition.events import Event

log = logging.getLogger(__name__)

WHAT = "the Uhlive H2B server"


class UhliveH2BEngine(Engine):
    """Captions from Uhlive Stream H2B: a final line per recognition, a "speaking…" indicator, no interim words."""

    id = "uhlive-h2b"
    name = "Uhlive Stream H2B"
    # The advanced settings the settings panel shows (same keys as `--option KEY=VALUE`).
    advanced_options = (AUTH_ENDPOINT_OPTION, *H2B_OPTIONS)
    capabilities = common.uhlive_capabilities(
        interim_results=False,
        live_update=True,
        silence_threshold=True,
        notes=(
            f"{NO_WORD_BOOST_NOTE}; no interim words: each line appears when the speaker pauses "
            "(a 'speaking…' indicator shows before); the silence threshold is its speech_complete_timeout"
        ),
    )

    socket = common.SOCKET
    """The websocket's heartbeat (it notices a dead link) and timeouts (the tests scale them down)."""
    open_timeout = 15.0
    """Seconds to wait for each set-up reply (OPENED, PARAMS-SET)."""
    close_timeout = 10.0
    """Seconds to wait for the end of the session (last result, STOPPED, CLOSED) after the audio ended."""

    def __init__(self, options: EngineOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials)
        self.base_url = common.api_base(options)
        self.auth_url = common.auth_endpoint(options)
        self._params = session_params(options)
        self._override: dict[str, Any] = {}
        self._utterance = 0
        self.slow_link = SlowLink()
        """Says once when the network is too slow for the audio (the tests lower its threshold)."""

    def carry_over(self, previous: Engine) -> None:
        """A reconnect: the slow network, if it was said, is not said again."""
        if isinstance(previous, type(self)):
            self.slow_link = previous.slow_link

    @classmethod
    def check_available(cls) -> tuple[bool, str]:
        return True, AVAILABLE

    def validate(self) -> list[str]:
        return common.word_boost_warnings(self.capabilities, self.options)

    def endpoint_silence(self) -> float:
        """``speech_complete_timeout``: the silence that completes a recognition."""
        ms = self._override.get("speech_complete_timeout", self._params["speech_complete_timeout"])
        return float(ms) / 1000.0

    async def update(self, options: EngineOptions) -> bool:
        """Language and silence threshold apply from the next recognition; anything else needs a restart."""
        if options.endpoint != self.options.endpoint or dict(options.extra) != dict(self.options.extra):
            return False
        try:
            params = session_params(options)
        except ValueError:
            return False
        self._override = {k: v for k, v in params.items() if self._params.get(k) != v}
        self.options = options
        return True

    # -- session -----------------------------------------------------------------------------
    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        token = await access_token(self.credentials, self.auth_url)
        _sdk_url, headers = build_connection_request(token)
        ws = await common.open_socket(f"{self.base_url}/bots", WHAT, token, headers, settings=self.socket)
        recognizer = Recognizer()
        state = SessionState()
        sender: asyncio.Task[None] | None = None
        try:
            opened_at = time.monotonic()
            await common.send_text(
                ws,
                recognizer.open(
                    custom_id=self.options.extra.get("custom_id", "captioner"),
                    channel_id="captioner",
                    audio_codec="linear",
                ),
                WHAT,
            )
            await self._expect(ws, recognizer, Opened)
            state.measured(time.monotonic() - opened_at)
            await common.send_text(ws, recognizer.set_params(**self._params), WHAT)
            await self._expect(ws, recognizer, ParamsSet)
            yield Status(
                engine=self.id, state=EngineState.LISTENING, message=f"listening ({self._params['speech_language']})"
            )
            sender = asyncio.create_task(self._send_audio(ws, recognizer, audio, state))
            await self._recognize(ws, recognizer, state)
            async for event in self._read(ws, recognizer, state, sender):
                yield event
        except ProtocolError as exc:  # a command the SDK's state machine refuses: our bug, never a crash
            log.error("Uhlive H2B: a command out of turn (%s)", exc)
            raise EngineFailure(f"Uhlive H2B protocol error (a Captioner bug): {exc}", retryable=True) from None
        finally:
            await common.shut(ws, sender)

    async def _expect(self, ws: ClientConnection, recognizer: Recognizer, kind: type[Event]) -> Event:
        """Read until an event of ``kind``; a failure event here means the service refused our settings."""
        deadline = asyncio.get_running_loop().time() + self.open_timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                raw = await asyncio.wait_for(ws.recv(), max(remaining, 0.0))
            except TimeoutError:
                raise EngineFailure(f"{WHAT} did not answer ({kind.__name__})", retryable=True) from None
            except ConnectionClosed as exc:
                raise common.closed_failure(exc, WHAT, "while opening the session") from None
            event = parse_event(recognizer, raw)
            if event is None:
                continue
            if isinstance(event, kind):
                return event
            if isinstance(event, InvalidParamValue | MissingParam | MethodFailed | MethodNotValid):
                raise EngineFailure(
                    f"Uhlive refused the session settings: {describe(event)}", retryable=False, refused=True
                )
            if isinstance(event, MethodNotAllowed):
                raise EngineFailure(f"Uhlive H2B protocol error: {describe(event)}", retryable=True)
            log.debug("Uhlive H2B event while waiting for %s: %s", kind.__name__, type(event).__name__)

    async def _recognize(
        self, ws: ClientConnection, recognizer: Recognizer, state: SessionState, floor: float = 0.0
    ) -> float:
        """Start the next recognition and let audio flow into it: first what reached the server after the last
        result (about a round trip of audio, :meth:`SessionState.replay`), then the live audio. Returns the
        source time the new recognition's audio starts at (its lines cannot start earlier)."""
        await common.send_text(ws, recognizer.recognize(GRAMMAR, **self._override), WHAT)
        state.recognize_at = time.monotonic()
        start = state.sent_until
        for frame, pcm in state.replay(floor):
            start = min(start, frame.start)
            await common.send_text(ws, recognizer.send_audio_chunk(pcm), WHAT)
        state.armed.set()
        return start

    async def _send_audio(
        self, ws: ClientConnection, recognizer: Recognizer, audio: AsyncIterator[AudioChunk], state: SessionState
    ) -> None:
        pacer = Pacer.steady()
        async with common.sending(ws):
            async for frame in common.framed(audio, pacer):
                await self._send_frame(ws, recognizer, state, frame.payload, frame)
            # Someone still speaking: send silence (as a microphone would) until the service ends the line.
            limit = (int(self._params["speech_complete_timeout"]) + 3000) / 1000.0
            silence = bytes(FRAME_BYTES)
            while state.speech_open and state.pad_seconds < limit:
                await pacer.wait()
                pacer.sent(FRAME_MS / 1000)
                await self._send_frame(ws, recognizer, state, silence, None)
                state.pad_seconds += FRAME_MS / 1000
            state.audio_done.set()

    async def _send_frame(
        self, ws: ClientConnection, recognizer: Recognizer, state: SessionState, pcm: bytes, frame: Frame | None
    ) -> None:
        """Send ``pcm`` into the current recognition: the audio of ``frame``, or silence (``None``)."""
        await state.armed.wait()
        if frame is not None:
            state.sending(frame)
        await ws.send(recognizer.send_audio_chunk(pcm))
        state.bytes_sent += len(pcm)
        if frame is not None:
            state.sent(frame, pcm)

    async def _read(
        self, ws: ClientConnection, recognizer: Recognizer, state: SessionState, sender: asyncio.Task[None]
    ) -> AsyncIterator[EngineEvent]:
        loop = asyncio.get_running_loop()
        done_waiter = asyncio.ensure_future(state.audio_done.wait())
        recv: asyncio.Future[str | bytes] | None = None
        finishing = False
        stop_pending = False
        deadline: float | None = None
        recognition_from = 0.0
        shown: str | None = None  # line id of the "…" interim on screen
        try:
            while True:
                notice = common.slow_link_notice(self.slow_link, ws, WHAT, self.id)
                if notice is not None:
                    yield notice
                if recv is None:
                    recv = asyncio.ensure_future(ws.recv())
                waiting: set[asyncio.Future[Any]] = {recv} if finishing else {recv, done_waiter}
                timeout = None if deadline is None else max(0.0, deadline - loop.time())
                done, _ = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    # Its last result may be stuck in a dead link: never end as if everything were final.
                    # The session captions the audio since the last final again (when it still runs).
                    raise EngineFailure(f"{WHAT} did not confirm the end of the session in time", retryable=True)
                if done_waiter in done and not finishing:
                    finishing = True
                    deadline = loop.time() + self.close_timeout
                    if not state.armed.is_set():
                        await common.send_text(ws, recognizer.close(), WHAT)
                    elif state.in_progress:
                        await common.send_text(ws, recognizer.stop(), WHAT)
                    else:
                        # RECOGNIZE is on its way: the SDK (like the server) takes STOP only once the
                        # recognition is in progress, so it goes when RECOGNITION-IN-PROGRESS arrives.
                        stop_pending = True
                if recv not in done:
                    continue
                try:
                    raw = recv.result()
                except ConnectionClosed as exc:
                    await common.raise_sender_error(sender)
                    raise common.closed_failure(exc, WHAT) from None
                finally:
                    recv = None
                event = parse_event(recognizer, raw)
                if event is None:
                    continue
                if isinstance(event, RecognitionInProgress):
                    state.in_progress = True
                    state.measured(time.monotonic() - state.recognize_at)
                    if stop_pending:
                        stop_pending = False
                        await common.send_text(ws, recognizer.stop(), WHAT)
                elif isinstance(event, StartOfInput):
                    state.speech_open = True
                    state.speech_from = state.sent_until
                    shown = str(self._utterance)
                    at = state.sent_until if state.audio_start is not None else None
                    yield SpeechStarted(engine=self.id, at=at, line_id=shown)
                    yield Interim(line_id=shown, text=SPEAKING, engine=self.id, start=at, end=None)
                elif isinstance(event, RecognitionComplete):
                    state.armed.clear()
                    state.in_progress = stop_pending = False
                    state.speech_open = False
                    lo = recognition_from
                    recognition_from = state.sent_until
                    if finishing:
                        await common.send_text(ws, recognizer.close(), WHAT)
                    else:
                        # At once: no audio between the two. The next line may start in the audio sent again.
                        floor = replay_floor(event.completion_cause, self.endpoint_silence())
                        recognition_from = await self._recognize(ws, recognizer, state, floor)
                    final = recognition_final(
                        event,
                        raw,
                        state,
                        lo,
                        shown,
                        next_id=str(self._utterance),
                        engine_id=self.id,
                        silence=self.endpoint_silence(),
                    )
                    shown = None
                    if final is not None:
                        self._utterance += 1
                        yield final
                elif isinstance(event, Stopped):
                    state.armed.clear()
                    state.in_progress = False
                    state.speech_open = False
                    await common.send_text(ws, recognizer.close(), WHAT)
                elif isinstance(event, Closed):
                    if shown is not None:
                        yield Final(line_id=shown, text="", engine=self.id, start=None, end=None)
                    return
                elif isinstance(event, MethodNotAllowed) and finishing:
                    # A STOP that crossed the last RECOGNITION-COMPLETE: nothing to stop any more.
                    log.debug("Uhlive H2B: %s", describe(event))
                elif isinstance(
                    event, MethodNotAllowed | MethodNotValid | MethodFailed | InvalidParamValue | MissingParam
                ):
                    raise EngineFailure(f"Uhlive H2B error: {describe(event)}", retryable=True)
                else:
                    log.debug("Uhlive H2B event %s", type(event).__name__)
        finally:
            done_waiter.cancel()
            if recv is not None:
                recv.cancel()
