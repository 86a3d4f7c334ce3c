"""A fault-injecting TCP proxy on 127.0.0.1, for the network-fault tests of the cloud engines.

Owns :class:`FaultProxy`: it listens on a free port of 127.0.0.1 and forwards every connection to a
target (a fake server), byte for byte, until a test switches a fault on, at any time, also in the
middle of a stream, and off again:

* :meth:`~FaultProxy.refuse`: the listening socket is closed, so new connections are refused by the
  kernel (``ECONNREFUSED``), as when a server is down; :meth:`~FaultProxy.clear` listens again on the
  same port;
* :meth:`~FaultProxy.reset`: every open connection is reset (a TCP RST to both sides, no FIN, no
  close frame), now, after some seconds, or once a connection has carried ``after_bytes`` upstream;
* :meth:`~FaultProxy.stall`: nothing is forwarded either way and every socket stays open (no FIN, no
  RST): the proxy stops reading, so the sender's buffers fill as over a dead link; new connections are
  accepted and stall too. When it ends, what was held is delivered, as TCP does after an outage;
* :meth:`~FaultProxy.limit`: a bandwidth limit (bytes per second, each direction);
* :meth:`~FaultProxy.delay`: every piece of data is held back a fixed time (each direction), in order.

It is a couple of hundred lines of asyncio rather than a maintained tool: toxiproxy is a separate Go server
driven over HTTP (its Python client, toxiproxy-python, was last released in 2019), while this runs in the
test's own event loop, so a test switches faults at exact points of its audio, with nothing to install.
``upstream`` counts the bytes clients sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass

CHUNK = 4096


@dataclass
class _Fault:
    stalled: bool = False
    rate: float | None = None
    """Bytes per second in each direction (``None``: as fast as it goes)."""
    delay: float = 0.0
    reset_after: int | None = None


class _Pipe:
    """One proxied connection: two pumps, client → server and server → client."""

    def __init__(self, proxy: FaultProxy, client: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        self.proxy = proxy
        self.client = client
        self.server: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.upstream = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def run(self) -> None:
        try:
            self.server = await asyncio.open_connection(self.proxy.target_host, self.proxy.target_port)
        except OSError:
            self.abort()
            return
        self.tasks = [
            asyncio.create_task(self._pump(self.client[0], self.server[1], up=True)),
            asyncio.create_task(self._pump(self.server[0], self.client[1], up=False)),
        ]
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.abort()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, up: bool) -> None:
        proxy = self.proxy
        loop = asyncio.get_running_loop()
        late: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        delivering = asyncio.create_task(self._deliver(late, writer))
        try:
            while True:
                await proxy.flowing.wait()  # a stall: stop reading (the sender's buffers fill up)
                data = await reader.read(CHUNK if proxy.fault.rate is None else max(1, int(proxy.fault.rate / 20)))
                if not data:
                    await late.put((loop.time() + proxy.fault.delay, b""))
                    await late.join()
                    return
                if up:
                    self.upstream += len(data)
                    proxy.upstream += len(data)
                    proxy.progress.set()
                    if proxy.fault.reset_after is not None and self.upstream >= proxy.fault.reset_after:
                        proxy.fault.reset_after = None
                        self.abort()
                        return
                await proxy.flowing.wait()
                await late.put((loop.time() + proxy.fault.delay, data))
                if proxy.fault.rate is not None:
                    await asyncio.sleep(len(data) / proxy.fault.rate)
        finally:
            delivering.cancel()

    async def _deliver(self, late: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due, data = await late.get()
            try:
                await asyncio.sleep(max(0.0, due - loop.time()))
                await self.proxy.flowing.wait()
                if not data:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
            except OSError:
                return
            finally:
                late.task_done()

    def abort(self) -> None:
        """Reset both sides: SO_LINGER 0 makes the close an RST."""
        for pair in (self.client, self.server):
            if pair is None:
                continue
            sock = pair[1].get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            pair[1].transport.abort()
        for task in self.tasks:
            task.cancel()


class FaultProxy:
    """See the module. ``async with FaultProxy(port) as proxy``; point the client at ``proxy.port``."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self.fault = _Fault()
        self.flowing = asyncio.Event()
        self.flowing.set()
        self.progress = asyncio.Event()
        self.upstream = 0
        """Bytes sent by clients, all connections together."""
        self.accepted = 0
        self._pipes: set[_Pipe] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FaultProxy:
        await self._listen()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.clear()
        await self._close_listener()
        for pipe in list(self._pipes):
            pipe.abort()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2.0)

    def url(self, scheme: str = "ws", path: str = "") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    # -- faults, switched on and off at any time ------------------------------------------------
    async def refuse(self) -> None:
        """New connections are refused (nothing listens on the port); open ones are not touched."""
        await self._close_listener()

    def reset(self, *, after_bytes: int | None = None, after_seconds: float | None = None) -> None:
        """Reset every open connection now, ``after_seconds`` from now, or the first one to carry
        ``after_bytes`` upstream."""
        if after_bytes is not None:
            self.fault.reset_after = after_bytes
            return
        if after_seconds is not None:
            asyncio.get_running_loop().call_later(after_seconds, self.reset)
            return
        for pipe in list(self._pipes):
            pipe.abort()

    def stall(self) -> None:
        """Forward nothing either way; keep every socket open."""
        self.flowing.clear()

    def limit(self, bytes_per_second: float) -> None:
        self.fault.rate = bytes_per_second

    def delay(self, seconds: float) -> None:
        self.fault.delay = seconds

    def clear(self) -> None:
        """No fault: forward everything at once (a refused port listens again: call :meth:`listen`)."""
        self.fault = _Fault()
        self.flowing.set()

    async def listen(self) -> None:
        """After :meth:`refuse`: accept connections again, on the same port."""
        if self._server is None:
            await self._listen()

    async def wait_upstream(self, nbytes: int) -> None:
        """Until clients have sent ``nbytes`` in all (through this proxy)."""
        while self.upstream < nbytes:
            self.progress.clear()
            await self.progress.wait()

    # -- internals ---------------------------------------------------------------------------------
    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        pipe = _Pipe(self, (reader, writer))
        self._pipes.add(pipe)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await pipe.run()
        finally:
            self._pipes.discard(pipe)
            if task is not None:
                self._tasks.discard(task)
