"""The shared cloud wire layer (captioner.engines.wire) as both vendors use it: framing, pacing, connect, redaction."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from http import HTTPStatus

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from captioner.audio.base import AudioChunk
from captioner.engines.assemblyai.errors import failure_for_close, failure_for_http
from captioner.engines.base import EngineFailure
from captioner.engines.uhlive.common import FRAME_BYTES, open_socket
from captioner.engines.wire import pacer as pacer_module
from captioner.engines.wire.connect import close_failure, http_verdict
from captioner.engines.wire.framer import Framer
from captioner.engines.wire.logging import redact, websocket_logger
from captioner.engines.wire.pacer import Pacer, paced

# -- framing --------------------------------------------------------------------------------------


async def chunks(*pieces: tuple[float, int], rate: int = 8000) -> AsyncIterator[AudioChunk]:
    for start, samples in pieces:
        yield AudioChunk(b"\x01\x00" * samples, rate, start, 0.0)


async def test_uhlive_frames_span_a_skipped_pause_and_keep_a_short_last_frame() -> None:
    framer = Framer(8000, 100, service="Uhlive")
    # 50 ms chunks at 0.0 and 0.05, then (a pause skipped) 0.5 and 0.55, then 30 ms.
    frames = [f async for f in framer.frames(chunks((0.0, 400), (0.05, 400), (0.5, 400), (0.55, 400), (0.6, 240)))]
    assert [len(f.payload) for f in frames] == [FRAME_BYTES, FRAME_BYTES, 480]  # the last one is not padded
    assert frames[0].segments == ((0.0, 0.05), (0.05, 0.05))
    assert frames[1].start == 0.5 and frames[1].segments == ((0.5, 0.05), (0.55, 0.05))
    assert frames[2].segments == ((0.6, 0.03),) and frames[2].duration == pytest.approx(0.03)


async def test_a_frame_across_a_gap_has_two_segments_and_padding_is_in_none() -> None:
    framer = Framer(16000, 50, min_last_ms=50)
    assert framer.push(b"\x00\x00" * 400, 1.0) == []  # 25 ms…
    [f] = framer.push(b"\x00\x00" * 400, 3.0)  # …and 25 ms after a skipped pause
    assert f.segments == ((1.0, 0.025), (3.0, 0.025)) and f.start == 1.0
    assert framer.push(b"\x00\x00" * 100, 3.025) == []
    [last] = framer.flush()
    assert last.duration == 0.05 and last.segments == ((3.025, 0.00625),)


async def test_audio_at_the_wrong_rate_is_refused_by_name() -> None:
    framer = Framer(8000, 100, service="Uhlive")
    with pytest.raises(EngineFailure, match="Uhlive needs 8000 Hz audio, got 16000 Hz") as info:
        _ = [f async for f in framer.frames(chunks((0.0, 800), rate=16000))]
    assert not info.value.retryable


# -- pacing ---------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(pacer_module, "now", c.monotonic)
    monkeypatch.setattr(pacer_module.asyncio, "sleep", c.sleep)
    return c


async def send(pacer: Pacer, clock: Clock, n: int, seconds: float = 0.1) -> list[float]:
    """Send ``n`` frames of ``seconds``; the clock times at which each left."""
    left = []
    for _ in range(n):
        await pacer.wait()
        left.append(round(clock.now - 100.0, 6))
        pacer.sent(seconds)
    return left


async def test_cumulative_pacing_lets_a_backlog_go_after_a_stall(clock: Clock) -> None:
    pacer = Pacer.cumulative(clock.now)
    assert await send(pacer, clock, 3) == [0.0, 0.1, 0.2]
    clock.now += 2.0  # the source stalled for 2 s
    left = await send(pacer, clock, 25)
    # Total audio sent never exceeds the time since the session began, but what piled up goes at once.
    assert left[:20] == [2.2] * 20
    assert left[20:] == [2.3, 2.4, 2.5, 2.6, 2.7]


async def test_steady_pacing_reanchors_after_a_stall(clock: Clock) -> None:
    pacer = Pacer.steady(slack=0.5)
    assert await send(pacer, clock, 3) == [0.0, 0.1, 0.2]
    clock.now += 2.0
    left = await send(pacer, clock, 4)
    assert left == [2.2, 2.3, 2.4, 2.5]  # never faster than real time, even after the stall
    clock.now += 0.3  # a short delay (within the slack) is made up
    assert await send(pacer, clock, 4) == [2.8, 2.8, 2.8, 2.9]


async def test_paced_counts_each_frame(clock: Clock) -> None:
    async def two() -> AsyncIterator[AudioChunk]:
        yield AudioChunk(bytes(3200), 8000, 0.0, 0.0)

    pacer = Pacer.steady()
    frames = [f async for f in paced(Framer(8000, 100).frames(two()), pacer)]
    assert len(frames) == 2 and pacer.sent_seconds == pytest.approx(0.2) and clock.slept == [0.1]


# -- connect: one HTTP policy, vendors' close codes -----------------------------------------------


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (401, (False, True)),
        (403, (False, True)),
        (408, (True, False)),
        (425, (True, False)),
        (429, (True, False)),
        (500, (True, False)),
        (503, (True, False)),
        (400, (False, False)),
        (404, (False, False)),
        (410, (False, False)),
    ],
)
def test_one_http_rule_for_every_vendor(status: int, verdict: tuple[bool, bool]) -> None:
    """``(retryable, refused)``: the same for AssemblyAI and Uhlive (Uhlive used to retry 400/404…)."""
    assert http_verdict(status) == verdict
    f = failure_for_http(status)
    assert (f.retryable, f.refused, f.code) == (*verdict, status)


def test_http_messages_do_not_repeat_the_status() -> None:
    assert failure_for_http(503).message == "AssemblyAI is busy or failing (HTTP 503)"
    assert failure_for_http(404, "not here").message == "AssemblyAI refused the connection (HTTP 404): not here"


def test_close_codes_shared_and_per_vendor() -> None:
    # No close frame is a lost connection for everyone.
    assert close_failure(None, service="the Uhlive H2B server").message == "connection to the Uhlive H2B server lost"
    # AssemblyAI's table: a 1008 for the concurrency limit is retried, for a bad key it is a refusal.
    busy = failure_for_close(1008, "Unauthorized connection: Too many concurrent sessions")
    assert busy is not None and busy.retryable and busy.code == 1008
    # Uhlive documents no codes: anything else is retried, with the reason.
    f = close_failure(4000, "maintenance", service="the Uhlive Conversation server", when="while joining")
    assert f.retryable and not f.refused
    assert f.message == "the Uhlive Conversation server closed the connection while joining (code 4000): maintenance"


async def rejecting_server(status: int) -> tuple[object, str]:
    def reject(conn: ServerConnection, request: Request) -> Response:
        return Response(status, HTTPStatus(status).phrase, Headers(), b"")

    server = await serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=reject)
    port = server.sockets[0].getsockname()[1]
    return server, f"ws://127.0.0.1:{port}"


@pytest.mark.parametrize(("status", "retryable"), [(404, False), (400, False), (503, True), (429, True)])
async def test_uhlive_handshake_follows_the_http_rule(status: int, retryable: bool) -> None:
    server, url = await rejecting_server(status)
    try:
        with pytest.raises(EngineFailure) as info:
            await open_socket(f"{url}/socket/websocket?jwt=SECRET-TOKEN&vsn=2.0.0", "the Uhlive server", "SECRET-TOKEN")
    finally:
        server.close()  # type: ignore[attr-defined]
    assert info.value.retryable is retryable and not info.value.refused and info.value.code == status
    assert f"HTTP {status}" in info.value.message and "SECRET-TOKEN" not in info.value.message


# -- logging --------------------------------------------------------------------------------------


def test_redact_hides_header_and_query_secrets() -> None:
    line = "> GET /socket/websocket?jwt=eyJhbGci.x.y&vsn=2.0.0 HTTP/1.1"
    assert redact(line) == "> GET /socket/websocket?jwt=***&vsn=2.0.0 HTTP/1.1"
    assert redact("> Authorization: bearer abc.def") == "> Authorization: ***"
    assert redact("token=t1&access_token=t2 key k3", ["k3"]) == "token=***&access_token=*** key ***"


async def test_uhlive_websocket_debug_lines_are_logged_redacted(caplog: pytest.LogCaptureFixture) -> None:
    """They used to be silenced (the logger was set to INFO); now -vv shows them, without the token."""
    caplog.set_level(logging.DEBUG)
    server, url = await rejecting_server(403)
    try:
        with pytest.raises(EngineFailure) as info:
            await open_socket(f"{url}/bots", "the Uhlive H2B server", "tok-42", {"Authorization": "bearer tok-42"})
    finally:
        server.close()  # type: ignore[attr-defined]
    assert info.value.refused and not info.value.retryable
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("captioner")]  # not the test server's
    assert any("Authorization: ***" in line for line in ours)
    assert not any("tok-42" in line for line in ours)
    assert websocket_logger("captioner.engines.uhlive.websocket").filters  # one filter, added once
    assert len(websocket_logger("captioner.engines.uhlive.websocket").filters) == 1
