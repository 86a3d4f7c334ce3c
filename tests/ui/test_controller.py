"""CaptionController: a real Session on a real WAV source (speech fixture) on the qasync loop.

The engine is the boundary here (a scripted engine naming the audio chunks it heard), so the tests can check
exactly which audio reached the captions across live updates and restarts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from captioner.audio.file import WavFileSource
from captioner.captions.transcript import Change
from captioner.engines.base import EngineFailure
from captioner.settings import Settings
from captioner.ui.controller import CaptionController
from tests.support.scripted_engine import FakeEngine, RestartingEngine
from tests.support.speech import speech_wav


def opener(speed: float | None) -> Any:
    """WAV opener: ``speed`` × real time (a live-like source), or as fast as consumed (None)."""

    def open_(spec: str, rate: int, device: str | None, realtime: bool) -> WavFileSource:
        return WavFileSource(spec, rate, realtime=speed is not None, speed=speed or 1.0)

    return open_


def chunk_starts(controller: CaptionController) -> list[int]:
    """Start times (ms) of every chunk named in the committed captions, in order."""
    return [int(m) for line in controller.transcript.finals for m in re.findall(r"c(\d+)", line.text)]


def all_chunks(path: Path) -> list[int]:
    src = WavFileSource(path, 16000, realtime=False)
    n = -(-len(src._pcm) // (src.chunk_samples * 2))
    return [round(i * src.chunk_samples / 16000 * 1000) for i in range(n)]


@pytest.fixture
def beckett() -> Path:
    return speech_wav("beckett.wav")


def make(
    fake_engines: dict[str, Any], engine: str, wav: Path, speed: float | None = None, **settings: Any
) -> CaptionController:
    return CaptionController(
        Settings(engine=engine, **settings), source=str(wav), engines=fake_engines, opener=opener(speed)
    )


def test_runs_a_session_and_reemits_changes_state_and_level(
    qtbot: Any, qloop: Any, fake_engines: Any, beckett: Path
) -> None:
    c = make(fake_engines, "fake", beckett, speed=8.0)
    changes: list[Change] = []
    states: list[str] = []
    levels: list[float] = []
    c.change.connect(changes.append)
    c.state_changed.connect(lambda s, m: states.append(s))
    c.level.connect(levels.append)
    with qtbot.waitSignal(c.running_changed, check_params_cb=lambda r: r is False, timeout=20000):
        assert c.start()
    assert {"connecting", "listening"} <= set(states) and states[-1] == "stopped"
    assert any(ch.kind == "interim" for ch in changes) and any(ch.kind == "commit" for ch in changes)
    assert chunk_starts(c) == all_chunks(beckett)  # every chunk of the file captioned, once, in order
    assert levels and max(levels) > -40  # real speech arrives
    assert all(line.line_id.startswith("r1.1-") for line in c.transcript.finals)


def test_word_boost_reaches_the_running_session_live_without_losing_audio(
    qtbot: Any, qloop: Any, fake_engines: Any, beckett: Path
) -> None:
    c = make(fake_engines, "fake", beckett, speed=8.0)
    c.start()
    qtbot.waitUntil(lambda: len(c.transcript.finals) >= 2, timeout=10000)
    assert c.running
    c.apply_settings(c.settings.with_changes(word_boost=("Beckett", "Worstward")))
    qtbot.waitUntil(lambda: bool(FakeEngine.script.instances[0].updates), timeout=5000)
    assert FakeEngine.script.instances[0].updates[-1].word_boost == ("Beckett", "Worstward")
    with qtbot.waitSignal(c.running_changed, timeout=20000):
        pass
    assert len(FakeEngine.script.instances) == 1  # applied live: no restart
    assert chunk_starts(c) == all_chunks(beckett)


def test_silence_threshold_restarts_seamlessly_when_the_engine_cannot_update(
    qtbot: Any, qloop: Any, fake_engines: Any, beckett: Path
) -> None:
    c = make(fake_engines, "restarting", beckett, speed=8.0)
    c.start()
    qtbot.waitUntil(lambda: len(c.transcript.finals) >= 2, timeout=10000)
    c.apply_settings(c.settings.with_changes(silence_ms=1500))
    qtbot.waitUntil(lambda: len(RestartingEngine.script.instances) == 2, timeout=5000)
    assert RestartingEngine.script.instances[1].options.silence_ms == 1500
    with qtbot.waitSignal(c.running_changed, timeout=20000):
        pass
    starts = chunk_starts(c)
    assert sorted(starts) == all_chunks(beckett)  # nothing lost, nothing twice across the restart
    assert RestartingEngine.script.instances[1].received  # the new engine did caption audio


def test_engine_change_restarts_on_the_same_transcript(
    qtbot: Any, qloop: Any, fake_engines: Any, beckett: Path
) -> None:
    c = make(fake_engines, "fake", beckett, speed=8.0)
    c.start()
    qtbot.waitUntil(lambda: len(c.transcript.finals) >= 2, timeout=10000)
    c.apply_settings(c.settings.with_changes(engine="restarting"))
    qtbot.waitUntil(lambda: bool(RestartingEngine.script.instances) and c.running, timeout=10000)
    qtbot.waitUntil(lambda: any(line.line_id.startswith("r2.1-") for line in c.transcript.finals), timeout=10000)
    ids = [line.line_id for line in c.transcript.finals]
    assert len(ids) == len(set(ids))
    assert any(i.startswith("r1.1-") for i in ids)  # the first run's lines are kept
    # One timeline: the new run's source starts at 0 again, but its lines come after the first run's.
    first_end = max(line.end or 0.0 for line in c.transcript.finals if line.line_id.startswith("r1."))
    second = [line for line in c.transcript.finals if line.line_id.startswith("r2.")]
    assert second[0].start is not None and second[0].start >= round(first_end, 3)  # times are in whole ms
    starts = [line.start for line in c.transcript.finals]
    assert starts == sorted(starts)  # type: ignore[type-var]


def test_stop_flushes_the_last_words(qtbot: Any, qloop: Any, fake_engines: Any, beckett: Path, run: Any) -> None:
    c = make(fake_engines, "fake", beckett, speed=4.0)
    c.start()
    qtbot.waitUntil(lambda: bool(c.transcript.live) and len(c.transcript.finals) >= 1, timeout=10000)
    run(c.stop())
    assert not c.running and c.state[0] == "stopped"
    assert not c.transcript.live  # the interim line was finalised, not dropped
    heard = [round(ch.start * 1000) for ch in FakeEngine.script.instances[0].received]
    assert chunk_starts(c) == heard
    run(c.shutdown())
    saved = c.transcript.autosave_path
    assert saved is not None and saved.read_text(encoding="utf-8").count("\n") == len(c.transcript.finals)


@pytest.mark.parametrize(
    ("settings", "source", "expect"),
    [
        ({"engine": "nope"}, None, "unknown engine 'nope'"),
        ({"engine": "assemblyai"}, None, "needs an API key"),
        ({"engine": "fake"}, "/no/such/file.wav", "no such file"),
    ],
)
def test_setup_errors_are_reported_not_raised(
    qtbot: Any, qloop: Any, fake_engines: Any, beckett: Path, settings: dict[str, Any], source: str | None, expect: str
) -> None:
    from captioner.audio import open_source

    c = CaptionController(
        Settings(**settings),
        source=source or str(beckett),
        engines=fake_engines,
        opener=lambda spec, rate, dev, rt: open_source(spec, rate, device=dev, realtime=rt),
    )
    with qtbot.waitSignal(c.error) as sig:
        assert c.start() is False
    assert expect in sig.args[0]
    assert "Settings" in sig.args[0] or "Check" in sig.args[0]  # says what to do next
    assert c.state[0] == "error" and not c.running


def test_a_refusal_mid_run_becomes_an_error_and_the_controller_can_start_again(
    qtbot: Any, qloop: Any, fake_engines: Any, beckett: Path
) -> None:
    FakeEngine.script.fail_at_chunk = {0: EngineFailure("bad key", retryable=False, refused=True)}
    c = make(fake_engines, "fake", beckett, speed=8.0)
    with qtbot.waitSignal(c.error, timeout=10000) as sig:
        c.start()
    assert "bad key" in sig.args[0] and "key" in sig.args[0]
    qtbot.waitUntil(lambda: not c.running)
    assert c.state[0] == "error"
    with qtbot.waitSignal(c.running_changed, check_params_cb=lambda r: r is False, timeout=20000):
        assert c.start()
    assert c.state[0] == "stopped"


def test_a_dropped_connection_shows_reconnecting_and_captioning_goes_on(
    qtbot: Any, qloop: Any, fake_engines: Any, beckett: Path
) -> None:
    from captioner.session.session import RetryPolicy

    FakeEngine.script.fail_at_chunk = {0: EngineFailure("connection lost", retryable=True)}
    c = CaptionController(
        Settings(engine="fake"),
        source=str(beckett),
        engines=fake_engines,
        opener=opener(8.0),
        retry=RetryPolicy(initial=0.05),
    )
    states: list[tuple[str, str]] = []
    c.state_changed.connect(lambda s, m: states.append((s, m)))
    with qtbot.waitSignal(c.running_changed, check_params_cb=lambda r: r is False, timeout=30000):
        c.start()
    assert any(s == "reconnecting" and m.startswith("Connection lost — ") for s, m in states)
    assert states[-1][0] == "stopped"
    assert sorted(set(chunk_starts(c))) == all_chunks(beckett)  # replayed from the last committed caption


def test_views_get_profanity_masked_unless_the_setting_is_off(qtbot: Any) -> None:
    from captioner.captions.events import Final
    from captioner.captions.transcript import Transcript

    c = CaptionController(Settings(), transcript=Transcript())
    shown: list[str] = []
    c.change.connect(lambda change: shown.append(change.line.text))
    c.transcript.apply(Final(line_id="1", text="oh shit", engine="e"))
    c.apply_settings(c.settings.with_changes(filter_profanity=False))
    c.transcript.apply(Final(line_id="2", text="oh shit", engine="e"))
    assert shown == ["oh s***", "oh shit"]
    assert [line.text for line in c.transcript.finals] == ["oh shit", "oh shit"]
