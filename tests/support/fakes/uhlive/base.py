"""What both Uhlive websocket fakes share: the server, per-connection statistics, the network, the idle close.

* :class:`Link` is the network between the client and a fake: with ``latency`` (a round trip, in
  seconds) every message takes half of it each way, in order, so a reply can arrive after the
  client's next step, as on a real network.
* :class:`_Traffic` notes when a connection last received anything, websocket pings included;
  with ``idle_timeout`` a fake closes a connection that has been silent that long (the service
  does after 60 s; pings keep a connection alive, the examples ping every 15 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Generic, Self, TypeVar

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame
from websockets.http11 import Request, Response

IDLE_CLOSE = (1001, "idle timeout")
"""How the fakes close an idle connection (the real code and reason are not documented)."""


@dataclass
class ConnStats:
    """What one websocket connection carried."""

    bytes: int = 0
    frames: list[int] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    texts: list[Any] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)
    closed_by_client: bool = False
    idle_closed: bool = False
    violations: list[str] = field(default_factory=list)


StatsT = TypeVar("StatsT", bound=ConnStats)


class _Traffic(ServerConnection):
    """A server connection that notes when it last received a frame (data, ping or pong)."""

    last_frame = 0.0

    def process_event(self, event: Any) -> None:
        if isinstance(event, Frame):
            self.last_frame = time.monotonic()
        super().process_event(event)


class Link:
    """Messages to and from one client, each delayed by ``delay`` seconds (one way), in order."""

    def __init__(self, ws: ServerConnection, delay: float) -> None:
        self.ws, self.delay = ws, delay
        self._out: asyncio.Queue[tuple[float, str | bytes]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        if delay > 0:
            self._tasks.append(asyncio.create_task(self._write()))

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await self._out.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            try:
                await self.ws.send(data)
            except ConnectionClosed:
                return
            finally:
                self._out.task_done()

    async def send(self, data: str | bytes) -> None:
        if self.delay <= 0:
            await self.ws.send(data)
        else:
            self._out.put_nowait((asyncio.get_running_loop().time() + self.delay, data))

    async def messages(self) -> AsyncIterator[str | bytes]:
        """What the client sent, as the fake receives it (``delay`` later)."""
        if self.delay <= 0:
            async for raw in self.ws:
                yield raw
            return
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[tuple[float, str | bytes | None]] = asyncio.Queue()

        async def read() -> None:
            try:
                async for raw in self.ws:
                    inbox.put_nowait((loop.time() + self.delay, raw))
            finally:
                inbox.put_nowait((loop.time() + self.delay, None))

        self._tasks.append(asyncio.create_task(read()))
        while True:
            due, item = await inbox.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if item is None:
                return
            yield item

    async def close(self, code: int, reason: str) -> None:
        """Close after what was already sent has arrived."""
        if self.delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._out.join(), 5)
        await self.ws.close(code, reason)

    def watch_idle(self, timeout: float, stats: ConnStats) -> None:
        """Close the connection once it has received nothing (not even a ping) for ``timeout`` seconds."""

        async def watch() -> None:
            ws = self.ws
            assert isinstance(ws, _Traffic)
            ws.last_frame = ws.last_frame or time.monotonic()
            while True:
                await asyncio.sleep(max(0.01, ws.last_frame + timeout - time.monotonic()))
                if time.monotonic() - ws.last_frame >= timeout:
                    stats.idle_closed = True
                    await ws.close(*IDLE_CLOSE)
                    return

        self._tasks.append(asyncio.create_task(watch()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task


class _WsFake(Generic[StatsT]):
    path = "/"

    def __init__(self, tokens: set[str] | None = None) -> None:
        self.tokens: set[str] = tokens if tokens is not None else set()
        self.connections: list[StatsT] = []
        self.rejected: list[int] = []
        self.drop_after_bytes: int | None = None
        """Abort (no close frame) the first connection after this many audio bytes."""
        self.latency = 0.0
        """The network's round trip (s): each message arrives half of it after it was sent."""
        self.idle_timeout: float | None = None
        """Close a connection that received nothing for this long (the service: 60 s)."""
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    def token_ok(self, token: str | None) -> bool:
        return bool(token) and token in self.tokens

    def link(self, ws: ServerConnection, stats: StatsT) -> Link:
        """The network for one connection (with the fake's latency and idle close)."""
        link = Link(ws, self.latency / 2)
        if self.idle_timeout is not None:
            link.watch_idle(self.idle_timeout, stats)
        return link

    def _auth(self, connection: ServerConnection, request: Request) -> Response | None:
        raise NotImplementedError

    async def _handler(self, ws: ServerConnection) -> None:
        raise NotImplementedError

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if urllib.parse.urlsplit(request.path).path != self.path:
            return connection.respond(HTTPStatus.NOT_FOUND, "not found\n")
        return self._auth(connection, request)

    async def __aenter__(self) -> Self:
        # The server's own websockets log (request lines with tokens) stays out of the captured logs,
        # so that the secrets test sees only what the client logs.
        quiet = logging.getLogger("tests.uhlive.fake-server")
        quiet.setLevel(logging.WARNING)
        self._server = await serve(
            self._handler,
            "127.0.0.1",
            0,
            process_request=self._process_request,
            logger=quiet,
            create_connection=_Traffic,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    def _maybe_drop(self, ws: ServerConnection, stats: StatsT) -> bool:
        if self.drop_after_bytes is not None and len(self.connections) == 1 and stats.bytes >= self.drop_after_bytes:
            ws.transport.abort()
            return True
        return False
