"""The settings model: load/save round trip, v1 → v2 migration, damaged files, no secrets on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from captioner import settings as S


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    original = S.Settings(
        engine="assemblyai",
        source="system",
        device="alsa_output.pci.monitor",
        word_boost=("Kubernetes", "Dr. Nguyen"),
        silence_ms=1250,
        engines={"assemblyai": S.EngineSettings(language="en", endpoint="wss://eu.example/v3/ws")},
        appearance=S.Appearance(font_family="DejaVu Serif", font_size=40, background_opacity=0.25, lines=4),
        overlay=S.OverlaySettings(
            position="top", click_through=True, geometry={"Main 1920x1080": S.Geometry(10, 20, 800, 120)}
        ),
        feed=S.FeedSettings(enabled=True, host="0.0.0.0", port=9123),
        autostart_captions=False,
    )
    path = S.save(original, tmp_path / "settings.json")
    loaded = S.load(path)
    assert loaded == original
    assert isinstance(loaded.word_boost, tuple)
    assert loaded.overlay.geometry["Main 1920x1080"] == S.Geometry(10, 20, 800, 120)


def test_default_path_is_the_config_dir() -> None:
    path = S.save(S.Settings(silence_ms=900))
    assert path == S.settings_path() and path.is_file()
    assert S.load().silence_ms == 900


def test_v1_file_is_migrated_to_v2(tmp_path: Path) -> None:
    v1 = {
        "version": 1,
        "engine": "local",
        "font_size": 36,
        "font_family": "DejaVu Sans",
        "opacity": 0.4,
        "geometry": {"x": 5, "y": 6, "width": 700, "height": 100},
        "word_boost": ["alpha"],
    }
    p = tmp_path / "settings.json"
    p.write_text(json.dumps(v1))
    s = S.load(p)
    assert s.version == S.SCHEMA_VERSION == 3
    assert s.appearance.font_size == 36
    assert s.appearance.font_family == "DejaVu Sans"
    assert s.appearance.background_opacity == pytest.approx(0.4)
    assert s.overlay.geometry == {"default": S.Geometry(5, 6, 700, 100)}
    assert s.word_boost == ("alpha",)
    # Saving writes the new layout: nothing flat is left behind.
    data = json.loads(S.save(s, p).read_text())
    assert data["version"] == 3 and "opacity" not in data and "geometry" not in data


def test_out_of_range_and_wrong_types_fall_back(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"silence_ms": 99999, "source": "nonsense", "appearance": {"lines": 9, "outline": "yes"}}))
    s = S.load(p)
    assert s.silence_ms == S.SILENCE_MS_RANGE[1]
    assert s.source == "mic"
    assert s.appearance.lines == 5
    assert s.appearance.outline is True  # the bad value took the default


def test_feed_settings_out_of_range_fall_back(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"feed": {"enabled": "yes", "host": "  ", "port": 70000}}))
    assert S.load(p).feed == S.FeedSettings(enabled=False, host="127.0.0.1", port=65535)
    p.write_text(json.dumps({"version": 2, "engine": "local"}))  # a file from before the feed: off
    assert S.load(p).feed == S.FeedSettings()


def test_damaged_file_is_kept_aside(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    p.write_text("{not json")
    assert S.load(p) == S.Settings()
    [backup] = tmp_path.glob("settings.json.bad-*")
    assert backup.read_text() == "{not json"


def test_save_refuses_secret_looking_settings(tmp_path: Path) -> None:
    s = S.Settings(engines={"assemblyai": S.EngineSettings(extra={"api_key": "sk-123"})})
    with pytest.raises(ValueError, match="secret"):
        S.save(s, tmp_path / "settings.json")
    assert not (tmp_path / "settings.json").exists()


def test_a_version_2_file_moves_from_the_old_offline_default_to_moonshine(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"version": 2, "engine": "local", "word_boost": ["alpha"]}))
    s = S.load(p)
    assert s.engine == "moonshine" and s.word_boost == ("alpha",)
    p.write_text(json.dumps({"version": 2, "engine": "assemblyai"}))
    assert S.load(p).engine == "assemblyai"  # a cloud choice is the user's own: kept


def test_local_chosen_from_version_3_on_is_kept(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"version": 3, "engine": "local"}))
    assert S.load(p).engine == "local"


def test_a_version_2_file_with_the_old_default_opacity_gets_the_legible_one(tmp_path: Path) -> None:
    p = tmp_path / "settings.json"
    p.write_text(json.dumps({"version": 2, "appearance": {"background_opacity": 0.6, "font_size": 30}}))
    s = S.load(p)
    assert s.appearance.background_opacity == S.Appearance().background_opacity > 0.6
    assert s.appearance.font_size == 30
    p.write_text(json.dumps({"version": 2, "appearance": {"background_opacity": 0.4}}))
    assert S.load(p).appearance.background_opacity == pytest.approx(0.4)  # the user's own choice: kept
