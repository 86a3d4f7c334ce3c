"""The OIDC client-credentials exchange against the fake token endpoint."""

from __future__ import annotations

import socket

import pytest

from captioner.engines.base import Credentials, EngineFailure
from captioner.engines.uhlive.auth import access_token, fetch_token, token_client_id
from tests.support.fakes.uhlive import FakeTokenServer


async def test_client_credentials_grant(token_server: FakeTokenServer) -> None:
    token = await fetch_token("cid", "s3cret", token_server.url)
    assert token in token_server.issued
    assert token_server.requests == [
        {"client_id": "cid", "client_secret": "s3cret", "grant_type": "client_credentials"}
    ]
    assert token_client_id(token) == "cid"


async def test_ready_token_is_used_as_is(token_server: FakeTokenServer) -> None:
    assert await access_token(Credentials(token="abc"), token_server.url) == "abc"
    assert token_server.requests == []
    assert token_client_id("abc") is None


async def test_server_error_is_retryable(token_server: FakeTokenServer) -> None:
    token_server.fail_status = 503
    with pytest.raises(EngineFailure) as info:
        await fetch_token("cid", "s3cret", token_server.url)
    assert info.value.retryable and not info.value.refused and "503" in info.value.message


async def test_unreachable_auth_server_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(EngineFailure) as info:
        await fetch_token("cid", "s3cret", f"http://127.0.0.1:{port}/token")
    assert info.value.retryable and "cannot reach the Uhlive auth server" in info.value.message


async def test_missing_credentials_refused() -> None:
    with pytest.raises(EngineFailure) as info:
        await access_token(Credentials(client_id="cid"), "http://127.0.0.1:9/token")
    assert info.value.refused and not info.value.retryable


async def test_password_grant(token_server: FakeTokenServer) -> None:
    token_server.users["ada"] = "pa55-word"
    creds = Credentials(client_id="cid", username="ada", password="pa55-word")
    token = await access_token(creds, token_server.url)
    assert token in token_server.issued
    # The form is the SDK's own (build_authentication_request with a user): a public client's empty secret.
    assert token_server.requests == [
        {"client_id": "cid", "client_secret": "", "grant_type": "password", "username": "ada", "password": "pa55-word"}
    ]
    with pytest.raises(EngineFailure) as info:
        await access_token(Credentials(client_id="cid", username="ada", password="nope"), token_server.url)
    assert info.value.refused and not info.value.retryable
    assert "user name and password" in info.value.message and "nope" not in info.value.message
    assert "pa55-word" not in repr(creds) and "pa55-word" in creds.secrets()


def test_password_credentials_come_from_the_environment() -> None:
    from captioner import secrets

    env = {"UHLIVE_CLIENT_ID": "cid", "UHLIVE_USERNAME": "ada", "UHLIVE_PASSWORD": "pw"}
    creds = secrets.resolve("uhlive-h2b", env=env)
    assert (creds.client_id, creds.username, creds.password) == ("cid", "ada", "pw")
    assert secrets.has_credentials(creds)
    assert not secrets.has_credentials(Credentials(client_id="cid", username="ada"))
