"""`captioner caption` end to end for both Uhlive engines, as a subprocess, against the fakes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from tests.support.fakes.uhlive import FakeConversationServer, FakeH2BServer, FakeTokenServer, burst_times
from tests.uhlive.helpers import SHORT

REPO = Path(__file__).resolve().parents[2]


async def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 40.0) -> tuple[int, str, str]:
    full_env = {**os.environ, **(env or {})}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "captioner",
        "caption",
        *args,
        cwd=REPO,
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def common(server_url: str, tokens: FakeTokenServer, wav: Path) -> list[str]:
    return ["--source", str(wav), "--endpoint", server_url, "--auth-endpoint", tokens.url, "--no-autosave"]


@pytest.mark.parametrize("engine", ["uhlive", "uhlive-h2b"])
async def test_cli_jsonl(
    engine: str,
    conversation_server: FakeConversationServer,
    h2b_server: FakeH2BServer,
    token_server: FakeTokenServer,
    short_tone: Path,
) -> None:
    server = conversation_server if engine == "uhlive" else h2b_server
    code, out, err = await run_cli(
        "--engine",
        engine,
        *common(server.url, token_server, short_tone),
        "--format",
        "jsonl",
        "--api-key",
        "cid:s3cret",
        "--word-boost",
        "Dupont",
        "--language",
        "en",
    )
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    finals = [r for r in records if r["type"] == "final" and r["text"]]
    (text, start, end) = burst_times(SHORT)[0]
    expected = text[:1].upper() + text[1:] + "." if engine == "uhlive" else text
    assert finals[-1]["text"] == expected and finals[-1]["engine"] == engine
    assert finals[-1]["start"] == pytest.approx(start, abs=0.1)
    assert finals[-1]["end"] == pytest.approx(end, abs=0.1)
    if engine == "uhlive":
        assert any(r["type"] == "interim" and r["id"] == finals[-1]["id"] for r in records)
    else:
        assert any(r["type"] == "status" and r["state"] == "speech_started" for r in records)
    assert "no vocabulary boosting" in err  # the word boost warning
    assert "s3cret" not in out + err
    assert len(server.connections) == 1


async def test_cli_credentials_from_environment(
    conversation_server: FakeConversationServer, token_server: FakeTokenServer, short_tone: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "out.txt"
    code, out, err = await run_cli(
        "--engine",
        "uhlive",
        *common(conversation_server.url, token_server, short_tone),
        "--output",
        str(saved),
        env={"UHLIVE_CLIENT_ID": "cid", "UHLIVE_CLIENT_SECRET": "s3cret"},
    )
    assert code == 0, err
    # The text stream prints a line when it commits (the raw segment); the saved file has the normalised text.
    assert out.strip().splitlines() == ["good morning everyone"]
    assert saved.read_text().strip() == "Good morning everyone."
    assert token_server.requests[0]["client_id"] == "cid"


@pytest.mark.parametrize("engine", ["uhlive", "uhlive-h2b"])
async def test_cli_bad_credentials_exit_3(
    engine: str,
    conversation_server: FakeConversationServer,
    h2b_server: FakeH2BServer,
    token_server: FakeTokenServer,
    short_tone: Path,
) -> None:
    server = conversation_server if engine == "uhlive" else h2b_server
    code, _out, err = await run_cli(
        "--engine", engine, *common(server.url, token_server, short_tone), "--api-key", "cid:wrong"
    )
    assert code == 3
    lines = err.strip().splitlines()
    assert lines[-1].startswith("captioner: Uhlive refused the client credentials (HTTP 401")
    assert "Traceback" not in err and "wrong" not in err


async def test_cli_bad_options_exit_2(token_server: FakeTokenServer, short_tone: Path) -> None:
    code, _, err = await run_cli(
        "--engine", "uhlive", "--source", str(short_tone), "--api-key", "t0ken", "--language", "it"
    )
    assert code == 2
    assert (
        err.strip().splitlines()[-1] == "captioner: Uhlive does not offer language 'it'; choose one of fr, en, es, de"
    )
    code, _, err = await run_cli(
        "--engine", "uhlive-h2b", "--source", str(short_tone), "--api-key", "t0ken", "--endpoint", "https://x"
    )
    assert code == 2 and "ws:// or wss://" in err and "Traceback" not in err
