"""Refusals and closes: a transient 1008 is retried, the same refusal twice is final, only the documented
bad-key reason is final at once, every documented close has a plain message; and one-time keys from an
organisation's key service (no API key on this machine), for every connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from captioner.captions.events import EngineError
from captioner.engines.assemblyai.errors import failure_for_close
from captioner.engines.base import EngineFailure, EngineOptions
from tests.assemblyai.helpers import KEY, SCRIPT, reference_pcm, run_session, write_noise_wav
from tests.support.fakes.assemblyai import FakeAssemblyAI, Fault

PADDING = "Unauthorized connection: Incorrect padding"


def opts(fake: FakeAssemblyAI, **extra: str) -> EngineOptions:
    return EngineOptions(endpoint=fake.url, extra=extra)


async def test_a_transient_1008_is_retried_and_captions_go_on(wav_2s5: Path) -> None:
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT, refusals=(PADDING,)) as fake:
        res = await run_session(wav_2s5, opts(fake))
    assert res.error is None
    assert [c.close_code for c in fake.connections] == [1008, 1000]
    assert not fake.connections[0].audio  # refused before Begin: no audio was sent to it
    assert res.lines() == ["Hello world.", "Good morning, everyone."]


async def test_the_same_refusal_twice_in_a_row_is_final_and_says_what_the_server_said(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "short.wav", 0.5)
    balance = "Unauthorized Connection: insufficient account balance"
    async with FakeAssemblyAI(keys=(KEY,), refusals=(balance, balance, balance)) as fake:
        res = await run_session(wav, opts(fake))
    assert isinstance(res.error, EngineFailure) and res.error.refused and not res.error.retryable
    assert res.error.message == f"AssemblyAI refused the account: {balance}"
    assert len(fake.connections) == 2


async def test_the_documented_bad_key_reason_is_final_at_once(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "short.wav", 0.5)
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        res = await run_session(wav, opts(fake), key="")  # no key: no Authorization header
    assert isinstance(res.error, EngineFailure) and res.error.refused
    assert res.error.message == "AssemblyAI rejected the API key: Unauthorized Connection: Missing Authorization header"
    assert len(fake.connections) == 1


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "close1008:Unauthorized connection: temporarily unavailable",
            "AssemblyAI refused the connection: Unauthorized connection: temporarily unavailable",
        ),
        # Not "a Captioner bug": the service's inactivity timeout (3006), wherever it came from.
        ("inactivity", "AssemblyAI ended the session after a time without audio (its inactivity timeout)"),
    ],
)
async def test_a_refusal_or_an_inactivity_close_during_the_session_reconnects(
    wav_2s5: Path, kind: str, message: str
) -> None:
    fault = Fault(0, 1.3, kind)
    async with FakeAssemblyAI(
        keys=(KEY,), script=SCRIPT, reference_pcm=reference_pcm(wav_2s5), faults=(fault,)
    ) as fake:
        res = await run_session(wav_2s5, opts(fake))
    assert res.error is None
    [error] = [e for e in res.events if isinstance(e, EngineError)]
    assert error.retryable and error.message.startswith(message) and "bug" not in error.message
    assert len(fake.connections) == 2
    assert res.lines() == ["Hello world.", "Good morning, everyone."]


@pytest.mark.parametrize(
    ("code", "reason", "retryable", "refused", "message"),
    [
        (1008, "Unauthorized Connection: Missing Authorization header", False, True, "AssemblyAI rejected the API key"),
        (1008, PADDING, True, False, "AssemblyAI refused the connection: " + PADDING),
        (1008, "Unauthorized connection: Too many concurrent sessions", True, False, "too many concurrent sessions"),
        (1009, "", True, False, "a Captioner bug"),
        (1011, "", True, False, "AssemblyAI had an internal error while connecting"),
        (1013, "", True, False, "AssemblyAI is temporarily unable to take the session"),
        (3005, "Session Cancelled: An error occurred", True, False, "AssemblyAI server error"),
        (3006, "Invalid JSON: x", True, False, "a Captioner bug"),
        (3006, "Session terminated: inactivity timeout", True, False, "after a time without audio"),
        (3007, "Audio Transmission Rate Exceeded: Received 2 sec. audio in 1 sec", True, False, "a Captioner bug"),
        (3008, "Session Expired: Maximum session duration exceeded", True, False, "AssemblyAI session expired"),
        (3009, "Unauthorized Connection: Too many concurrent sessions", True, False, "too many concurrent"),
        (4002, "", False, True, "insufficient funds"),
        (4003, "", False, True, "needs a paid account"),
        (4105, "Model deprecated", False, True, "model deprecated"),
    ],
)
def test_every_documented_close_has_a_plain_message(
    code: int, reason: str, retryable: bool, refused: bool, message: str
) -> None:
    f = failure_for_close(code, reason)
    assert f is not None and (f.retryable, f.refused) == (retryable, refused)
    assert message in f.message and (not reason or f.message.count(reason) <= 1)


# -- one-time keys from an organisation's key service ----------------------------------------------


async def test_key_service_gives_every_connection_its_own_one_time_key(wav_2s5: Path) -> None:
    ref = reference_pcm(wav_2s5)
    faults = (Fault(0, 1.15, "drop"),)  # in the pause after the first line
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT, reference_pcm=ref, faults=faults) as fake:
        extra: dict[str, Any] = {"key_service": fake.org_token_url, "rollover_seconds": "1.5"}
        res = await run_session(wav_2s5, EngineOptions(endpoint=fake.url, extra=extra), key="")
    assert res.error is None
    # A reconnect and rollovers: a new key for each connection, never the account key on this machine.
    assert len(fake.connections) >= 3
    assert len(fake.org_token_requests) == len(fake.connections)
    tokens = [c.query["token"] for c in fake.connections]
    assert len(set(tokens)) == len(tokens) and all(c.authorized for c in fake.connections)
    assert all("Authorization" not in c.headers for c in fake.connections)
    assert all("Authorization" not in r for r in fake.org_token_requests)
    assert res.lines() == ["Hello world.", "Good morning, everyone."]


@pytest.mark.parametrize(("status", "refused"), [(403, True), (503, False)])
async def test_a_key_service_that_refuses_or_fails(tmp_path: Path, status: int, refused: bool) -> None:
    wav = write_noise_wav(tmp_path / "short.wav", 0.3)
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        fake.org_token_status = status
        res = await run_session(
            wav, EngineOptions(endpoint=fake.url, extra={"key_service": fake.org_token_url}), key=""
        )
    assert isinstance(res.error, EngineFailure) and res.error.refused is refused
    assert "the key service" in res.error.message and "token service says no" in res.error.message
    assert fake.connections == []
