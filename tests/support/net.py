"""Loopback helpers for tests of servers: a free port, a raw HTTP request."""

from __future__ import annotations

import asyncio
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def raw_request(port: int, request: bytes, *, timeout: float = 5.0) -> tuple[int, bytes]:
    """Send ``request`` as it is to 127.0.0.1:``port``; the status code and body of the answer."""
    status, _, body = await raw_exchange(port, request, timeout=timeout)
    return status, body


async def raw_exchange(port: int, request: bytes, *, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """Like :func:`raw_request`, with the answer's headers (names in lower case)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ", 2)[1]), headers, body


def get(path: str, port: int, *, host: str | None = None, extra: str = "") -> bytes:
    """A ``GET`` request as bytes (``path`` sent as it is, not normalised)."""
    return f"GET {path} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n{extra}Connection: close\r\n\r\n".encode()
