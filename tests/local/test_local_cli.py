"""The local engine through the ``captioner`` command: JSON lines end to end, any WAV rate and channel count."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from captioner import cli
from captioner.engines.local.engine import LocalEngine
from tests.local.helpers import clip
from tests.support.repo import REPO
from tests.support.speech import speech_wav


@pytest.fixture(scope="module")
def opening(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ "It was the best of times, it was the worst of times" (two_cities 0-4.6 s, 48 kHz mono)."""
    return clip(speech_wav("two_cities.wav"), tmp_path_factory.mktemp("clips") / "opening.wav", 0.0, 4.6)


def test_cli_jsonl_end_to_end(opening: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "captioner",
            "caption",
            "--engine",
            "local",
            "--source",
            str(opening),
            "--no-realtime",
            "--format",
            "jsonl",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    kinds = [r["type"] for r in records]
    assert "interim" in kinds and "final" in kinds
    finals = [r for r in records if r["type"] == "final"]
    for f in finals:
        assert set(f) >= {"type", "id", "text", "start", "end", "engine"}
        assert f["engine"] == "local"
        first_interim = next(i for i, r in enumerate(records) if r["type"] == "interim" and r["id"] == f["id"])
        assert first_interim < records.index(f)
        assert not [r for r in records[records.index(f) :] if r["type"] == "interim" and r["id"] == f["id"]]
    text = " ".join(f["text"] for f in finals)
    assert "best of times" in text and "worst" in text, text


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_any_wav_rate_and_channel_count_captions(
    opening: Path, tmp_path: Path, rate: int, channels: int, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = clip(opening, tmp_path / f"opening-{rate}-{channels}.wav", 0.0, 4.6, rate=rate, channels=channels)
    code = cli.main(
        ["caption", "--engine", "local", "--source", str(wav), "--no-realtime", "--format", "jsonl", "--no-autosave"]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    finals = [json.loads(line) for line in out.out.splitlines() if '"final"' in line]
    text = " ".join(f["text"] for f in finals)
    if rate == 8000:
        # Telephone-band audio has nothing above 4 kHz, where the 16 kHz model expects energy: it captions,
        # but badly (measured: "it would but the unharmed what world thought"; see docs/local-engine.md).
        assert len(text.split()) >= 3, text
    else:
        assert {"best", "times", "worst"} <= set(text.split()), text


def test_cli_rejects_bad_local_options(opening: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["caption", "--engine", "local", "--source", str(opening), "--language", "fr", "--no-autosave"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "only knows English" in err
    code = cli.main(
        ["caption", "--engine", "local", "--source", str(opening), "--option", "rtf_budget=x", "--no-autosave"]
    )
    assert code == 2 and "rtf_budget" in capsys.readouterr().err


def test_check_available_reports_the_bundled_model() -> None:
    ok, why = LocalEngine.check_available()
    assert ok, why
    assert "en-US" in why


def test_engines_command_lists_local_as_usable(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["engines", "--json"]) == 0
    recs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    local = next(r for r in recs if r["id"] == "local")
    assert local["available"] is True
    assert local["interim"] and local["word_boost"] and local["live_update"] and local["silence_threshold"]
    assert local["sample_rate"] == 16000
