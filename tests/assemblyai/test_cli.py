"""``captioner caption --engine assemblyai`` end to end, as a subprocess, against the fake server."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.assemblyai.helpers import KEY, SCRIPT, reference_pcm
from tests.support.fakes.assemblyai import FakeAssemblyAI

REPO = Path(__file__).resolve().parents[2]


async def run_cli(*args: str, timeout: float = 30) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "captioner",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_captions_a_file_as_jsonl(wav_2s5: Path) -> None:
    async with FakeAssemblyAI(keys=(KEY,), script=SCRIPT, reference_pcm=reference_pcm(wav_2s5)) as fake:
        code, out, err = await run_cli(
            "caption",
            "--engine", "assemblyai",
            "--endpoint", fake.url,
            "--api-key", KEY,
            "--source", str(wav_2s5),
            "--format", "jsonl",
            "--word-boost", "Captioner",
            "--silence-ms", "1000",
            "--option", "speech_model=universal-streaming-english",
        )  # fmt: skip
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    finals = [r for r in records if r["type"] == "final"]
    # The unformatted final is replaced by the formatted one (same id): the writer prints both events.
    assert [(r["id"], r["text"]) for r in finals][-1] == ("1-1", "Good morning, everyone.")
    last_by_id = {r["id"]: r["text"] for r in finals}
    assert last_by_id == {"1-0": "Hello world.", "1-1": "Good morning, everyone."}
    assert all(r["engine"] == "assemblyai" for r in finals)
    assert any(r["type"] == "interim" for r in records)
    rec = fake.connections[0]
    assert rec.params["keyterms_prompt"] == ["Captioner"]
    assert (rec.params["min_turn_silence"], rec.params["max_turn_silence"]) == (312, 1000)
    assert "Traceback" not in err and KEY not in err


async def test_cli_bad_key_exits_3_with_one_line(tmp_path: Path) -> None:
    from tests.assemblyai.helpers import write_noise_wav

    wav = write_noise_wav(tmp_path / "short.wav", 0.5)
    async with FakeAssemblyAI(keys=(KEY,)) as fake:
        code, out, err = await run_cli(
            "-vv", "caption", "--engine", "assemblyai", "--endpoint", fake.url, "--api-key", "wrong-key-XYZ",
            "--source", str(wav), "--format", "jsonl",
        )  # fmt: skip
    assert code == 3
    assert "Traceback" not in err
    assert "wrong-key-XYZ" not in err and "wrong-key-XYZ" not in out
    last = err.strip().splitlines()[-1]
    assert last == "captioner: AssemblyAI rejected the API key: Unauthorized Connection: Invalid API key"
    assert len(fake.connections) == 2  # the same refusal twice in a row: final


async def test_cli_missing_key_and_bad_options_exit_2(wav_2s5: Path) -> None:
    code, _, err = await run_cli("caption", "--engine", "assemblyai", "--source", str(wav_2s5))
    assert code == 2 and err.strip().startswith("captioner: no AssemblyAI API key")
    code, _, err = await run_cli(
        "caption", "--engine", "assemblyai", "--api-key", KEY, "--source", str(wav_2s5), "--option", "chunk_ms=20"
    )
    assert code == 2
    # (the line before: the warning that --api-key shows the key in the process list)
    assert err.strip().splitlines()[-1] == (
        "captioner: AssemblyAI option chunk_ms must be an integer between 50 and 1000, got '20'"
    )
    code, _, err = await run_cli(
        "caption", "--engine", "assemblyai", "--api-key", KEY, "--source", str(wav_2s5), "--language", "ja",
        "--option", "speech_model=universal-streaming-english",
    )  # fmt: skip
    errors = [line for line in err.strip().splitlines() if not line.startswith("captioner: warning:")]
    assert code == 2 and "does not support language 'ja'" in err and len(errors) == 1
