"""The CLI contract (DESIGN.md §3): every exit-status path, one-line errors, no tracebacks, each format."""

from __future__ import annotations

import json
import wave
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from captioner import cli
from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineEvent
from captioner.engines import registry
from captioner.engines.base import Capabilities, Engine, EngineFailure
from tests.support.scripted_engine import Script, ScriptedEngine


class RefusingEngine(Engine):
    id = "refusing"
    capabilities = Capabilities(16000, True, False, False, False, needs_credentials=True, realtime_input=True)

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        async for _ in audio:
            raise EngineFailure("Test service rejected the API key", retryable=False, refused=True, code=1008)
        return
        yield  # pragma: no cover - makes this an async generator


class FlakyEngine(Engine):
    id = "flaky"
    capabilities = Capabilities(16000, True, False, False, False)

    async def stream(self, audio: AsyncIterator[AudioChunk]) -> AsyncIterator[EngineEvent]:
        async for _ in audio:
            raise EngineFailure("server error 3005", retryable=True, code=3005)
        return
        yield  # pragma: no cover - makes this an async generator


@pytest.fixture(autouse=True)
def registered_test_engines() -> Iterator[None]:
    ScriptedEngine.script = Script()
    mod = __name__
    infos = [
        registry.EngineInfo("scripted", "Scripted", "tests.support.scripted_engine", "ScriptedEngine", "test"),
        registry.EngineInfo("refusing", "Refusing", mod, "RefusingEngine", "test"),
        registry.EngineInfo("flaky", "Flaky", mod, "FlakyEngine", "test"),
        registry.EngineInfo("missing", "Missing", "captioner_no_such_module", "X", "test"),
    ]
    for info in infos:
        registry.register(info)
    yield
    for info in infos:
        registry.ENGINES.pop(info.id, None)


def write_wav(path: Path, seconds: float = 1.0, rate: int = 16000, channels: int = 1) -> Path:
    n = int(seconds * rate)
    t = np.arange(n) / rate
    mono = (np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2")
    data = np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(args))
    except SystemExit as exc:  # argparse (--version, usage errors)
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("captioner ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["caption", "--engine", "nope"], "unknown engine 'nope'"),
        (["caption", "--engine", "missing", "--source", "x.wav"], "not usable here"),
        (["caption", "--engine", "scripted", "--source", "/no/such.wav"], "no such file"),
        (["caption", "--engine", "scripted", "--source", "bogus"], "unknown source 'bogus'"),
        (["caption", "--engine", "scripted", "--silence-ms", "-5", "--source", "x.wav"], "--silence-ms"),
        (["caption", "--engine", "scripted", "--option", "novalue"], "KEY=VALUE"),
        (["caption", "--format", "docx"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        (["caption", "--engine", "refusing", "--source", "x.wav"], "no credentials for refusing"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert message in err
    assert out == ""
    assert len(err.strip().splitlines()) <= 3  # argparse prints usage + the error line


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not audio at all", "not a readable PCM WAV file"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00", "not a readable PCM WAV file"),
        (b"", "not a readable PCM WAV file"),
    ],
)
def test_bad_wav_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, message: str) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    code, _, err = run(capsys, "caption", "--engine", "scripted", "--source", str(bad))
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_directory_as_source_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "caption", "--engine", "scripted", "--source", str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_refused_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", 0.3)
    code, _, err = run(capsys, "caption", "--engine", "refusing", "--api-key", "k", "--source", str(wav))
    assert code == 3
    warning, refusal = err.strip().splitlines()
    assert refusal == "captioner: Test service rejected the API key"
    assert "--api-key-file" in warning


def test_gave_up_retrying_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", 0.3)
    code, _, err = run(
        capsys, "caption", "--engine", "flaky", "--source", str(wav), "--no-realtime", "--max-retries", "0"
    )
    assert code == 1
    assert "gave up" in err


def test_jsonl_output_and_autosave(capsys: pytest.CaptureFixture[str], tmp_path: Path, _isolated_dirs: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", 0.5)
    code, out, err = run(
        capsys, "caption", "--engine", "scripted", "--source", str(wav), "--no-realtime", "--format", "jsonl"
    )
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    finals = [r for r in records if r["type"] == "final"]
    interims = [r for r in records if r["type"] == "interim"]
    assert len(finals) == 3 and interims
    assert set(finals[0]) >= {"type", "id", "text", "start", "end", "engine"}
    assert finals[0]["engine"] == "scripted" and finals[0]["start"] == 0.0
    # interim before final for each line
    first_seen: dict[tuple[str, str], int] = {}
    for i, r in enumerate(records):
        if r["type"] in ("interim", "final"):
            first_seen.setdefault((r["id"], r["type"]), i)
    for f in finals:
        assert first_seen[(f["id"], "interim")] < first_seen[(f["id"], "final")]
    assert any(r["type"] == "status" for r in records)
    saved = list((_isolated_dirs / "data" / "transcripts").glob("*.jsonl"))
    assert len(saved) == 1 and len(saved[0].read_text().splitlines()) == 3


@pytest.mark.parametrize(("fmt", "head"), [("srt", "1\n00:00:00,000 --> 00:00:00,200\n"), ("vtt", "WEBVTT\n\n00:00")])
def test_subtitle_formats_to_stdout_and_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str, head: str
) -> None:
    wav = write_wav(tmp_path / "a.wav", 0.5)
    out_path = tmp_path / f"out.{fmt}"
    code, out, _ = run(
        capsys,
        "caption",
        "--engine",
        "scripted",
        "--source",
        str(wav),
        "--no-realtime",
        "--format",
        fmt,
        "--output",
        str(out_path),
        "--no-autosave",
    )
    assert code == 0
    assert out.startswith(head)
    assert out_path.read_text() == out
    assert out.count(" --> ") == 3


def test_text_format_prints_finals_only_when_not_a_tty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", 0.2)
    code, out, _ = run(capsys, "caption", "--engine", "scripted", "--source", str(wav), "--no-realtime")
    assert code == 0
    assert out == "c0 c50 c100 c150\n"


def test_word_boost_warning_for_engine_without_boost(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", 0.2)
    code, _, err = run(
        capsys,
        "caption",
        "--engine",
        "flaky",
        "--source",
        str(wav),
        "--no-realtime",
        "--word-boost",
        "Kubernetes",
        "--max-retries",
        "0",
    )
    assert code == 1  # the flaky engine never succeeds; the warning came first
    assert "word boost is not supported by this engine" in err


def test_engines_lists_every_engine_with_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "engines", "--json")
    assert code == 0
    rows = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert {"local", "assemblyai", "uhlive", "uhlive-h2b"} <= set(rows)
    assert rows["missing"]["available"] is False
    assert "captioner_no_such_module" in rows["missing"]["reason"]
    code, out, _ = run(capsys, "engines")
    assert "local" in out and "(default)" in out


def test_api_key_never_printed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", 0.2)
    code, out, err = run(
        capsys, "-vv", "caption", "--engine", "refusing", "--api-key", "SECRET-KEY-123", "--source", str(wav)
    )
    assert code == 3
    assert "SECRET-KEY-123" not in out + err
