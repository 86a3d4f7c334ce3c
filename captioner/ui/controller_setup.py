"""What the caption controller runs, set up from the settings: the engine options, the live source (or the two
sources of a meeting) opened off the UI thread, and which changes need a new session rather than new options."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from captioner.audio.base import AudioSource
from captioner.audio.devices import microphone_monitor
from captioner.captions.events import CaptionEvent
from captioner.captions.transcript import Transcript
from captioner.engines.base import Engine, EngineOptions
from captioner.session.build import Plan, SessionRequest, SourceOpener, prepare
from captioner.session.meeting import MeetingPlan, is_meeting, prepare_meeting
from captioner.session.session import Session
from captioner.settings import Settings
from captioner.ui.meeting_runner import MeetingRunner, open_meeting


def engine_options(settings: Settings) -> EngineOptions:
    """The engine options the settings ask for."""
    es = settings.engine_settings()
    return EngineOptions(
        language=es.language or None,
        word_boost=tuple(settings.word_boost),
        silence_ms=settings.silence_ms,
        endpoint=es.endpoint or None,
        extra=dict(es.extra),
    )


def prepare_any(request: SessionRequest, engines: Mapping[str, type[Engine]]) -> Plan | MeetingPlan:
    """The checked plan of ``request``: a meeting's two when its source is "both"; :class:`SetupError` if not."""
    if is_meeting(request.source):
        return prepare_meeting(request, audience="app", overrides=engines)
    return prepare(request, audience="app", overrides=engines)


async def open_live(
    plan: Plan | MeetingPlan,
    opener: SourceOpener | None,
    *,
    transcript: Transcript,
    on_event: Callable[[CaptionEvent], None],
) -> tuple[Session | MeetingRunner, str]:
    """The session (or the meeting) on the live source(s), opened from a worker thread; and the monitor that the
    "microphone" records, if it is one ('' if not)."""
    if isinstance(plan, MeetingPlan):
        mic, system, monitor = await asyncio.to_thread(open_meeting, plan, opener)
        return MeetingRunner(plan, mic, system, transcript=transcript, on_event=on_event), monitor
    source, monitor = await asyncio.to_thread(_open_source, plan, opener)
    return plan.session(source, transcript=transcript, on_event=on_event), monitor


def _open_source(plan: Plan, opener: SourceOpener | None) -> tuple[AudioSource, str]:
    """Worker thread: open the live source; and the monitor the "microphone" records, if it is one ('' if not)."""
    source = plan.open_source(opener)
    req = plan.request
    monitor = microphone_monitor(req.device) if req.source == "mic" else None
    return source, (monitor.description or monitor.name) if monitor is not None else ""


def pipeline_key(s: Settings) -> tuple[str, str, str]:
    """What needs a new session (not just new options) when it changes."""
    return (s.engine, s.source, s.device)
