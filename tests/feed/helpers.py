"""Feed test helpers: a WebSocket client that reads the feed, one that never reads, a recorder of what a session
feeds, and the ``captioner caption --serve`` command in a subprocess."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from captioner.captions.events import CaptionEvent
from captioner.captions.transcript import Change
from captioner.captions.writers import change_record, event_record
from captioner.feed.server import FeedServer

Record = dict[str, object]


@dataclass
class Reader:
    """A WebSocket client that keeps every message it gets until the server closes the connection."""

    messages: list[Record] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def hello(self) -> Record:
        return self.messages[0]

    @property
    def replayed(self) -> list[Record]:
        n = int(str(self.hello["replay"]))
        return self.messages[1 : 1 + n]

    @property
    def live(self) -> list[Record]:
        return self.messages[1 + int(str(self.hello["replay"])) :]

    async def wait_for(self, predicate: Callable[[Record], bool], timeout: float = 10.0) -> Record:
        async def poll() -> Record:
            while True:
                for m in self.messages:
                    if predicate(m):
                        return m
                await asyncio.sleep(0.01)

        return await asyncio.wait_for(poll(), timeout)


async def read_feed(url: str, **kwargs: object) -> Reader:
    """Connect to ``url`` and keep reading in a task; returns once the ``hello`` arrived."""
    reader = Reader()
    ws: ClientConnection = await connect(url, **kwargs)  # type: ignore[arg-type]

    async def run() -> None:
        try:
            async for text in ws:
                reader.messages.append(json.loads(text))
        except ConnectionClosed:
            pass
        finally:
            reader.closed.set()

    reader.task = asyncio.create_task(run())
    await reader.wait_for(lambda m: m.get("type") == "hello")
    return reader


class Recorder:
    """Feeds a :class:`FeedServer` the way the CLI does and keeps the ``--format jsonl`` records of the same
    calls, timing each call into the feed."""

    def __init__(self, feed: FeedServer) -> None:
        self.feed = feed
        self.records: list[Record] = []
        self.longest_call = 0.0
        self.calls = 0
        self.dropped_at: int | None = None
        """How many records had been published when the feed first dropped a client."""

    def _timed(self, call: Callable[[], None]) -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        call()
        self.longest_call = max(self.longest_call, loop.time() - t0)
        self.calls += 1
        if self.dropped_at is None and self.feed.dropped_clients:
            self.dropped_at = len(self.records)

    def event(self, event: CaptionEvent) -> None:
        rec = event_record(event)
        if rec is not None:
            self.records.append(rec)
        self._timed(lambda: self.feed.event(event))

    def change(self, change: Change) -> None:
        rec = change_record(change)
        if rec is not None:
            self.records.append(rec)
        self._timed(lambda: self.feed.change(change))


async def stuck_client(port: int, path: str = "/events", *, receive_buffer: int = 4096) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads (with a small receive buffer,
    so the server's writes back up at once)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await loop.sock_recv(sock, 1)  # byte by byte: read nothing past the handshake
        if not chunk:
            raise ConnectionError("the server closed the connection during the handshake")
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def connection_dropped(sock: socket.socket) -> bool:
    """Whether the server reset or closed ``sock`` (reading what is left in its buffer first)."""
    sock.setblocking(False)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


@dataclass
class CliRun:
    """``captioner caption … --serve …`` running in a subprocess, with its output collected as it comes."""

    proc: asyncio.subprocess.Process
    url: str
    stdout: list[str]
    stderr: list[str]
    readers: list[asyncio.Task[None]]

    async def finish(self, timeout: float = 60.0) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.gather(*self.readers)
        return code

    def records(self) -> list[Record]:
        return [json.loads(line) for line in self.stdout if line.strip()]


async def start_cli(*args: str, timeout: float = 60.0) -> CliRun:
    """Start the command (from this checkout) and wait until it printed the feed's address."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "captioner",
        "caption",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    stdout: list[str] = []
    stderr: list[str] = []
    url: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def drain(stream: asyncio.StreamReader, into: list[str]) -> None:
        async for raw in stream:
            line = raw.decode()
            into.append(line)
            if "caption feed: " in line and not url.done():
                url.set_result(line.split("caption feed: ", 1)[1].split()[0])
        if stream is proc.stderr and not url.done():
            url.set_exception(AssertionError("the command ended without serving: " + "".join(stderr)))

    readers = [asyncio.create_task(drain(proc.stdout, stdout)), asyncio.create_task(drain(proc.stderr, stderr))]
    return CliRun(proc, await asyncio.wait_for(url, timeout), stdout, stderr, readers)
