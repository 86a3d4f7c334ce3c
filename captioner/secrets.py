"""API keys and client credentials: kept for this session only, the OS keyring, else environment variables.

Secrets are never written to the settings file, to any other file, or to logs. On the command line a key is best
read from a file or from standard input (:func:`read_key_file`): an argument is visible to every user of the
computer in the process list. Only the
composition roots (CLI, app) call this module; engines get a
:class:`~captioner.engines.base.Credentials` object.

Without a system keyring (no Secret Service, KWallet…: :func:`keyring_available` says so), a key can be
kept in this process's memory for the session only (:func:`keep_for_session`): it is forgotten at quit.

Keyring layout: service ``captioner``, one entry per secret, named
``<account>/<field>`` where ``account`` is ``assemblyai`` or ``uhlive`` (both
Uhlive engines share one account).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping
from typing import Literal, TextIO

from captioner.engines.base import Credentials

log = logging.getLogger(__name__)

SERVICE = "captioner"

_UHLIVE = {
    "client_id": "UHLIVE_CLIENT_ID",
    "client_secret": "UHLIVE_CLIENT_SECRET",
    "username": "UHLIVE_USERNAME",  # accounts with a user and a password (the password grant)
    "password": "UHLIVE_PASSWORD",
    "token": "UHLIVE_TOKEN",
}
# engine id -> (keyring account, {credential field: environment variable})
ACCOUNTS: dict[str, tuple[str, dict[str, str]]] = {
    "assemblyai": ("assemblyai", {"api_key": "ASSEMBLYAI_API_KEY"}),
    "uhlive": ("uhlive", _UHLIVE),
    "uhlive-h2b": ("uhlive", _UHLIVE),
}


class SecretStoreError(Exception):
    """The keyring cannot store a secret (no backend). The message says so in plain words."""


NO_KEYRING = "No system keyring is available on this computer, so Captioner cannot save the key"
Where = Literal["session", "keyring", "environment", ""]
"""Where a secret comes from ('' when it is not set anywhere)."""

_session: dict[tuple[str, str], str] = {}  # (account, field) -> secret, in memory only
_seen: set[str] = set()  # secrets given on the command line or in a key file during this run (to redact)


def remember(value: str | None) -> None:
    """Note a secret this process was given (a key file, ``--api-key``) so :func:`known` can redact it."""
    if value:
        _seen.add(value)


def known(env: Mapping[str, str] | None = None) -> list[str]:
    """Every secret this process may hold: session-only keys, the credential environment variables, and those
    noted with :func:`remember` (never the keyring's: reading it could prompt). For redacting crash reports."""
    values: Mapping[str, str] = os.environ if env is None else env
    names = {name for _, fields in ACCOUNTS.values() for name in fields.values()}
    found = {values[name] for name in names if values.get(name)} | set(_session.values()) | _seen
    return sorted(found, key=len, reverse=True)  # longest first, so a secret containing another is masked whole


def _account(engine_id: str) -> str:
    return ACCOUNTS.get(engine_id, (engine_id, {}))[0]


def keyring_available() -> bool:
    """Whether a system keyring is configured here (the keyring package's "fail" and "null" backends are none).

    A configured one may still fail when used (no D-Bus session, a locked wallet): :func:`store` then raises.
    """
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
    except Exception as exc:  # ImportError, or a broken backend configuration
        log.debug("no keyring: %s", exc)
        return False
    if isinstance(backend, fail.Keyring | null.Keyring):  # null "stores" by dropping the secret
        return False
    return not (isinstance(backend, chainer.ChainerBackend) and not backend.backends)


def keep_for_session(engine_id: str, field: str, value: str | None) -> None:
    """Keep one secret in memory for this session only (never written anywhere); ``None`` forgets it."""
    key = (_account(engine_id), field)
    if value:
        _session[key] = value
    else:
        _session.pop(key, None)


def forget_session() -> None:
    """Forget every secret kept for the session."""
    _session.clear()


def fields_for(engine_id: str) -> dict[str, str]:
    """Credential fields of an engine and the environment variable of each."""
    return dict(ACCOUNTS.get(engine_id, ("", {}))[1])


def _keyring_get(account: str, field: str) -> str | None:
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(SERVICE, f"{account}/{field}")
        except (KeyringError, RuntimeError) as exc:  # NoKeyringError is a RuntimeError subclass
            log.debug("keyring unavailable: %s", exc)
            return None
    except ImportError:
        return None


def store(engine_id: str, field: str, value: str | None) -> None:
    """Save (or, with an empty value, delete) one secret in the OS keyring; :class:`SecretStoreError` without one.

    Saving also drops a copy kept for the session, so that the saved one is used.
    """
    account = _account(engine_id)
    if value and not keyring_available():
        raise SecretStoreError(NO_KEYRING)
    try:
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError
    except ImportError:
        raise SecretStoreError(NO_KEYRING + " (the keyring package is missing)") from None
    try:
        if value:
            keyring.set_password(SERVICE, f"{account}/{field}", value)
        else:
            with contextlib.suppress(PasswordDeleteError):
                keyring.delete_password(SERVICE, f"{account}/{field}")
    except (KeyringError, RuntimeError) as exc:
        log.debug("keyring cannot store %s/%s: %s", account, field, exc)  # the backend's words, never the value
        raise SecretStoreError(NO_KEYRING) from None
    keep_for_session(engine_id, field, None)


def load(engine_id: str, field: str) -> str | None:
    """One secret: the one kept for this session, else the keyring's (``None`` when absent or no keyring)."""
    account = _account(engine_id)
    return _session.get((account, field)) or _keyring_get(account, field)


def where(engine_id: str, field: str, env: dict[str, str] | None = None) -> Where:
    """Where the secret ``field`` of ``engine_id`` comes from (the order :func:`resolve` uses)."""
    account = _account(engine_id)
    if (account, field) in _session:
        return "session"
    if _keyring_get(account, field):
        return "keyring"
    environ = os.environ if env is None else env
    var = fields_for(engine_id).get(field)
    return "environment" if var and environ.get(var) else ""


MAX_KEY_FILE = 64 * 1024
"""Bytes a key file may hold: a key is a line; anything bigger is the wrong file."""


class KeyFileError(Exception):
    """A key file that cannot give a key; the message says why in plain words (never with the file's content)."""


def read_key_file(path: str, stdin: TextIO) -> str:
    """The key in the file ``path`` (``-``: standard input): its one non-blank line, stripped.

    Raises :class:`KeyFileError` for a missing, unreadable, empty, too large or several-line file.
    """
    where = "standard input" if path == "-" else path
    try:
        if path == "-":
            text = stdin.read(MAX_KEY_FILE + 1)
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read(MAX_KEY_FILE + 1)
    except FileNotFoundError:
        raise KeyFileError(f"--api-key-file {where}: no such file") from None
    except IsADirectoryError:
        raise KeyFileError(f"--api-key-file {where}: is a directory, not a file") from None
    except UnicodeDecodeError:
        raise KeyFileError(f"--api-key-file {where}: not a text file") from None
    except OSError as exc:
        raise KeyFileError(f"--api-key-file {where}: cannot read ({exc.strerror or type(exc).__name__})") from None
    if len(text) > MAX_KEY_FILE:
        raise KeyFileError(f"--api-key-file {where}: too large for a key (more than {MAX_KEY_FILE // 1024} KiB)")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise KeyFileError(f"--api-key-file {where}: empty (put the key on one line)")
    if len(lines) > 1:
        raise KeyFileError(f"--api-key-file {where}: {len(lines)} lines; put the key alone on one line")
    return lines[0]


def parse_api_key_arg(engine_id: str, value: str) -> Credentials:
    """Interpret ``--api-key``: an AssemblyAI key, or for Uhlive a token or ``CLIENT_ID:CLIENT_SECRET``."""
    if engine_id.startswith("uhlive"):
        if ":" in value:
            cid, _, secret = value.partition(":")
            return Credentials(client_id=cid, client_secret=secret)
        return Credentials(token=value)
    return Credentials(api_key=value)


def resolve(engine_id: str, api_key_arg: str | None = None, env: dict[str, str] | None = None) -> Credentials:
    """Credentials for ``engine_id``: the argument, else kept for the session, else the keyring, else the
    environment."""
    if api_key_arg:
        return parse_api_key_arg(engine_id, api_key_arg)
    environ = os.environ if env is None else env
    fields = fields_for(engine_id)
    values: dict[str, str] = {}
    for field, var in fields.items():
        value = load(engine_id, field) or environ.get(var)
        if value:
            values[field] = value
    return Credentials(**values)


Audience = Literal["cli", "app"]
"""Who reads a message: someone at the command line, or in the desktop app."""


def describe_missing(engine_id: str, audience: Audience = "cli") -> str:
    """One sentence on how to provide the missing credentials of ``engine_id``, for the CLI or the app."""
    env = [var for field, var in fields_for(engine_id).items() if field in ("api_key", "client_id", "client_secret")]
    env_text = " and ".join(env)
    if audience == "app":
        from captioner.engines import registry

        info = registry.ENGINES.get(engine_id)
        name = info.name if info else engine_id
        kept = "kept in the system keyring" if keyring_available() else "for this session only: no keyring here"
        return (
            f"{name} needs an API key or credentials: enter them in Settings ({kept})"
            + (f", or set {env_text}" if env_text else "")
            + "."
        )
    if engine_id == "assemblyai":
        return (
            f"no AssemblyAI API key: pass --api-key-file PATH (or - for standard input), set {env_text}, "
            "or save it in the settings panel"
        )
    if engine_id.startswith("uhlive"):
        return (
            "no Uhlive credentials: pass --api-key-file PATH holding CLIENT_ID:CLIENT_SECRET (or an access token), "
            f"set {env_text} (or UHLIVE_CLIENT_ID, UHLIVE_USERNAME and UHLIVE_PASSWORD for an account with "
            "a user and a password), or save them in the settings panel"
        )
    return f"no credentials for {engine_id}" + (f": set {env_text}" if env_text else "")


def has_credentials(creds: Credentials) -> bool:
    password_grant = creds.client_id and creds.username and creds.password
    return bool(creds.api_key or creds.token or (creds.client_id and creds.client_secret) or password_grant)
