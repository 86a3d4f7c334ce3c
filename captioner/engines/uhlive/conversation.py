"""Uhlive Stream Conversation (the "H2H" API over Phoenix channels): live captions with interim results.

Protocol (frames built and parsed by the official ``uhlive`` SDK, sans-IO; the
websocket I/O is ours, through :mod:`captioner.engines.wire`; facts in
``docs/protocols/uhlive.md``):

* connect to ``{endpoint}/socket/websocket?jwt=TOKEN&vsn=2.0.0``;
* ``phx_join`` the topic ``conversation:<identifier>@<conversation>`` with the
  model (language), country, ``interim_results`` and ``rescoring`` on;
* stream 8 kHz PCM16 as binary Phoenix push frames (``audio_chunk``), 100 ms
  each, at real time;
* ``audio_words_decoded`` → :class:`Interim` of that utterance id,
  ``audio_segment_decoded`` → :class:`Final`, ``audio_segment_normalized`` →
  :class:`Final` with the same id (replaces the text with the formatted one);
* at the end ``phx_leave``, then keep reading until *our* ``speaker_left`` so
  the last words arrive; then close.

Replies on other topics (e.g. a Phoenix heartbeat reply on ``phoenix``) are
skipped before the SDK sees them (its ``receive`` asserts the topic).
Websocket pings keep the connection alive through silences.

This module owns the websocket runner and the engine class; the pure part (options,
message filter, times, captions) is :mod:`captioner.engines.uhlive.conversation_protocol`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent, EngineState, Final, Interim, Status
from captioner.engines.base import Credentials, Engine, EngineFailure, EngineOptions
from captioner.engines.uhlive import common
from captioner.engines.uhlive import conversation_protocol as protocol
from captioner.engines.uhlive.auth import access_token, token_client_id
from captioner.engines.uhlive.common import AUTH_ENDPOINT_OPTION, AVAILABLE, NO_WORD_BOOST_NOTE, OWNER
from captioner.engines.uhlive.conversation_protocol import COUNTRY_OPTION, MODEL_OPTION, NO_SILENCE_NOTE
from captioner.engines.wire.connect import SlowLink
from captioner.engines.wire.pacer import Pacer
from uhlive.stream.conversation import Conversation, Unknown
from uhlive.stream.conversation.error import UhliveError
from uhlive.stream.conversation.events import AudioSpeechDecoded

log = logging.getLogger(__name__)

WHAT = "the Uhlive Conversation server"


class UhliveConversationEngine(Engine):
    """Live captions with Uhlive Stream Conversation."""

    id = "uhlive"
    name = "Uhlive Stream Conversation"
    # The advanced settings the settings panel shows (same keys as `--option KEY=VALUE`).
    advanced_options = (AUTH_ENDPOINT_OPTION, MODEL_OPTION, COUNTRY_OPTION)
    capabilities = common.uhlive_capabilities(
        interim_results=True,
        live_update=False,
        silence_threshold=False,
        notes=f"{NO_WORD_BOOST_NOTE}; {NO_SILENCE_NOTE}",
    )

    socket = common.SOCKET
    """The websocket's heartbeat (it notices a dead link) and timeouts (the tests scale them down)."""
    join_timeout = 15.0
    """Seconds to wait for the reply to ``phx_join``."""
    leave_timeout = 15.0
    """Seconds to wait for our ``speaker_left`` after ``phx_leave`` (the last words arrive before it)."""

    def __init__(self, options: EngineOptions, credentials: Credentials | None = None) -> None:
        super().__init__(options, credentials)
        lang, country = common.split_language(options.language)
        self.model = MODEL_OPTION.text(options.extra, OWNER) or lang
        self.country = (COUNTRY_OPTION.text(options.extra, OWNER) or country).lower()
        self.base_url = common.api_base(options)
        self.auth_url = common.auth_endpoint(options)
        self.speaker = options.extra.get("speaker") or "captioner"
        self.slow_link = SlowLink()
        """Says once when the network is too slow for the audio (the tests lower its threshold)."""

    def carry_over(self, previous: Engine) -> None:
        """A reconnect: the slow network, if it was said, is not said again."""
        if isinstance(previous, type(self)):
            self.slow_link = previous.slow_link

    @classmethod
    def check_available(cls) -> tuple[bool, str]:
        return True, AVAILABLE

    def endpoint_silence(self) -> float:
        """The service decides where a line ends (not exposed by the API); 1 s is assumed."""
        return 1.0

    def validate(self) -> list[str]:
        warnings = common.word_boost_warnings(self.capabilities, self.options)
        if self.options.silence_ms is not None:
            warnings.append(f"{NO_SILENCE_NOTE}; the silence setting is ignored (uhlive-h2b has one)")
        return warnings

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        token = await access_token(self.credentials, self.auth_url)
        identifier = (
            self.options.extra.get("identifier") or self.credentials.client_id or token_client_id(token) or "captioner"
        )
        conversation = Conversation(identifier, f"captioner-{uuid.uuid4().hex[:12]}", self.speaker)
        query = urllib.parse.urlencode({"jwt": token, "vsn": "2.0.0"})
        ws = await common.open_socket(f"{self.base_url}/socket/websocket?{query}", WHAT, token, settings=self.socket)
        sender: asyncio.Task[None] | None = None
        try:
            timeline = protocol.Timeline(origin_ms=int(time.time() * 1000))
            await self._join(ws, conversation, timeline)
            yield Status(
                engine=self.id, state=EngineState.LISTENING, message=f"listening ({self.model}-{self.country})"
            )
            state = protocol.SendState()
            sender = asyncio.create_task(self._send(ws, conversation, audio, timeline, state))
            async for event in self._receive(ws, conversation, timeline, state, sender):
                yield event
        finally:
            await common.shut(ws, sender)

    # -- protocol ----------------------------------------------------------------------------
    async def _join(self, ws: ClientConnection, conversation: Conversation, timeline: protocol.Timeline) -> None:
        await common.send_text(
            ws,
            conversation.join(
                model=self.model,
                country=self.country,
                readonly=False,
                interim_results=True,
                rescoring=True,
                origin=timeline.origin_ms,
                audio_codec="linear",
            ),
            WHAT,
        )
        deadline = asyncio.get_running_loop().time() + self.join_timeout
        while conversation.left:  # "left" is the SDK's idle state: not joined yet
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise EngineFailure(f"{WHAT} did not answer the join request", retryable=True)
            try:
                raw = await asyncio.wait_for(ws.recv(), remaining)
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                raise common.closed_failure(exc, WHAT, "while joining") from None
            try:
                protocol.decode(raw, conversation)
            except UhliveError as exc:
                raise EngineFailure(
                    f"Uhlive refused to join the conversation: {exc}", retryable=False, refused=True
                ) from None

    async def _send(
        self,
        ws: ClientConnection,
        conversation: Conversation,
        audio: AsyncIterator[AudioChunk],
        timeline: protocol.Timeline,
        state: protocol.SendState,
    ) -> None:
        async with common.sending(ws):
            async for frame in common.framed(audio, Pacer.steady()):
                timeline.sent.extend(frame.segments)
                await ws.send(conversation.send_audio_chunk(frame.payload))
                state.bytes_sent += len(frame.payload)
            # Mark the leave before sending it: the reply may be read before this task resumes.
            state.leave_deadline = asyncio.get_running_loop().time() + self.leave_timeout
            state.leaving.set()
            await ws.send(conversation.leave())

    async def _receive(
        self,
        ws: ClientConnection,
        conversation: Conversation,
        timeline: protocol.Timeline,
        state: protocol.SendState,
        sender: asyncio.Task[None],
    ) -> AsyncIterator[EngineEvent]:
        open_lines: dict[str, Interim] = {}
        loop = asyncio.get_running_loop()
        while True:
            timeout = 1.0
            if state.leave_deadline is not None:
                timeout = state.leave_deadline - loop.time()
                if timeout <= 0:
                    raise EngineFailure(f"{WHAT} did not confirm the end of the conversation", retryable=True)
            notice = common.slow_link_notice(self.slow_link, ws, WHAT, self.id)
            if notice is not None:
                yield notice
            try:
                raw = await asyncio.wait_for(ws.recv(), min(timeout, 1.0))
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                await common.raise_sender_error(sender)
                raise common.closed_failure(exc, WHAT) from None
            try:
                decoded = protocol.decode(raw, conversation)
            except UhliveError as exc:
                raise EngineFailure(f"Uhlive Conversation error: {exc}", retryable=True) from None
            if decoded is None:
                continue
            name, event = decoded
            if name == "phx_close" and not state.leaving.is_set():
                raise EngineFailure(f"{WHAT} closed the conversation", retryable=True)
            if state.leaving.is_set() and conversation.left:
                break  # our speaker_left: every transcript of ours has arrived
            if isinstance(event, AudioSpeechDecoded):
                line = protocol.line(event, timeline, speaker=self.speaker, engine_id=self.id)
                if line is None:
                    continue
                if isinstance(line, Interim):
                    open_lines[line.line_id] = line
                else:
                    open_lines.pop(line.line_id, None)
                yield line
            elif isinstance(event, Unknown):
                log.info("skipping unknown Uhlive event %r", name)
            else:
                log.debug("Uhlive event %r", name)
        # The service should have finalised every line; commit any it left open rather than lose it.
        for line in open_lines.values():
            yield Final(
                line_id=line.line_id, text=line.text, engine=self.id, start=line.start, end=line.end, formatted=False
            )
        with contextlib.suppress(Exception):
            await ws.close()
