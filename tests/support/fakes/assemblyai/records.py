"""What the fake AssemblyAI records of each connection, and where its audio sits in the reference.

:class:`ConnRecord` is everything one connection carried (request, parameters, audio, messages,
close). :func:`locate` finds each received frame in the reference PCM (so a reconnect that
replays audio, or a client that skipped part of a pause, still gets the scripted words at their
place), and :func:`received_at` maps a source time to seconds of audio received on the
connection: the service's own clock.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ConnRecord:
    index: int
    path: str
    headers: dict[str, str]
    query: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    authorized: bool = False
    opened_at: float = 0.0
    source_offset: float = 0.0
    source_offset_found: bool = False
    audio: bytearray = field(default_factory=bytearray)
    runs: list[tuple[float, float, float]] = field(default_factory=list)
    """Contiguous pieces of the reference received: (received seconds, source start, seconds)."""
    frames: int = 0
    frame_ms: list[float] = field(default_factory=list)
    audio_seconds: float = 0.0
    texts: list[Any] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    force_endpoints: int = 0
    terminate_received: bool = False
    sent: list[dict[str, Any]] = field(default_factory=list)
    begun: bool = False
    close_code: int | None = None
    close_reason: str = ""
    closed: asyncio.Event = field(default_factory=asyncio.Event)


def locate(rec: ConnRecord, ref: bytes, data: bytes, rate: int) -> None:
    """Record where ``data`` (the next frame received) sits in the reference PCM."""
    seconds = len(data) / 2 / rate
    if rec.runs:
        recv0, src0, dur = rec.runs[-1]
        pos = round((src0 + dur) * rate) * 2
        if ref[pos : pos + len(data)] == data or ref.find(data[:3200], pos) < 0:
            rec.runs[-1] = (recv0, src0, dur + seconds)  # contiguous (or the padded last frame)
            return
        start = pos
    else:
        start = 0
    pos = ref.find(data[: min(len(data), 3200)], start)
    while pos > 0 and pos % 2:
        pos = ref.find(data[: min(len(data), 3200)], pos + 1)
    if pos >= 0:
        rec.runs.append((rec.audio_seconds, pos / 2 / rate, seconds))


def received_at(rec: ConnRecord, src: float) -> float:
    """Seconds of audio received on ``rec`` at source time ``src`` (in a skipped gap: where it resumed)."""
    if not rec.runs:
        return src - rec.source_offset
    for i, (recv0, src0, dur) in enumerate(rec.runs):
        if src < src0 - 1e-9:
            return recv0 if i else src - src0
        if src <= src0 + dur + 1e-9:
            return recv0 + (src - src0)
    recv0, src0, _dur = rec.runs[-1]
    return recv0 + (src - src0)
