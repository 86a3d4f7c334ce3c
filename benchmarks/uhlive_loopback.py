"""Uhlive engines on loopback: client CPU per audio second, caption latency, memory.

Runs a real Session (WAV source paced at 1x → engine → transcript) against the
fake Uhlive servers of the test suite on 127.0.0.1 and prints figures. The fake
servers run in the same process, so the CPU figure is an upper bound for the
client. Latency is measured from the moment the last audio of a line was due
(source time, real-time pacing) to the final caption; it includes the
end-of-utterance silence the (fake) service waits for, printed alongside.

    .venv/bin/python benchmarks/uhlive_loopback.py [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from captioner.audio.file import WavFileSource
from captioner.captions.events import CaptionEvent, Final
from captioner.engines.base import Credentials, Engine, EngineOptions
from captioner.engines.uhlive.conversation import UhliveConversationEngine
from captioner.engines.uhlive.h2b import UhliveH2BEngine
from captioner.session.session import Session
from tests.support.fakes.uhlive import FakeConversationServer, FakeH2BServer, FakeTokenServer, tone_wav


async def run(engine_cls: type[Engine], wav: Path, seconds: float, silence_ms: int) -> None:
    with FakeTokenServer() as tokens:
        fake_cls = FakeConversationServer if engine_cls is UhliveConversationEngine else FakeH2BServer
        async with fake_cls(tokens.issued) as server:
            if isinstance(server, FakeConversationServer):
                server.end_silence_ms = silence_ms
            opts = EngineOptions(
                endpoint=server.url,
                silence_ms=silence_ms if engine_cls is UhliveH2BEngine else None,
                extra={"auth_endpoint": tokens.url},
            )
            creds = Credentials(client_id="cid", client_secret="s3cret")
            received: list[tuple[float, Final]] = []
            t0: list[float] = []

            def on_event(ev: CaptionEvent) -> None:
                if isinstance(ev, Final) and ev.text and ev.end is not None:
                    received.append((time.monotonic(), ev))

            source = WavFileSource(wav, 8000, realtime=True)
            session = Session(source, lambda o: engine_cls(o, creds), opts, on_event=on_event)
            cpu0, wall0 = time.process_time(), time.monotonic()
            t0.append(wall0)
            await session.run()
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            firsts: dict[str, tuple[float, Final]] = {}
            for at, ev in received:
                firsts.setdefault(ev.line_id, (at, ev))
            lat = [at - (wall0 + ev.end) for at, ev in firsts.values() if ev.end is not None]
            print(f"{engine_cls.id}:")
            print(f"  audio {seconds:.1f} s, wall {wall:.2f} s, lines {len(firsts)}")
            per_second = 1000 * cpu / seconds
            print(f"  CPU (client + fake server, one process): {cpu:.2f} s = {per_second:.1f} ms per audio second")
            if lat:
                print(
                    f"  end of speech -> first final: median {statistics.median(lat) * 1000:.0f} ms, "
                    f"max {max(lat) * 1000:.0f} ms (includes {silence_ms} ms end-of-utterance silence)"
                )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args()
    pattern: list[tuple[int, float]] = []
    pitches = [400, 700, 1000, 1300]
    total, i = 0.0, 0
    while total < args.seconds:
        pattern += [(pitches[i % 4], 1.5), (0, 1.0)]
        total += 2.5
        i += 1
    with tempfile.TemporaryDirectory() as d:
        wav = tone_wav(Path(d) / "bench.wav", pattern)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for cls in (UhliveConversationEngine, UhliveH2BEngine):
            asyncio.run(run(cls, wav, total, 600))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"peak RSS {rss / 1024:.0f} MiB (grew {(rss - rss0) / 1024:.1f} MiB during both runs)")


if __name__ == "__main__":
    main()
