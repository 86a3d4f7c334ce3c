"""The fault proxy itself, against an echo server on 127.0.0.1: each fault does what the fault tests assume.

Refused is the kernel's refusal; a reset is an RST (a ``ConnectionResetError``, not a clean end); a stall holds
the data with the socket open and delivers it when it ends; a delay holds each piece the given time; a bandwidth
limit caps the rate. About 2 s in all.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support.faultproxy import FaultProxy


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


@pytest.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    async with FaultProxy(server.sockets[0].getsockname()[1]) as p:
        yield p
    server.close()


async def _round_trip(proxy: FaultProxy, payload: bytes = b"ping") -> tuple[bytes, float]:
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    start = loop.time()
    writer.write(payload)
    await writer.drain()
    data = await asyncio.wait_for(reader.readexactly(len(payload)), 5)
    writer.close()
    return data, loop.time() - start


async def test_refused_then_listening_again_on_the_same_port(proxy: FaultProxy) -> None:
    port = proxy.port
    await proxy.refuse()
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    await proxy.listen()
    assert proxy.port == port
    assert (await _round_trip(proxy))[0] == b"ping"


async def test_reset_after_bytes_is_an_rst(proxy: FaultProxy) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    proxy.reset(after_bytes=10)
    writer.write(b"x" * 20)
    with pytest.raises(ConnectionResetError):
        await asyncio.wait_for(reader.read(100), 5)
        await asyncio.wait_for(reader.read(100), 5)  # a clean end would give b"", never this error


async def test_a_stall_holds_the_data_and_keeps_the_socket_open(proxy: FaultProxy) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    proxy.stall()
    writer.write(b"held")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.read(4), 0.3)
    assert not reader.at_eof()
    proxy.clear()
    assert await asyncio.wait_for(reader.readexactly(4), 5) == b"held"
    writer.close()


async def test_delay_and_bandwidth(proxy: FaultProxy) -> None:
    proxy.delay(0.2)
    _, delayed = await _round_trip(proxy)
    assert 0.4 <= delayed < 1.0  # 0.2 s each way
    proxy.clear()
    proxy.limit(20_000)
    _, slow = await _round_trip(proxy, b"y" * 10_000)
    assert 0.4 <= slow < 1.5  # 10 kB at 20 kB/s: 0.5 s (the echo comes back as it goes, in step)
