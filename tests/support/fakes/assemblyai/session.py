"""One connection of the fake AssemblyAI: handshake checks, ``Begin``, the audio and text-frame rules,
faults, and the end of the session.

:func:`run` refuses bad credentials (1008, no ``Begin``), a transient 1008 when the fake is told
to, and parameters the model does not take (3006); sends ``Begin``; enforces 50–1000 ms binary
frames (3007), real-time pacing (3007) and valid text frames (3006); hands every frame to the
:class:`~tests.support.fakes.assemblyai.turns.TurnMaker`; answers ``ForceEndpoint``,
``UpdateConfiguration``, ``KeepAlive`` and ``Terminate`` (the in-flight turn, the speaker
revision, ``Termination``, close 1000).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers

from tests.support.fakes.assemblyai.models import DEFAULT_MODEL, fake_model
from tests.support.fakes.assemblyai.records import ConnRecord, locate
from tests.support.fakes.assemblyai.script import Fault, parse_bool
from tests.support.fakes.assemblyai.turns import TurnMaker

if TYPE_CHECKING:
    from tests.support.fakes.assemblyai.server import FakeAssemblyAI

BOOLS = ("format_turns", "language_detection", "speaker_labels", "continuous_partials")
LISTS = ("keyterms_prompt", "language_codes")
INTS = ("sample_rate", "min_turn_silence", "max_turn_silence", "inactivity_timeout", "max_speakers")
FLOATS = ("end_of_turn_confidence_threshold", "vad_threshold", "voice_focus_threshold")


def parse_params(query: dict[str, str]) -> dict[str, Any]:
    p: dict[str, Any] = {}
    for key, value in query.items():
        if key in BOOLS:
            p[key] = parse_bool(value)
        elif key in LISTS:
            p[key] = json.loads(value)
            assert isinstance(p[key], list)
        elif key in INTS:
            p[key] = int(value)
        elif key in FLOATS:
            p[key] = float(value)
        else:
            p[key] = value
    return p


async def close(ws: ServerConnection, rec: ConnRecord, code: int, reason: str) -> None:
    rec.close_code, rec.close_reason = code, reason
    await ws.close(code, reason)


async def run(fake: FakeAssemblyAI, ws: ServerConnection, rec: ConnRecord, query: dict[str, str]) -> None:
    async def send(msg: dict[str, Any]) -> None:
        rec.sent.append(msg)
        await ws.send(json.dumps(msg))

    ok, why = fake.credential_ok(ws.request.headers if ws.request else Headers(), query, consume=True)
    if not ok:
        await close(ws, rec, 1008, f"Unauthorized Connection: {why}")
        return
    if fake.refusals:
        await close(ws, rec, 1008, fake.refusals.pop(0))
        return
    rec.authorized = True
    try:
        rec.params = parse_params(query)
    except (ValueError, AssertionError) as exc:
        await close(ws, rec, 3006, f"Invalid Message: bad query parameter ({exc})")
        return
    name = rec.params.get("speech_model", DEFAULT_MODEL)
    model = fake_model(name)
    rejected = model.rejects(set(rec.params))
    if rejected:
        await close(ws, rec, 3006, f"Invalid Message: {', '.join(rejected)} not supported by {name}")
        return
    rate = int(rec.params.get("sample_rate", 16000))
    bytes_per_sample = 1 if rec.params.get("encoding", "pcm_s16le") == "pcm_mulaw" else 2
    d_min, d_max = model.turn_silence(rec.params.get("mode"))
    if fake.turn_silence_default_ms is not None:
        d_min = fake.turn_silence_default_ms
    config = {
        "min_turn_silence": rec.params.get("min_turn_silence", d_min),
        "max_turn_silence": rec.params.get("max_turn_silence", d_max),
        "keyterms_prompt": rec.params.get("keyterms_prompt", []),
    }
    session_s = fake.max_session_s
    deadline = rec.opened_at + session_s if session_s is not None else None
    configuration: dict[str, Any] = {"model": name, "api_version": rec.headers.get("AssemblyAI-Version")}
    if model.by_mode:
        configuration["mode"] = rec.params.get("mode", "balanced")
    await send(
        {
            "type": "Begin",
            "id": str(uuid.uuid4()),
            "expires_at": int(time.time() + (session_s if session_s is not None else 10800)),
            "configuration": configuration,
        }
    )
    rec.begun = True
    maker = TurnMaker(fake.script, rec, model, fake.shape, config, send)
    inactivity = rec.params.get("inactivity_timeout")
    last_activity = asyncio.get_running_loop().time()
    t_session = asyncio.get_running_loop().time()
    while True:
        timeout = None
        now = asyncio.get_running_loop().time()
        if deadline is not None:
            timeout = max(0.0, deadline - now)
        if inactivity is not None:
            left = max(0.0, last_activity + inactivity - now)
            timeout = left if timeout is None else min(timeout, left)
        try:
            data = await asyncio.wait_for(ws.recv(), timeout) if timeout is not None else await ws.recv()
        except TimeoutError:
            if deadline is not None and asyncio.get_running_loop().time() >= deadline - 1e-3:
                await close(ws, rec, 3008, "Session Expired: Maximum session duration exceeded")
            else:
                await close(ws, rec, 3006, "Session terminated: inactivity timeout")
            return
        last_activity = asyncio.get_running_loop().time()
        if isinstance(data, bytes):
            if not await _audio(fake, ws, rec, maker, data, rate, bytes_per_sample):
                return
            continue
        try:
            msg = json.loads(data)
        except ValueError:
            await close(ws, rec, 3006, f"Invalid JSON: {data[:100]}")
            return
        rec.texts.append(msg)
        if not isinstance(msg, dict):
            await close(ws, rec, 3006, f"Invalid Message: {data[:100]}")
            return
        kind = msg.get("type")
        if kind == "Terminate":
            rec.terminate_received = True
            await maker.terminate()
            audio, session = round(rec.audio_seconds), math.ceil(asyncio.get_running_loop().time() - t_session)
            await send({"type": "Termination", "audio_duration_seconds": audio, "session_duration_seconds": session})
            await close(ws, rec, 1000, "")
            return
        if kind == "ForceEndpoint":
            rec.force_endpoints += 1
            await maker.force_endpoint()
        elif kind == "KeepAlive":
            pass
        elif kind == "UpdateConfiguration":
            rec.updates.append(msg)
            for key in ("min_turn_silence", "max_turn_silence", "keyterms_prompt"):
                if key in msg:
                    config[key] = msg[key]
        else:
            await close(ws, rec, 3006, f"Invalid Message Type: {kind}")
            return


async def _audio(
    fake: FakeAssemblyAI,
    ws: ServerConnection,
    rec: ConnRecord,
    maker: TurnMaker,
    data: bytes,
    rate: int,
    bytes_per_sample: int,
) -> bool:
    """One binary frame: the size and pacing rules, then the turns it reveals. ``False`` once closed."""
    ms = len(data) * 1000.0 / (rate * bytes_per_sample)
    if not (50.0 - 1e-6 <= ms <= 1000.0 + 1e-6):
        await close(ws, rec, 3007, f"Input duration violation: {ms:.0f} ms. Expected between 50 and 1000 ms")
        return False
    elapsed = asyncio.get_running_loop().time() - rec.opened_at
    if rec.audio_seconds + ms / 1000.0 > elapsed + ms / 1000.0 + fake.rate_slack:
        await close(
            ws,
            rec,
            3007,
            f"Audio Transmission Rate Exceeded: Received {rec.audio_seconds + ms / 1000:.2f} sec. "
            f"audio in {elapsed:.2f} sec",
        )
        return False
    ref = fake.reference_pcm
    if rec.frames == 0 and ref is not None and bytes_per_sample == 2:
        pos = ref.find(data[: min(len(data), 3200)])
        while pos > 0 and pos % 2:
            pos = ref.find(data[: min(len(data), 3200)], pos + 1)
        if pos >= 0:
            rec.source_offset = pos / 2 / rate
            rec.source_offset_found = True
        maker.restart_at(rec.source_offset)
    elif rec.frames == 0 and fake.position is not None:
        found = fake.position(data, rate)
        if found is not None:
            rec.source_offset, rec.source_offset_found = found, True
        maker.restart_at(rec.source_offset)
    if ref is not None and bytes_per_sample == 2:
        locate(rec, ref, data, rate)
    rec.frames += 1
    rec.frame_ms.append(ms)
    if fake.keep_audio:
        rec.audio += data
    rec.audio_seconds += ms / 1000.0
    for fault in list(fake.faults):
        if fault.connection == rec.index and rec.audio_seconds >= fault.at_audio - 1e-9:
            fake.faults.remove(fault)
            await _fault(ws, rec, fault)
            return False
    if rec.runs:
        _recv0, src0, dur = rec.runs[-1]
        await maker.advance(src0 + dur)
    else:
        await maker.advance(rec.source_offset + rec.audio_seconds)
    return True


async def _fault(ws: ServerConnection, rec: ConnRecord, fault: Fault) -> None:
    if fault.kind == "drop":
        rec.close_code, rec.close_reason = 1006, "dropped"
        assert ws.transport is not None
        ws.transport.abort()
    elif fault.kind == "error3005":
        error = {"type": "Error", "error_code": 3005, "error": "Session Cancelled: An error occurred"}
        rec.sent.append(error)
        await ws.send(json.dumps(error))
        await close(ws, rec, 3005, "Session Cancelled: An error occurred")
    elif fault.kind == "close3005":
        await close(ws, rec, 3005, "Session Cancelled: An error occurred")
    elif fault.kind == "expire":
        await close(ws, rec, 3008, "Session Expired: Maximum session duration exceeded")
    elif fault.kind == "inactivity":
        await close(ws, rec, 3006, "Session terminated: inactivity timeout")
    elif fault.kind.startswith("close1008:"):
        await close(ws, rec, 1008, fault.kind.partition(":")[2])
    else:
        raise ValueError(fault.kind)
