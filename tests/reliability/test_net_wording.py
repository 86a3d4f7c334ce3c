"""What the user reads when a server cannot be reached, and how much audio H2B sends again after a result.

Fast checks (no network) of two fixes the fault runs found: :func:`~captioner.engines.wire.connect.unreachable_reason`
words a refused connection, a name that does not resolve and a timeout plainly (asyncio says "Connect call
failed ('127.0.0.1', 9)"), and :func:`~captioner.engines.uhlive.h2b_protocol.replay_floor` sends at least half
the silence that ended a line again, but nothing extra after a line cut in speech.
"""

from __future__ import annotations

import errno
import socket
import time

import pytest
from uhlive.stream.recognition import CompletionCause

from captioner.engines.uhlive.h2b_protocol import REPLAY_FLOOR, SessionState, replay_floor
from captioner.engines.wire.connect import open_websocket, unreachable_reason
from captioner.engines.wire.framer import Frame
from captioner.engines.wire.logging import websocket_logger
from tests.support.net import free_port


def test_unreachable_reasons_are_plain_words() -> None:
    refused = OSError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 9)")
    assert unreachable_reason(refused) == "Connection refused"
    dns = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert unreachable_reason(dns).startswith("its name could not be looked up")
    assert unreachable_reason(TimeoutError()) == "no answer in time"


async def test_a_refused_connection_says_so() -> None:
    port = free_port()
    with pytest.raises(Exception) as info:
        await open_websocket(
            f"ws://127.0.0.1:{port}/",
            service="Test",
            where=f"ws://127.0.0.1:{port}/",
            rejected="refused",
            logger=websocket_logger("tests.net_wording"),
        )
    assert str(info.value) == f"cannot reach Test at ws://127.0.0.1:{port}/: Connection refused"


@pytest.mark.parametrize(
    ("cause", "floor"),
    [
        (CompletionCause.Success, 0.4),
        (CompletionCause.NoInputTimeout, 0.4),
        (CompletionCause.NoMatch, 0.4),
        (CompletionCause.SuccessMaxtime, 0.0),  # cut in speech: sending more again would repeat words
    ],
)
def test_replay_floor_is_half_the_silence_that_ended_the_line(cause: CompletionCause, floor: float) -> None:
    assert replay_floor(cause, 0.8) == pytest.approx(floor)
    assert replay_floor(CompletionCause.Success, 5.0) == REPLAY_FLOOR


def sent_last_second(state: SessionState) -> None:
    """1 s of 100 ms frames into ``state``, sent 0.95 s … 0.05 s ago."""
    now = time.monotonic()
    for i in range(10):
        frame = Frame(payload=bytes(1600), start=i / 10, duration=0.1, segments=((i / 10, 0.1),))
        state.recent.append((now - (9 - i) / 10 - 0.05, frame, frame.payload))


def test_replay_sends_the_floor_again_when_no_round_trip_was_measured() -> None:
    state = SessionState()
    sent_last_second(state)
    assert state.replay() == []  # no round trip measured and no floor: nothing goes again
    sent_last_second(state)
    assert [f.start for f, _ in state.replay(0.4)] == [0.6, 0.7, 0.8, 0.9]
    state.rtt = 0.58  # a measured round trip longer than the floor wins (+ the margin)
    sent_last_second(state)
    assert [f.start for f, _ in state.replay(0.4)] == [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
