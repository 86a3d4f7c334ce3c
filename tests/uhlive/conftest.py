"""Fixtures of the Uhlive tests: fake token endpoint, fake Conversation and H2B servers, tone audio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.fakes.uhlive import FakeConversationServer, FakeH2BServer, FakeTokenServer, tone_wav

# Three utterances (tone bursts) separated by pauses longer than the fakes' end-of-utterance silence.
PATTERN = [(0, 0.2), (400, 0.5), (0, 0.8), (700, 0.6), (0, 0.8), (1000, 0.4), (0, 0.3)]
# A cut in the middle of the second utterance (bytes of 16 kHz PCM16, i.e. of 8 kHz audio x 2).
CUT_BYTES = int((0.2 + 0.5 + 0.8 + 0.3) * 16000)


@pytest.fixture
def token_server() -> Iterator[FakeTokenServer]:
    with FakeTokenServer() as server:
        yield server


@pytest.fixture
async def conversation_server(token_server: FakeTokenServer) -> AsyncIterator[FakeConversationServer]:
    async with FakeConversationServer(token_server.issued) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
async def h2b_server(token_server: FakeTokenServer) -> AsyncIterator[FakeH2BServer]:
    async with FakeH2BServer(token_server.issued) as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def tones(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "tones.wav", PATTERN)


# One short utterance, for error paths.
SHORT = [(0, 0.2), (700, 0.5), (0, 0.7)]


@pytest.fixture
def short_tone(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "short.wav", SHORT)
