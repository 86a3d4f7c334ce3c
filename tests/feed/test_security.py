"""Who may read the caption feed, tested against a real server on loopback with real HTTP and WebSocket clients.

Refused: a feed bound beyond loopback without its token (HTTP 401), with a wrong token, a WebSocket upgrade
from a foreign web page (its ``Origin``), a loopback feed asked for under another host name (DNS rebinding),
an oversized client message (closed with 1009), more clients than the limit (503), any path outside the
served pages, and methods other than GET.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from captioner.captions.transcript import Transcript
from captioner.feed.security import Address, Limits, parse_address
from captioner.feed.server import FeedServer
from captioner.feed.static import PAGES, ROUTES
from tests.support.net import get, raw_exchange, raw_request

TOKEN = "s3cret-token_value"


@pytest.fixture
async def loopback() -> AsyncIterator[FeedServer]:
    server = FeedServer(Address(host="127.0.0.1", port=0), transcript=Transcript(), limits=Limits(max_clients=3))
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def network() -> AsyncIterator[FeedServer]:
    """Bound to every address (beyond loopback), reached here through 127.0.0.1 only."""
    server = FeedServer(Address(host="0.0.0.0", port=0), transcript=Transcript(), token=TOKEN)
    await server.start()
    yield server
    await server.stop()


def ws_url(server: FeedServer, query: str = "") -> str:
    return f"ws://127.0.0.1:{server.port}/events{query}"


async def refused_status(url: str, **kwargs: object) -> int:
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, **kwargs):  # type: ignore[arg-type]
            pass
    return info.value.response.status_code


# -- addresses -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port", "loopback"),
    [
        ("8765", "127.0.0.1", 8765, True),
        ("localhost:9000", "localhost", 9000, True),
        ("0.0.0.0:8765", "0.0.0.0", 8765, False),
        ("[::1]:8765", "::1", 8765, True),
        ("192.0.2.7:80", "192.0.2.7", 80, False),
        ("0", "127.0.0.1", 0, True),
    ],
)
def test_serve_addresses(text: str, host: str, port: int, loopback: bool) -> None:
    address = parse_address(text)
    assert (address.host, address.port, address.loopback) == (host, port, loopback)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "[HOST:]PORT"),
        ("http", "[HOST:]PORT"),
        ("99999", "0 to 65535"),
        ("::1:8765", "in brackets"),
        ("[::1]8765", "[IPv6]:PORT"),
        ("a/b:80", "not a host"),
    ],
)
def test_bad_serve_addresses_are_explained(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=r".*") as info:
        parse_address(text)
    assert says in str(info.value)


def test_a_feed_beyond_loopback_cannot_be_made_without_a_token() -> None:
    with pytest.raises(ValueError, match="token"):
        FeedServer(Address(host="0.0.0.0", port=0), transcript=Transcript())


# -- the token -----------------------------------------------------------------------------------


async def test_beyond_loopback_the_pages_and_the_feed_need_the_token(network: FeedServer) -> None:
    port = network.port
    status, body = await raw_request(port, get("/", port))
    assert status == 401 and b"<html" not in body
    assert (await raw_request(port, get("/?token=wrong", port)))[0] == 401
    assert (await raw_request(port, get(f"/?token={TOKEN}x", port)))[0] == 401
    assert await refused_status(ws_url(network)) == 401
    assert await refused_status(ws_url(network, "?token=nope")) == 401
    assert await refused_status(ws_url(network), additional_headers={"Authorization": "Bearer nope"}) == 401

    status, body = await raw_request(port, get(f"/?token={TOKEN}", port))
    assert status == 200 and b"<html" in body
    async with connect(ws_url(network, f"?token={TOKEN}")) as ws:
        assert '"type":"hello"' in str(await ws.recv())
    async with connect(ws_url(network), additional_headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
        assert '"type":"hello"' in str(await ws.recv())
    assert network.url("/") == f"http://127.0.0.1:{port}/?token={TOKEN}"


async def test_on_loopback_no_token_is_needed_but_other_host_names_are_refused(loopback: FeedServer) -> None:
    port = loopback.port
    assert (await raw_request(port, get("/", port)))[0] == 200
    assert (await raw_request(port, get("/", port, host=f"localhost:{port}")))[0] == 200
    # A web site whose name was re-pointed at 127.0.0.1 (DNS rebinding) asks with its own name.
    status, body = await raw_request(port, get("/", port, host=f"attacker.example:{port}"))
    assert status == 403 and b"loopback" in body


# -- origins -------------------------------------------------------------------------------------


async def test_websocket_origins(loopback: FeedServer) -> None:
    url = ws_url(loopback)
    own = f"http://127.0.0.1:{loopback.port}"
    for origin in (own, "http://absolute", None):  # its own pages, an OBS "Local file" page, not a browser
        async with connect(url, origin=origin) as ws:  # type: ignore[arg-type]
            assert '"type":"hello"' in str(await ws.recv())
    for origin in (
        "https://attacker.example",
        "null",
        f"http://localhost:{loopback.port + 1}",
        f"https://127.0.0.1:{loopback.port}",
    ):
        assert await refused_status(url, origin=origin) == 403, origin


# -- limits --------------------------------------------------------------------------------------


async def test_an_oversized_client_message_closes_the_connection(loopback: FeedServer) -> None:
    async with connect(ws_url(loopback), max_size=None) as ws:
        await ws.recv()  # hello
        await ws.send("x" * 100)  # small messages are ignored
        await ws.send("x" * (Limits().max_message_bytes + 1))
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1009


async def test_clients_beyond_the_limit_are_refused(loopback: FeedServer) -> None:
    async with connect(ws_url(loopback)), connect(ws_url(loopback)), connect(ws_url(loopback)):
        assert await refused_status(ws_url(loopback)) == 503
    async with connect(ws_url(loopback)) as ws:  # the others left: room again
        await ws.recv()


# -- paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/..%2f..%2fpyproject.toml",
        "/%2e%2e/%2e%2e/captioner/settings.py",
        "/pages/../server.py",
        "/caption.js/../../server.py",
        "/server.py",
        "/static.py",
        "//etc/passwd",
        "/etc/passwd",
        "/caption.html",
        "/C:%5cWindows%5cwin.ini",
        "/transcript/",
    ],
)
async def test_no_path_leads_outside_the_served_pages(loopback: FeedServer, path: str) -> None:
    status, body = await raw_request(loopback.port, get(path, loopback.port))
    assert (status, body) == (404, b"not found\n")


async def test_only_the_pages_are_served_and_nothing_else_than_get(loopback: FeedServer) -> None:
    port = loopback.port
    for path, (name, content_type) in ROUTES.items():
        status, headers, body = await raw_exchange(port, get(path, port))
        assert status == 200 and body == (PAGES / name).read_bytes(), path
        assert headers["content-type"] == content_type
    served = {name for name, _ in ROUTES.values()}
    assert served == {p.name for p in PAGES.iterdir()}  # every file in pages/ has a route, and nothing else
    status, _ = await raw_request(port, f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    assert status == 405


async def test_pages_use_no_external_resources(loopback: FeedServer) -> None:
    for name in {name for name, _ in ROUTES.values()}:
        text = (PAGES / name).read_text(encoding="utf-8")
        for marker in ("http://", "https://", "//cdn", "@import", "url("):
            assert marker not in text, f"{name} refers to {marker}"
    status, headers, _ = await raw_exchange(loopback.port, get("/", loopback.port))
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    policy = headers["content-security-policy"]  # the browser refuses to load anything from elsewhere
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert headers["referrer-policy"] == "no-referrer" and headers["x-content-type-options"] == "nosniff"
