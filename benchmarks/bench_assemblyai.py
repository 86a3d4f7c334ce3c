"""AssemblyAI engine vs the official SDK, side by side, same fake v3 server, same audio.

    .venv/bin/python benchmarks/bench_assemblyai.py [--seconds 30] [--json]

The parent process runs the fake server (tests/assemblyai/fake_server.py) with a
script of turns over the audio; two child processes, started at the same time,
caption the same WAV paced at 1×:

* ``ours``: ``AssemblyAIEngine.stream()`` fed by ``WavFileSource``;
* ``sdk``: ``assemblyai.streaming.v3.AsyncRealTimeTranscriber`` (1.8.2) fed
  by the same source, one 50 ms block per ``stream()`` call.

Each child reports its own CPU time (user+sys, whole process and the streaming
phase alone), peak RSS, and app-added latency: audio block captured → its bytes
handed to the socket (``ws.send`` returned), and server message received
(``ws.recv`` returned) → caption event delivered to the app (our ``stream()``
yields it / the SDK calls its handler).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

KEY = "bench-key"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def client_ours(url: str, wav: str) -> dict[str, object]:
    from captioner.audio.file import WavFileSource
    from captioner.captions.events import Final, Interim
    from captioner.engines.assemblyai.engine import AssemblyAIEngine, Trace
    from captioner.engines.base import Credentials, EngineOptions

    engine = AssemblyAIEngine(EngineOptions(endpoint=url), Credentials(api_key=KEY))
    engine.trace = Trace()
    source = WavFileSource(wav, 16000, realtime=True)
    cpu0 = cpu_seconds()
    finals = interims = 0
    async for ev in engine.stream(source.chunks()):
        finals += isinstance(ev, Final)
        interims += isinstance(ev, Interim)
    return {
        "stream_cpu": cpu_seconds() - cpu0,
        "capture_to_wire": engine.trace.capture_to_wire,
        "message_to_event": engine.trace.message_to_event,
        "finals": finals,
        "interims": interims,
    }


async def client_sdk(url: str, wav: str) -> dict[str, object]:
    import assemblyai.streaming.v3.async_client as ac
    from assemblyai.streaming.v3 import (
        AsyncRealTimeTranscriber,
        RealTimeEvents,
        RealTimeParameters,
        RealTimeTranscriberOptions,
    )

    from captioner.audio.file import WavFileSource

    captured: list[float] = []
    c2w: list[float] = []
    m2e: list[float] = []
    last_recv = [0.0]
    counts = {"finals": 0, "interims": 0}
    orig = ac.websocket_connect_async

    def patched(uri: str, additional_headers: dict[str, str | None]) -> object:
        async def go() -> object:
            ws = await orig(uri, additional_headers=additional_headers)
            send, recv = ws.send, ws.recv

            async def timed_send(data: object) -> None:
                await send(data)
                if isinstance(data, bytes) and captured:
                    c2w.append(time.monotonic() - captured.pop(0))

            async def timed_recv() -> object:
                msg = await recv()
                last_recv[0] = time.perf_counter()
                return msg

            ws.send, ws.recv = timed_send, timed_recv
            return ws

        return go()

    ac.websocket_connect_async = patched

    def on_turn(_c: object, ev: object) -> None:
        m2e.append(time.perf_counter() - last_recv[0])
        counts["finals" if getattr(ev, "end_of_turn", False) else "interims"] += 1

    def on_other(_c: object, _ev: object) -> None:
        m2e.append(time.perf_counter() - last_recv[0])

    client = AsyncRealTimeTranscriber(RealTimeTranscriberOptions(api_host=url, api_key=KEY))
    client.on(RealTimeEvents.Turn, on_turn)
    client.on(RealTimeEvents.Begin, on_other)
    client.on(RealTimeEvents.Termination, on_other)
    source = WavFileSource(wav, 16000, realtime=True)
    cpu0 = cpu_seconds()
    await client.connect(RealTimeParameters(sample_rate=16000, format_turns=True))
    async for chunk in source.chunks():
        captured.append(chunk.captured_at)
        await client.stream(chunk.pcm)
    await client.force_endpoint()
    await client.disconnect(terminate=True)
    return {"stream_cpu": cpu_seconds() - cpu0, "capture_to_wire": c2w, "message_to_event": m2e, **counts}


def child(which: str, url: str, wav: str) -> None:
    fn = client_ours if which == "ours" else client_sdk
    res = asyncio.run(fn(url, wav))
    res["process_cpu"] = cpu_seconds()
    res["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(res))


async def parent(seconds: float, as_json: bool) -> None:
    from captioner.audio.base import to_pcm16
    from captioner.audio.file import read_wav
    from tests.support.fakes.assemblyai import FakeAssemblyAI, make_turn
    from tests.support.speech import TRANSCRIPTS, speech_wav

    src = speech_wav("two_cities.wav")
    samples, rate = read_wav(src)
    import soxr

    samples = soxr.resample(samples, rate, 16000)[: int(seconds * 16000)]
    wav = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-aai-{os.getpid()}.wav"
    import wave

    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(to_pcm16(samples))
    # A turn of 8 words (0.3 s each) every 3 s: message traffic like real speech.
    words = TRANSCRIPTS["two_cities.wav"].split()
    script = []
    t, i = 0.2, 0
    while t + 2.6 < seconds:
        chunk = words[i % len(words) : i % len(words) + 8] or words[:8]
        script.append(make_turn(t, " ".join(chunk), " ".join(chunk).capitalize()))
        t, i = t + 3.0, i + 8
    try:
        async with FakeAssemblyAI(keys=(KEY,), script=tuple(script), formatting="two-message") as fake:
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            procs = []
            for which in ("ours", "sdk"):
                args = ["--child", which, "--url", fake.url, "--wav", str(wav)]
                procs.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable, __file__, *args, stdout=asyncio.subprocess.PIPE, env=env
                    )
                )
            outs = await asyncio.gather(*(p.communicate() for p in procs))
            conns = list(fake.connections)
    finally:
        wav.unlink(missing_ok=True)
    results = {}
    for which, (out, _err) in zip(("ours", "sdk"), outs, strict=True):
        results[which] = json.loads(out.decode().strip().splitlines()[-1])
    summary: dict[str, Any] = {}
    for which, r in results.items():
        c2w = [x * 1000 for x in r["capture_to_wire"]]
        m2e = [x * 1000 for x in r["message_to_event"]]
        summary[which] = {
            "stream_cpu_s": round(r["stream_cpu"], 3),
            "process_cpu_s": round(r["process_cpu"], 3),
            "peak_rss_mb": round(r["peak_rss_mb"], 1),
            "capture_to_wire_ms_p50": round(pct(c2w, 50), 3),
            "capture_to_wire_ms_p95": round(pct(c2w, 95), 3),
            "message_to_event_ms_p50": round(pct(m2e, 50), 3),
            "message_to_event_ms_p95": round(pct(m2e, 95), 3),
            "blocks": len(c2w),
            "messages": len(m2e),
            "finals": r["finals"],
            "interims": r["interims"],
        }
    summary["audio_seconds"] = seconds
    summary["fake_audio_seconds_per_connection"] = [round(c.audio_seconds, 2) for c in conns]
    summary["fake_close_codes"] = [c.close_code for c in conns]
    ours, sdk = summary["ours"], summary["sdk"]
    summary["cpu_ratio_stream"] = round(ours["stream_cpu_s"] / sdk["stream_cpu_s"], 3)
    summary["cpu_ratio_process"] = round(ours["process_cpu_s"] / sdk["process_cpu_s"], 3)
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    py = sys.version.split()[0]
    print(f"AssemblyAI v3, {seconds:.0f} s of speech at 1x, 50 ms blocks, same fake server (Python {py})")
    print(f"{'':34}{'ours':>12}{'SDK 1.8.2':>12}")
    for key in (
        "stream_cpu_s",
        "process_cpu_s",
        "peak_rss_mb",
        "capture_to_wire_ms_p50",
        "capture_to_wire_ms_p95",
        "message_to_event_ms_p50",
        "message_to_event_ms_p95",
        "blocks",
        "messages",
        "finals",
        "interims",
    ):
        print(f"{key:34}{ours[key]:>12}{sdk[key]:>12}")
    print(f"CPU ours/SDK: streaming {summary['cpu_ratio_stream']}, whole process {summary['cpu_ratio_process']}")
    print(f"fake server: audio s per connection {summary['fake_audio_seconds_per_connection']}, "
          f"closes {summary['fake_close_codes']}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", choices=("ours", "sdk"), help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--wav", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.url, args.wav)
    else:
        asyncio.run(parent(args.seconds, args.json))


if __name__ == "__main__":
    main()
