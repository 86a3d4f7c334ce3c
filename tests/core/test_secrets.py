"""Credentials: argument, else keyring, else environment; never written anywhere else."""

from __future__ import annotations

import pytest

from captioner import secrets
from captioner.engines.base import Credentials


def test_argument_wins_and_uhlive_parses_id_secret() -> None:
    assert secrets.resolve("assemblyai", "k1") == Credentials(api_key="k1")
    assert secrets.resolve("uhlive", "cid:sec:ret") == Credentials(client_id="cid", client_secret="sec:ret")
    assert secrets.resolve("uhlive-h2b", "tok") == Credentials(token="tok")


def test_keyring_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", "from-env")
    assert secrets.resolve("assemblyai").api_key == "from-env"
    secrets.store("assemblyai", "api_key", "from-keyring")
    assert secrets.resolve("assemblyai").api_key == "from-keyring"
    secrets.store("assemblyai", "api_key", "")
    assert secrets.load("assemblyai", "api_key") is None


def test_uhlive_engines_share_one_account(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.store("uhlive", "client_id", "id")
    secrets.store("uhlive", "client_secret", "sec")
    creds = secrets.resolve("uhlive-h2b")
    assert secrets.has_credentials(creds)
    assert (creds.client_id, creds.client_secret) == ("id", "sec")


def test_repr_hides_secrets() -> None:
    r = repr(Credentials(api_key="TOPSECRET", client_secret="S3"))
    assert "TOPSECRET" not in r and "S3" not in r and "api_key" in r


def test_no_keyring_backend_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    monkeypatch.setattr(keyring, "get_keyring", lambda: FailKeyring())
    old = keyring.get_keyring
    keyring.set_keyring(FailKeyring())
    try:
        assert secrets.load("assemblyai", "api_key") is None  # reading degrades to "absent"
        with pytest.raises(secrets.SecretStoreError, match="No system keyring is available on this computer"):
            secrets.store("assemblyai", "api_key", "k")
    finally:
        from tests.support.memory_keyring import MemoryKeyring

        keyring.set_keyring(MemoryKeyring())
        del old
