"""The app's controller when the microphone is unplugged and plugged in again (the real PulseAudio daemon): the
state says what happened, the user is told once that captions resume by themselves, the captions are kept, and
the state is back to listening after the replug."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from captioner.audio import open_source
from captioner.captions.transcript import Transcript
from captioner.settings import Settings
from captioner.ui.controller import CaptionController
from tests.audio.pulse import PulseServer
from tests.support.unplug import Socket, daemon, plugged  # noqa: F401 - daemon: a fixture

pytestmark = [pytest.mark.pulse]


@pytest.fixture
def socket(daemon: PulseServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Socket]:  # noqa: F811
    with plugged(daemon, monkeypatch, "headset") as socket:
        yield socket


def test_unplugged_microphone_shows_why_and_listening_again_after_the_replug(
    qtbot: Any, qloop: Any, fake_engines: Any, socket: Socket
) -> None:
    c = CaptionController(
        Settings(engine="fake", source="mic", device=socket.mic),
        transcript=Transcript(),
        engines=fake_engines,
        opener=lambda spec, rate, dev, rt: open_source(spec, rate, device=dev, realtime=rt, check_every=0.2),
    )
    states: list[tuple[str, str]] = []
    troubles: list[str] = []
    c.state_changed.connect(lambda s, m: states.append((s, m)))
    c.trouble.connect(troubles.append)
    c.start()
    qtbot.waitUntil(lambda: c.state[0] == "listening" and len(c.transcript.finals) >= 1, timeout=20000)
    kept = list(c.transcript.finals)
    socket.unplug_mic()
    qtbot.waitUntil(lambda: c.state[0] == "reconnecting", timeout=10000)
    assert c.state[1] == "PulseAudio source headset was disconnected — retrying", c.state
    assert troubles == [
        "PulseAudio source headset was disconnected. Captions resume by themselves when it is back; "
        "Captioner keeps trying."
    ]
    qtbot.wait(600)  # the engine goes on (hearing silence): that does not bring the device back
    assert c.state[0] == "reconnecting", c.state
    socket.plug()
    qtbot.waitUntil(lambda: c.state[0] == "listening", timeout=10000)
    assert c.state[1].startswith("Listening · Microphone")
    assert c.running and c.transcript.finals[: len(kept)] == kept
    with qtbot.waitSignal(c.running_changed, timeout=20000):
        c.toggle()
    assert len(troubles) == 1
