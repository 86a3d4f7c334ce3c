"""The event feed with real WebSocket clients: the same records as ``--format jsonl``, the recent lines for a
client that joins late, and a client that never reads dropped while captioning runs at full speed."""

from __future__ import annotations

import asyncio
import io
import json
import socket
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from captioner import cli
from captioner.audio.file import WavFileSource
from captioner.captions.transcript import Transcript
from captioner.engines import registry
from captioner.engines.base import EngineOptions
from captioner.feed.schema import SCHEMA_VERSION
from captioner.feed.security import Address, Limits
from captioner.feed.server import FeedServer
from captioner.session.session import Session
from tests.feed.helpers import Recorder, connection_dropped, read_feed, stuck_client
from tests.support.memory_source import PushSource
from tests.support.scripted_engine import Script, ScriptedEngine


@pytest.fixture
def scripted() -> Iterator[Script]:
    ScriptedEngine.script = Script(per_final=4)
    info = registry.EngineInfo("scripted", "Scripted", "tests.support.scripted_engine", "ScriptedEngine", "test")
    registry.register(info)
    yield ScriptedEngine.script
    registry.ENGINES.pop(info.id, None)


def tone_wav(path: Path, seconds: float, rate: int = 16000) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.sin(2 * np.pi * 300 * t) * 8000).astype("<i2").tobytes())
    return path


class _Stderr(io.StringIO):
    """The CLI's stderr, telling the test when the feed's address has been printed."""

    def __init__(self) -> None:
        super().__init__()
        self.url: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def write(self, s: str) -> int:
        if "caption feed: " in s and not self.url.done():
            self.url.set_result(s.split("caption feed: ", 1)[1].split()[0])
        return super().write(s)


async def test_a_client_gets_the_records_of_format_jsonl(scripted: Script, tmp_path: Path) -> None:
    """``captioner caption --format jsonl --serve 0`` on a file at 1x: what the client gets live is exactly
    the tail of what stdout got; what it missed before it connected comes first as the replay."""
    wav = tone_wav(tmp_path / "tone.wav", 1.6)
    args = cli.build_parser().parse_args(
        ["caption", "--engine", "scripted", "--source", str(wav), "--format", "jsonl", "--serve", "0", "--no-autosave"]
    )
    out, err = io.StringIO(), _Stderr()
    run = asyncio.create_task(cli._caption(args, out, err))
    url = await asyncio.wait_for(err.url, 10)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/")
    reader = await read_feed("ws" + url.removeprefix("http") + "events")
    assert await asyncio.wait_for(run, 30) == 0
    await asyncio.wait_for(reader.closed.wait(), 5)  # the CLI stopped the feed when the file ended

    stdout = [json.loads(line) for line in out.getvalue().splitlines()]
    assert reader.hello["type"] == "hello" and reader.hello["v"] == SCHEMA_VERSION
    live = reader.live
    finals = [r for r in live if r["type"] == "final"]
    assert len(finals) >= 5 and any(r["type"] == "interim" for r in live)
    k = len(stdout) - len(live)
    assert k >= 0 and stdout[k:] == live
    missed_finals = {r["id"]: r for r in stdout[:k] if r["type"] == "final"}
    assert [r for r in reader.replayed if r["type"] == "final"] == list(missed_finals.values())
    assert stdout[-1] == {"type": "status", "state": "stopped", "message": "stopped", "engine": "scripted"}


async def test_a_late_joiner_first_gets_the_recent_lines_then_the_live_ones(scripted: Script) -> None:
    source = PushSource()
    session = Session(source, ScriptedEngine, EngineOptions())
    feed = FeedServer(Address(host="127.0.0.1", port=0), transcript=session.transcript, limits=Limits(history=3))
    await feed.start()
    session.transcript.subscribe(feed.change)
    session.on_event = feed.event
    run = asyncio.create_task(session.run())
    try:
        source.push(4 * 5 + 2)  # five committed lines and a sixth being spoken
        while len(session.transcript.finals) < 5 or not session.transcript.live:
            await asyncio.sleep(0.01)
        late = await read_feed(f"ws://127.0.0.1:{feed.port}/events")
        one = await read_feed(f"ws://127.0.0.1:{feed.port}/events?history=1")

        finals = session.transcript.finals
        replay = late.replayed
        assert [(r["type"], r["id"], r["text"]) for r in replay[:3]] == [
            ("final", line.line_id, line.text) for line in finals[-3:]
        ]
        assert replay[3]["type"] == "interim" and replay[3]["id"] == session.transcript.live[0].line_id
        assert replay[4] == {"type": "status", "state": "listening", "message": "listening", "engine": "scripted"}
        assert len(replay) == 5 and late.live == []
        assert [r["id"] for r in one.replayed if r["type"] == "final"] == [finals[-1].line_id]

        source.push(2)  # the sixth line is committed: both clients see it live
        sixth = await late.wait_for(lambda m: m.get("type") == "final" and m["id"] == replay[3]["id"])
        assert sixth in one.live and len(str(sixth["text"]).split()) == 4
    finally:
        source.end()
        await run
        await feed.stop()


async def test_a_client_that_never_reads_is_dropped_and_captioning_never_waits(
    scripted: Script, tmp_path: Path
) -> None:
    """150 s of audio from a file, as fast as the scripted engine takes it (``--no-realtime``)."""
    transcript = Transcript()
    feed = FeedServer(Address(host="127.0.0.1", port=0), transcript=transcript)
    await feed.start()
    recorder = Recorder(feed)
    transcript.subscribe(recorder.change)
    stuck = await stuck_client(feed.port)
    reader = await read_feed(f"ws://127.0.0.1:{feed.port}/events")
    assert feed.clients == 2

    source = WavFileSource(tone_wav(tmp_path / "long.wav", 150.0), 16000, realtime=False)
    session = Session(source, ScriptedEngine, EngineOptions(), transcript=transcript, on_event=recorder.event)
    scripted.per_final = 50  # long interim lines: more bytes to back up
    chunks = 3000  # 50 ms each
    try:
        await asyncio.wait_for(session.run(), 60)
        assert sum(len(e.received) for e in scripted.instances) == chunks  # all of it was captioned
        await reader.wait_for(lambda m: m.get("state") == "stopped")
        assert reader.live == recorder.records  # the client that reads missed nothing
        assert feed.dropped_clients == 1 and feed.clients == 1
        # Dropped once its queue was full, after what the kernel's and websockets' buffers hold (about 100 KB).
        assert recorder.dropped_at is not None and recorder.dropped_at <= Limits().queue_messages + 1000
        assert recorder.dropped_at < len(recorder.records) // 2
        assert recorder.longest_call < 0.2, recorder.longest_call  # no call into the feed waits for a client
        await asyncio.sleep(0.1)
        assert connection_dropped(stuck)
    finally:
        stuck.close()
        await feed.stop()


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_serve_beyond_loopback_prints_the_link_with_its_token_and_a_warning(
    scripted: Script, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPTIONER_FEED_TOKEN", "kept-token")
    wav = tone_wav(tmp_path / "tone.wav", 0.3)
    code, err = _cli(
        capsys, "caption", "--engine", "scripted", "--source", str(wav), "--no-realtime", "--serve", "0.0.0.0:0"
    )
    assert code == 0, err
    feed_line, warning = err.splitlines()[:2]
    assert feed_line.startswith("captioner: caption feed: http://127.0.0.1:") and "/?token=kept-token " in feed_line
    assert "anyone on the network who has the link can read the captions" in warning


def test_bad_serve_addresses_and_a_taken_port_are_one_line_usage_errors(
    scripted: Script, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = tone_wav(tmp_path / "tone.wav", 0.3)
    code, err = _cli(capsys, "caption", "--engine", "scripted", "--source", str(wav), "--serve", "eighty")
    assert (code, err) == (2, "captioner: --serve: expected [HOST:]PORT with a port from 0 to 65535, got 'eighty'\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = _cli(capsys, "caption", "--engine", "scripted", "--source", str(wav), "--serve", str(port))
    assert code == 2 and err.startswith(f"captioner: cannot serve the caption feed at 127.0.0.1:{port}: ")
    assert len(err.splitlines()) == 1
