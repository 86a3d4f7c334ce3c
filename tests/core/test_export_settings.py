"""The settings the transcript window's export keeps: defaults, range, round trip through the settings file."""

from __future__ import annotations

from pathlib import Path

from captioner import settings as S
from captioner.captions.cues import CueLimits


def test_defaults_are_the_broadcast_limits_and_the_filter_is_on() -> None:
    s = S.Settings()
    assert s.export.limits() == CueLimits() and s.filter_profanity


def test_out_of_range_limits_are_brought_back_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(
        '{"version": 2, "filter_profanity": false, "export": {"cue_chars": 3, "cue_lines": 9, "folder": "/x"}}'
    )
    s = S.load(path)
    assert (s.export.cue_chars, s.export.cue_lines, s.export.folder) == (10, 5, "/x")
    assert s.filter_profanity is False
    S.save(s, path)
    assert S.load(path) == s
    assert s.export.limits().check() == s.export.limits()
