"""The caption feed server: HTTP pages and the ``/events`` WebSocket on one port, on the caller's asyncio loop.

The ``websockets`` package (already used by the cloud engines) serves both: its ``process_request`` hook
answers plain ``GET`` requests with the pages of :mod:`~captioner.feed.static` and lets WebSocket upgrades
of ``/events`` through, after :class:`~captioner.feed.security.Guard` has checked them. :class:`FeedServer`
is a view like the CLI's writers: give it every caption event (:meth:`FeedServer.event`) and every
transcript change (:meth:`FeedServer.change`). Each is encoded once and put on every client's bounded
queue without waiting; a client whose queue is full is disconnected at once, so a client that reads
slowly or not at all never slows captioning. Call it from the loop's thread only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import weakref
from collections.abc import Callable
from urllib.parse import parse_qs, quote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from captioner import __version__
from captioner.captions.events import CaptionEvent, EngineState
from captioner.captions.transcript import Change, Line, Transcript
from captioner.feed import schema
from captioner.feed.security import Address, Guard, Limits
from captioner.feed.static import page_response, text_response
from captioner.settings import Appearance

log = logging.getLogger(__name__)

EVENTS_PATH = "/events"
SEND_BUFFER_BYTES = 64 * 1024
"""The kernel's send buffer of each client: without it the system would let megabytes (minutes of captions)
pile up for a client that stopped reading before the feed noticed."""
_ENGINE_STATES = {s.value for s in EngineState}


class FeedError(Exception):
    """The feed cannot start (the port is taken, the address is not this machine's…); a message for the user."""


class _Client:
    """One WebSocket client: a bounded queue of encoded messages and the task that sends them."""

    def __init__(self, connection: ServerConnection, size: int) -> None:
        self.connection = connection
        self.queue: asyncio.Queue[str] = asyncio.Queue(size)
        self.sender: asyncio.Task[None] | None = None

    def offer(self, text: str) -> bool:
        """Queue ``text``; ``False`` when the client is too far behind."""
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            return False
        return True

    async def send_all(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.connection.send(await self.queue.get())


class FeedServer:
    """Serves the caption page, the transcript page and the event feed of one transcript."""

    def __init__(
        self,
        address: Address,
        *,
        transcript: Transcript,
        token: str | None = None,
        style: Appearance | None = None,
        limits: Limits | None = None,
        present: Callable[[Line], Line] | None = None,
    ) -> None:
        self.address = address
        self.present = present
        """How a transcript line is shown (e.g. with profanity masked) when it is replayed to a late joiner;
        live changes and events arrive already as views show them."""
        self.transcript = transcript
        self.token = token
        self.style = style if style is not None else Appearance()
        self.limits = limits if limits is not None else Limits()
        self.guard = Guard(address, token)
        self.dropped_clients = 0
        """Clients disconnected because they fell :attr:`Limits.queue_messages` behind."""
        self._server: Server | None = None
        self._clients: set[_Client] = set()
        self._admitted: weakref.WeakSet[ServerConnection] = weakref.WeakSet()
        self._status: schema.Message | None = None

    # -- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen; raises :class:`FeedError` when the address cannot be used."""
        if self._server is not None:
            return
        try:
            self._server = await serve(
                self._handle,
                self.address.host,
                self.address.port,
                process_request=self._process_request,
                compression=None,
                max_size=self.limits.max_message_bytes,
                server_header=f"Captioner/{__version__}",
                close_timeout=1.0,
            )
        except OSError as exc:
            host = self.address.host
            where = f"[{host}]:{self.address.port}" if ":" in host else f"{host}:{self.address.port}"
            why = exc.strerror or str(exc)
            raise FeedError(f"cannot serve the caption feed at {where}: {why}") from None
        log.info("caption feed at %s", self.url("/", with_token=False))

    async def stop(self, *, drain: float = 1.0) -> None:
        """Stop listening and close every connection (clients are told the server is going away), after
        giving the clients up to ``drain`` seconds to receive what is queued for them (the last captions)."""
        server, self._server = self._server, None
        if server is None:
            return
        deadline = asyncio.get_running_loop().time() + drain
        while any(not c.queue.empty() for c in self._clients) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
        server.close()
        await server.wait_closed()
        self._clients.clear()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        """The port listened on (the one chosen by the system when the address asked for port 0)."""
        if self._server is not None:
            for sock in self._server.sockets:
                return int(sock.getsockname()[1])
        return self.address.port

    def url(self, path: str = "/", *, with_token: bool = True) -> str:
        """The address of a page (or, with ``ws://``, of the feed) on this machine, with the token."""
        url = f"http://{self.address.url_host}:{self.port}{path}"
        if with_token and self.token is not None:
            url += "?token=" + quote(self.token, safe="")
        return url

    @property
    def events_url(self) -> str:
        return "ws" + self.url(EVENTS_PATH).removeprefix("http")

    @property
    def clients(self) -> int:
        return len(self._clients)

    # -- the view --------------------------------------------------------------------------------
    def event(self, event: CaptionEvent) -> None:
        message = schema.event_message(event)
        if message is None:
            return
        if message.get("type") == "status" and message.get("state") in _ENGINE_STATES:
            self._status = message
        self._broadcast(message)

    def change(self, change: Change) -> None:
        message = schema.change_message(change)
        if message is not None:
            self._broadcast(message)

    def set_style(self, style: Appearance) -> None:
        """The app's caption appearance changed: pages that follow it restyle themselves."""
        if style != self.style:
            self.style = style
            self._broadcast(schema.style_message(style))

    def _broadcast(self, message: schema.Message) -> None:
        if not self._clients:
            return
        text = schema.encode(message)
        for client in list(self._clients):
            if not client.offer(text):
                self._drop(client)

    def _drop(self, client: _Client) -> None:
        """Disconnect a client that fell behind: at once (it is not reading, so a closing handshake would wait)."""
        self._clients.discard(client)
        self.dropped_clients += 1
        log.warning("caption feed: a client fell %d messages behind and was disconnected", client.queue.maxsize)
        client.connection.transport.abort()

    # -- connections -----------------------------------------------------------------------------
    def _open_connections(self) -> int:
        return sum(1 for c in self._admitted if c.state is not State.CLOSED)

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.method != "GET":
            return text_response(405, "only GET is served here", extra={"Allow": "GET"})
        target = request.path
        path = urlsplit(target).path
        upgrade = path == EVENTS_PATH
        refusal = self.guard.check(target, request.headers, upgrade=upgrade)
        if refusal is not None:
            extra = {"WWW-Authenticate": 'Bearer realm="captioner"'} if refusal.status == 401 else None
            return text_response(refusal.status, refusal.reason, extra=extra)
        if not upgrade:
            return page_response(path) or text_response(404, "not found")
        if "websocket" not in request.headers.get("Upgrade", "").lower():
            return text_response(426, "this is the caption feed: connect to it with a WebSocket client")
        if self._open_connections() >= self.limits.max_clients:
            return text_response(503, f"too many clients (at most {self.limits.max_clients})")
        self._admitted.add(connection)
        sock = connection.transport.get_extra_info("socket")
        if sock is not None:  # a small, fixed send buffer: a client that stops reading backs up (and is dropped) soon
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        return None

    def _history(self, target: str) -> int:
        values = parse_qs(urlsplit(target).query).get("history")
        limits = self.limits
        if not values or not values[0].isdigit():
            return limits.history
        return min(int(values[0]), limits.max_history)

    def _replay(self, history: int) -> list[schema.Message]:
        finals = self.transcript.finals[-history:] if history else []
        live = self.transcript.live
        if self.present is not None:
            finals, live = [self.present(x) for x in finals], [self.present(x) for x in live]
        return schema.replay_messages(finals, live, self._status)

    async def _handle(self, connection: ServerConnection) -> None:
        replay = self._replay(self._history(connection.request.path if connection.request else ""))
        client = _Client(connection, self.limits.queue_messages + len(replay) + 1)
        for message in (schema.hello(replay=len(replay), style=self.style), *replay):
            client.offer(schema.encode(message))
        self._clients.add(client)
        client.sender = asyncio.create_task(client.send_all(), name="captioner-feed-client")
        try:
            async for _message in connection:
                pass  # clients have nothing to say; one that sends more than max_size is disconnected
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            client.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await client.sender
