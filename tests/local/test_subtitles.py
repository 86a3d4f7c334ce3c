"""Subtitles of real speech: ``captioner caption --format srt`` on two_cities, split on the local engine's word
times, every cue within the broadcast limits, in order, and no word lost."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from captioner import cli


def test_srt_of_real_speech_follows_subtitle_conventions(
    speech_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    srt = tmp_path / "talk.srt"
    args = ["caption", "--source", str(speech_wav), "--no-realtime", "--no-autosave", "--format", "srt"]
    assert cli.main([*args, "--output", str(srt)]) == 0
    streamed = capsys.readouterr().out
    jsonl = tmp_path / "talk.jsonl"
    assert cli.main([*args[:-1], "jsonl", "--output", str(jsonl)]) == 0
    finals = [json.loads(r) for r in jsonl.read_text().splitlines() if '"final"' in r]
    assert max(len(f["text"]) for f in finals) > 84  # lines that cannot be one cue
    for text in (srt.read_text(encoding="utf-8"), streamed):
        blocks = text.strip().split("\n\n")
        times = []
        for block in blocks:
            rows = block.splitlines()
            m = re.fullmatch(r"(\d+):(\d+):(\d+),(\d+) --> (\d+):(\d+):(\d+),(\d+)", rows[1])
            assert m, rows
            h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, m.groups())
            start, end = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
            assert 0 < end - start <= 7.0
            assert 1 <= len(rows[2:]) <= 2 and all(len(r) <= 42 for r in rows[2:]), rows
            times += [start, end]
        assert times == sorted(times)
        words = " ".join(" ".join(b.splitlines()[2:]) for b in blocks).split()
        assert words == " ".join(f["text"] for f in finals).split()
