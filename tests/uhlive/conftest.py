"""Fixtures of the Uhlive tests: fake token endpoint, fake Conversation and H2B servers, tone audio."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.fakes.uhlive import FakeConversationServer, FakeH2BServer, FakeTokenServer, tone_wav
from tests.uhlive.helpers import PATTERN, SHORT


@pytest.fixture
def token_server() -> Iterator[FakeTokenServer]:
    with FakeTokenServer() as server:
        yield server


@pytest.fixture
async def conversation_server(token_server: FakeTokenServer) -> AsyncIterator[FakeConversationServer]:
    async with FakeConversationServer(token_server.issued) as server:
        yield server


@pytest.fixture
async def h2b_server(token_server: FakeTokenServer) -> AsyncIterator[FakeH2BServer]:
    async with FakeH2BServer(token_server.issued) as server:
        yield server


@pytest.fixture
def tones(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "tones.wav", PATTERN)


@pytest.fixture
def short_tone(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "short.wav", SHORT)
