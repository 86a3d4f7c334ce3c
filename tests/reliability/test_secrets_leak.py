"""Secrets: a run with a key leaves it nowhere — not on stdout or stderr (with ``-vv``, so the websockets debug
log of the handshake is there too), not in any file of the log, data (autosave) or config (settings) directories.

The runs are the real ``captioner`` command against the fake AssemblyAI and Uhlive servers on 127.0.0.1: one that
captions, one through a dropped connection (a reconnect and its messages), one the service refuses. The key is
given the safe ways (``--api-key-file PATH`` and ``--api-key-file -``, standard input), and the process list is
checked too: with ``--api-key-file`` the key is not in the command line other users can read; with ``--api-key``
it is, and the command says so.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import pytest

from captioner import secrets, settings
from tests.assemblyai.helpers import SCRIPT, reference_pcm, write_noise_wav
from tests.support.fakes.assemblyai import FakeAssemblyAI, Fault
from tests.support.fakes.uhlive import FakeConversationServer, FakeTokenServer, tone_wav
from tests.support.repo import REPO

KEY = "sk-live-SECRET-5f1e9a7c3b2d4e6f"
UHLIVE_SECRET = "uh-SECRET-c1i3nt-s3cr3t-77"


def _dirs(tmp_path: Path) -> dict[str, str]:
    return {
        var: str(tmp_path / sub)
        for var, sub in (
            ("CAPTIONER_DATA_DIR", "data"),
            ("CAPTIONER_CONFIG_DIR", "config"),
            ("CAPTIONER_LOG_DIR", "log"),
        )
    }


async def _run(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, **_dirs(tmp_path), "PYTHONPATH": str(REPO)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "captioner", "-vv", "caption", *args,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        cwd=REPO, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin else None), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _files(tmp_path: Path) -> dict[str, str]:
    """Every file the runs left in the data, config and log directories, with its text."""
    found = {}
    for where in _dirs(tmp_path).values():
        for path in Path(where).rglob("*"):
            if path.is_file():
                found[str(path.relative_to(tmp_path))] = path.read_bytes().decode("utf-8", "replace")
    return found


def _absent(secret: str, where: dict[str, str]) -> None:
    for name, text in where.items():
        assert secret not in text, f"the secret is in {name}"
        assert secret[-12:] not in text, f"the end of the secret is in {name}"


async def test_an_assemblyai_key_is_nowhere(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "noise.wav", 2.5)
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY + "\n")
    seen: dict[str, str] = {}
    async with FakeAssemblyAI(
        keys=(KEY,), script=SCRIPT, reference_pcm=reference_pcm(wav), faults=(Fault(0, 1.0, "drop"),)
    ) as fake:
        common = ["--engine", "assemblyai", "--endpoint", fake.url, "--source", str(wav), "--format", "jsonl"]
        code, out, err = await _run(tmp_path, *common, "--api-key-file", "-", stdin=KEY + "\n")
        assert code == 0, err
        assert '"final"' in out and len(fake.connections) == 2, "the run captioned through a reconnect"
        seen |= {"stdout (captions)": out, "stderr (captions)": err}
    async with FakeAssemblyAI(keys=("another-key",)) as fake:
        code, out, err = await _run(
            tmp_path,
            "--engine",
            "assemblyai",
            "--endpoint",
            fake.url,
            "--source",
            str(wav),
            "--api-key-file",
            str(key_file),
        )
        assert code == 3 and "rejected the API key" in err
        seen |= {"stdout (refused)": out, "stderr (refused)": err}
    assert "websockets" in seen["stderr (captions)"], "the websockets debug log is part of what is checked"
    files = _files(tmp_path)
    assert any("transcripts" in name for name in files), "the autosave is part of what is checked"
    _absent(KEY, seen | files)
    print(f"\nsecrets: AssemblyAI key absent from {len(seen)} outputs and {len(files)} files: {sorted(files)}")


async def test_uhlive_credentials_and_token_are_nowhere(tmp_path: Path) -> None:
    wav = tone_wav(tmp_path / "tone.wav", [(0, 0.2), (700, 0.5), (0, 0.7)])
    key_file = tmp_path / "uhlive.txt"
    key_file.write_text(f"cid:{UHLIVE_SECRET}\n")
    with FakeTokenServer(client_secret=UHLIVE_SECRET) as tokens:
        async with FakeConversationServer(tokens.issued) as server:
            code, out, err = await _run(
                tmp_path, "--engine", "uhlive", "--source", str(wav), "--endpoint", server.url,
                "--auth-endpoint", tokens.url, "--api-key-file", str(key_file), "--format", "jsonl",
            )  # fmt: skip
        assert code == 0, err
        issued = list(tokens.issued)
    assert issued, "the run got an access token"
    seen = {"stdout": out, "stderr": err}
    files = _files(tmp_path)
    for secret in (UHLIVE_SECRET, *issued):
        _absent(secret, seen | files)
    print(
        f"\nsecrets: Uhlive client secret and {len(issued)} access token(s) absent from stdout, stderr and "
        f"{len(files)} files"
    )


def test_the_settings_file_never_holds_a_key(tmp_path: Path) -> None:
    """A key saved from the settings panel goes to the keyring (or the session), never into settings.json."""
    secrets.store("assemblyai", "api_key", KEY)
    secrets.keep_for_session("uhlive", "client_secret", UHLIVE_SECRET)
    path = settings.save(settings.Settings().with_changes(engine="assemblyai"), tmp_path / "settings.json")
    assert secrets.load("assemblyai", "api_key") == KEY
    _absent(KEY, {"settings.json": path.read_text()})
    _absent(UHLIVE_SECRET, {"settings.json": path.read_text()})


async def _cmdline_while_running(tmp_path: Path, *args: str, stdin: str | None = None) -> tuple[str, str]:
    """The process's command line as every user reads it (``/proc/PID/cmdline``), and its stderr."""
    wav = write_noise_wav(tmp_path / "long.wav", 3.0)
    env = {**os.environ, **_dirs(tmp_path), "PYTHONPATH": str(REPO)}
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "captioner", "caption", "--engine", "assemblyai", "--endpoint", fake.url,
            "--source", str(wav), *args,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            cwd=REPO, env=env,
        )  # fmt: skip
        assert proc.stdin is not None and proc.stderr is not None
        if stdin is not None:
            proc.stdin.write(stdin.encode())
        proc.stdin.close()
        deadline = time.monotonic() + 30
        while not fake.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode().replace("\0", " ")
        proc.terminate()
        err = (await proc.stderr.read()).decode()
        await proc.wait()
    assert fake.connections, "the run connected"
    return cmdline, err


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
async def test_the_process_list_shows_a_key_only_from_api_key(tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY)
    for args, stdin in ((["--api-key-file", str(key_file)], None), (["--api-key-file", "-"], KEY)):
        cmdline, err = await _cmdline_while_running(tmp_path, *args, stdin=stdin)
        assert KEY not in cmdline and "--api-key-file" in cmdline
        assert "warning" not in err and KEY not in err
    cmdline, err = await _cmdline_while_running(tmp_path, "--api-key", KEY)
    assert KEY in cmdline, "the reason for the warning: any user can read it"
    assert "visible to other users" in err and "--api-key-file" in err and KEY not in err


@pytest.mark.parametrize("given", ["environment", "key file"])
def test_a_crash_report_never_quotes_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], given: str
) -> None:
    """An unexpected error whose message quotes the key: the one line on stderr and crash.log show ``***``."""
    from captioner import cli

    monkeypatch.setenv("CAPTIONER_LOG_DIR", str(tmp_path / "logs"))
    argv = ["caption", "--engine", "assemblyai", "--source", str(tmp_path / "in.wav")]
    if given == "environment":
        monkeypatch.setenv("ASSEMBLYAI_API_KEY", KEY)
    else:
        monkeypatch.delenv("ASSEMBLYAI_API_KEY", raising=False)
        (tmp_path / "key").write_text(KEY + "\n")
        argv[1:1] = ["--api-key-file", str(tmp_path / "key")]

    async def crash(args: object, out: object, err: object) -> int:
        cli._api_key(args, sys.stderr)  # type: ignore[arg-type]  # reads the key file as the command does
        raise RuntimeError(f"server said: invalid key {KEY!r} (Authorization: {KEY})")

    monkeypatch.setattr(cli, "_caption", crash)
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    log = (tmp_path / "logs" / "crash.log").read_text()
    assert "internal error: RuntimeError" in err and "***" in err
    assert "RuntimeError" in log
    assert KEY not in err and KEY not in log
