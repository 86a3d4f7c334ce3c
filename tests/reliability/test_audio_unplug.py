"""Audio device faults with the real PulseAudio daemon: the device being captured is unplugged mid-caption (its
module unloaded) and plugged in again. The session says what happened, keeps every caption, and resumes by
itself; the time from the replug to audio reaching the engine again is printed and bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from captioner.audio import open_source
from captioner.captions.events import CaptionEvent, EngineError, Notice
from captioner.session.build import SessionRequest, prepare
from tests.audio.pulse import PulseServer
from tests.support.scripted_engine import Script, ScriptedEngine
from tests.support.speech import speech_wav
from tests.support.unplug import Socket, daemon, plugged  # noqa: F401 - daemon: a fixture

pytestmark = [pytest.mark.pulse]

CHECK_EVERY = 0.2  # how often the source asks the sound server (the app's default is 1 s)


@pytest.fixture
def socket(daemon: PulseServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Socket]:  # noqa: F811
    with plugged(daemon, monkeypatch, "usbdev") as socket:
        yield socket


async def wait_for(condition: object, timeout: float) -> float:
    """Poll ``condition()`` until true; the monotonic time it became true."""
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)
    return time.monotonic()


def heard(engine: ScriptedEngine, since: float) -> bool:
    """The engine received sound (not silence) captured after ``since``."""
    return any(not engine.quiet(c) and c.captured_at > since for c in engine.received)


@pytest.mark.parametrize("kind", ["mic", "system"])
async def test_unplug_then_replug_resumes_by_itself_and_keeps_the_transcript(socket: Socket, kind: str) -> None:
    ScriptedEngine.script = Script(per_final=10)
    device = socket.mic if kind == "mic" else socket.monitor
    plan = prepare(
        SessionRequest(engine="scripted", source=kind, device=device), overrides={"scripted": ScriptedEngine}
    )
    source = open_source(kind, 16000, device=device, check_every=CHECK_EVERY)
    events: list[CaptionEvent] = []
    session = plan.session(source, on_event=events.append)
    task = asyncio.create_task(session.run())
    speech = speech_wav("two_cities.wav")
    player = socket.server.play(speech, sink=socket.sink)
    try:
        await wait_for(lambda: heard(ScriptedEngine.script.instances[-1], 0.0), 20)
        await wait_for(lambda: len(session.transcript.finals) >= 2, 20)
        before = [(f.line_id, f.text) for f in session.transcript.finals]
        unplugged = time.monotonic()
        if kind == "mic":
            socket.unplug_mic()
        else:
            socket.unplug_output()
        told = await wait_for(lambda: any(isinstance(e, EngineError) for e in events), 10)
        [lost] = [e for e in events if isinstance(e, EngineError)]
        assert lost.retryable and lost.message == f"{source.description} was disconnected", lost
        print(f"\n[{kind}] unplug noticed in {told - unplugged:.2f} s: {lost.message!r}")
        await asyncio.sleep(3 * CHECK_EVERY)  # unplugged for a while: nothing may come from elsewhere
        engine = ScriptedEngine.script.instances[-1]
        assert not heard(engine, told + CHECK_EVERY), "audio arrived from another device while unplugged"
        if kind == "system":  # the player went with its sink
            player.kill()
            player.wait(10)
        socket.plug()
        replugged = time.monotonic()
        if kind == "system":
            player = socket.server.play(speech, sink=socket.sink)
        back = await wait_for(lambda: any(isinstance(e, Notice) and "is back" in e.message for e in events), 10)
        resumed = await wait_for(lambda: heard(engine, replugged), 20)
        print(
            f"[{kind}] replug → capture resumed in {back - replugged:.2f} s, sound at the engine in "
            f"{resumed - replugged:.2f} s"
        )
        assert back - replugged < CHECK_EVERY + 1.0  # the next check, then opening the device
        assert resumed - replugged < 5.0  # a new null sink's monitor takes ~2 s to deliver its first block
        finals_before = len(session.transcript.finals)
        await wait_for(lambda: len(session.transcript.finals) > finals_before, 20)
    finally:
        player.kill()
        player.wait(10)
        await session.stop()
        await asyncio.wait_for(task, 20)
    after = {f.line_id: f.text for f in session.transcript.finals}
    assert all(after.get(line_id) == text for line_id, text in before), "a caption was lost or changed"
    assert len(source.outages) == 1  # type: ignore[attr-defined]


async def test_an_error_in_the_portaudio_callback_is_reported_and_capture_reopens(
    socket: Socket, capfd: pytest.CaptureFixture[str]
) -> None:
    from captioner.audio.base import DeviceChange
    from captioner.audio.mic import MicrophoneSource

    source = open_source("system", 16000, device=socket.monitor, check_every=CHECK_EVERY)
    first = source.source  # type: ignore[attr-defined]
    assert isinstance(first, MicrophoneSource)
    calls = 0
    push = first.push_block

    def failing_push(block: object, captured_at: float) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise RuntimeError("injected fault")
        push(block, captured_at)  # type: ignore[arg-type]

    first.push_block = failing_push  # type: ignore[method-assign]
    changes: list[DeviceChange] = []
    source.watch_devices(changes.append)
    player = socket.server.play(speech_wav("beckett.wav"), sink=socket.sink)
    try:
        async with asyncio.timeout(20):
            async for _chunk in source.chunks():
                if len(changes) >= 2:
                    break
    finally:
        player.kill()
        player.wait(10)
        await source.close()
    lost, back = changes
    assert not lost.available and "audio capture failed (RuntimeError: injected fault)" in lost.message, lost
    assert back.available and "is back" in back.message
    assert source.source is not first  # type: ignore[attr-defined]
    assert "Traceback" not in capfd.readouterr().err


async def test_a_default_device_unplugged_moves_to_the_new_default_at_once(socket: Socket) -> None:
    from captioner.audio.base import DeviceChange

    socket.server.pactl("set-default-sink", socket.sink)
    source = open_source("system", 16000, check_every=CHECK_EVERY)
    first = source.description
    changes: list[DeviceChange] = []
    source.watch_devices(changes.append)
    unplugged = 0.0
    try:
        async with asyncio.timeout(20):
            async for _chunk in source.chunks():
                if not unplugged:
                    socket.unplug_output()
                    unplugged = time.monotonic()
                if changes:
                    break
    finally:
        await source.close()
    moved = time.monotonic() - unplugged
    print(f"\ndefault output unplugged: capture moved in {moved:.2f} s: {changes[0].message!r}")
    [change] = changes
    assert change.available and change.message.startswith(f"{first} is gone: now capturing ")
    assert moved < CHECK_EVERY + 1.0
    assert source.outages and source.source.pulse_source != socket.monitor  # type: ignore[attr-defined]
