"""The app when its autosave cannot be written (a full tmpfs, a read-only one): captions go on and reach the
views, the user is warned once (overlay and tray), nothing crashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from captioner.audio.file import WavFileSource
from captioner.captions.transcript import Change, Transcript
from captioner.settings import Settings
from captioner.ui.controller import CaptionController
from tests.support import notifications
from tests.support.mounts import tmpfs
from tests.support.speech import speech_wav


def fast(spec: str, rate: int, device: str | None, realtime: bool) -> WavFileSource:
    return WavFileSource(spec, rate, realtime=True, speed=8.0)


@pytest.mark.parametrize("fault", ["full disk", "read-only"])
def test_captions_reach_the_views_and_the_user_is_warned_once(
    qtbot: Any, qloop: Any, fake_engines: Any, tmp_path: Path, fault: str
) -> None:
    with tmpfs(tmp_path / "mnt", read_only=fault == "read-only", leave_free=2048 if fault == "full disk" else None):
        c = CaptionController(
            Settings(engine="fake"),
            transcript=Transcript(autosave=tmp_path / "mnt" / "transcripts" / "now.jsonl"),
            source=str(speech_wav("beckett.wav")),
            engines=fake_engines,
            opener=fast,
        )
        warnings: list[str] = []
        shown: list[Change] = []
        c.warning.connect(warnings.append)
        c.change.connect(shown.append)
        with qtbot.waitSignal(c.running_changed, check_params_cb=lambda r: r is False, timeout=30000):
            c.start()
        c.transcript.close()
    commits = [ch for ch in shown if ch.kind == "commit"]
    assert c.state[0] == "stopped"
    assert len(commits) == len(c.transcript.finals) > 20  # every caption reached the views
    assert len(warnings) == 1 and warnings[0].startswith("The transcript cannot be saved ("), warnings
    assert "; captions go on. It was to be kept in " in warnings[0] and warnings[0].endswith("now.jsonl.")


def test_the_desktop_shows_the_warning_in_the_overlay_and_the_tray(desktop: Any, monkeypatch: Any) -> None:
    told = notifications.recorded(monkeypatch)
    app = desktop()
    message = "The transcript cannot be saved (Read-only file system); captions go on. It was to be kept in /x."
    app.controller.warning.emit(message)
    assert app.overlay._notice == "The transcript cannot be saved (Read-only file system); captions go on."
    assert told == [("Captioner: transcript not saved", message)]
