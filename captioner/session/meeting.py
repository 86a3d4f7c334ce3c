"""Meeting mode: the microphone ("You") and the system audio ("Others") captioned together, into one transcript.

:func:`prepare_meeting` checks the request twice, once per source (so each source has its own engine, and a
cloud engine its own connection); :meth:`MeetingPlan.open_sources` opens both; :meth:`MeetingPlan.meeting`
wires them up:

* both sources are put on one timeline (:class:`~captioner.audio.shared_clock.SharedClockSource`), so the
  lines of the two speakers can be ordered and compared in time;
* the system audio is the reference of the echo canceller (:mod:`captioner.audio.echo`), which removes what
  the microphone hears from the speakers; if the canceller cannot run here, the user is told and the duplicate
  guard alone stands;
* the duplicate guard (:mod:`~captioner.session.echo_guard`) sees both sessions' events before the
  transcript and drops a "You" line that repeats an "Others" line spoken at the same time;
* the two :class:`~captioner.session.session.Session` s share one transcript; their line ids cannot collide
  (each session takes its own run prefix from :meth:`Transcript.new_run`).

:class:`Meeting` runs both at once. When one source fails (a microphone unplugged, an engine that gives up),
its failure is reported as an :class:`~captioner.captions.events.EngineError` with its ``speaker`` and the
other goes on; :meth:`Meeting.run` raises only when both failed. Option changes reach both sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from captioner import secrets
from captioner.audio.base import AudioError, AudioSource
from captioner.audio.echo import EchoCancelledSource, EchoCanceller, EchoUnavailable, ReferenceTap
from captioner.audio.shared_clock import SharedClockSource
from captioner.captions.events import CaptionEvent, EngineError, Final
from captioner.captions.transcript import Transcript
from captioner.engines.base import Engine, EngineFailure, EngineOptions
from captioner.session.build import Plan, SessionRequest, SourceOpener, prepare
from captioner.session.echo_guard import DuplicateGuard, SoundLog
from captioner.session.session import Session

log = logging.getLogger(__name__)

MEETING_SOURCES = frozenset({"both", "mic+system"})
"""The ``source`` values that ask for meeting mode."""
YOU = "You"
OTHERS = "Others"


def is_meeting(source: str) -> bool:
    return source.strip().lower() in MEETING_SOURCES


@dataclass(slots=True, kw_only=True)
class MeetingPlan:
    """Two checked requests: the microphone (``you``) and the system audio (``others``)."""

    you: Plan
    others: Plan
    echo_cancellation: bool = True

    def open_sources(self, opener: SourceOpener | None = None) -> tuple[AudioSource, AudioSource]:
        """Open the microphone, then the system audio; :class:`SetupError` (``audio``) when either cannot.

        A source takes its device only once it is read, so a microphone opened before the system audio fails
        holds nothing."""
        mic = self.you.open_source(opener)
        return mic, self.others.open_source(opener)

    def meeting(
        self,
        mic: AudioSource,
        system: AudioSource,
        *,
        transcript: Transcript | None = None,
        on_event: Callable[[CaptionEvent], None] | None = None,
    ) -> Meeting:
        """The meeting that captions ``mic`` as "You" and ``system`` as "Others" into one ``transcript``."""
        transcript = transcript if transcript is not None else Transcript(many_runs=True)
        origin = time.monotonic()
        mic, system = SharedClockSource(mic, origin), SharedClockSource(system, origin)
        sound = SoundLog()
        notices: list[str] = []
        canceller: EchoCanceller | None = None
        if self.echo_cancellation:
            try:
                canceller = EchoCanceller(mic.sample_rate)
            except EchoUnavailable as exc:
                notices.append(f"{exc}; repeated lines are still dropped, but headphones avoid the echo")
        if canceller is not None:
            system_in: AudioSource = ReferenceTap(
                system, canceller.reference, sound.add, on_end=canceller.end_reference
            )
            mic_in: AudioSource = EchoCancelledSource(mic, canceller)
        else:
            system_in, mic_in = ReferenceTap(system, sound.add, on_end=lambda: None), mic
        guard = DuplicateGuard(reference_audible=sound.audible)
        you = self.you.session(mic_in, transcript=transcript, on_event=on_event, event_filter=guard.you)
        others = self.others.session(system_in, transcript=transcript, on_event=on_event, event_filter=guard.others)
        you.notices += tuple(notices)
        return Meeting(you, others, guard=guard, canceller=canceller, on_event=on_event)


def prepare_meeting(
    request: SessionRequest,
    *,
    audience: secrets.Audience = "cli",
    overrides: Mapping[str, type[Engine]] | None = None,
) -> MeetingPlan:
    """Check ``request`` for both sources; ``request.device`` is the microphone's (system audio: the default)."""
    you = prepare(dataclasses.replace(request, source="mic", speaker=YOU), audience=audience, overrides=overrides)
    others_request = dataclasses.replace(request, source="system", device=None, speaker=OTHERS)
    others = prepare(others_request, audience=audience, overrides=overrides)
    if you.engine_cls.capabilities.needs_credentials:
        name = you.engine_cls.name or you.engine_cls.id
        you.notices.append(f"meeting mode opens two connections to {name}, one per source: it uses twice as much")
    return MeetingPlan(you=you, others=others)


class Meeting:
    """Runs the "You" and "Others" sessions at once into one transcript; see the module docstring."""

    def __init__(
        self,
        you: Session,
        others: Session,
        *,
        guard: DuplicateGuard,
        canceller: EchoCanceller | None = None,
        on_event: Callable[[CaptionEvent], None] | None = None,
        check_interval: float = 0.1,
    ) -> None:
        if you.transcript is not others.transcript:
            raise ValueError("both sessions of a meeting write to one transcript")
        self.you = you
        self.others = others
        self.guard = guard
        self.canceller = canceller
        self.on_event = on_event
        self.check_interval = check_interval
        self.failures: dict[str, BaseException] = {}
        """The speaker of each session that failed, and why."""

    @property
    def transcript(self) -> Transcript:
        return self.you.transcript

    @property
    def sessions(self) -> tuple[Session, Session]:
        return (self.you, self.others)

    async def run(self) -> None:
        """Caption both sources until both end (or :meth:`stop`); raises only when both failed."""
        runs = {session: asyncio.create_task(self._run_one(session)) for session in self.sessions}
        checker = asyncio.create_task(self._release_held())
        try:
            await asyncio.gather(*runs.values())
        finally:
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checker
            for task in runs.values():
                task.cancel()
            self._apply_all(self.guard.flush())
            if self.canceller is not None:
                log.info("%s", self.canceller.summary())
            log.info("meeting: %d 'You' line(s) dropped as repeats of the others", len(self.guard.dropped))
        if len(self.failures) == len(self.sessions):
            raise self.failures[YOU if YOU in self.failures else next(iter(self.failures))]

    async def stop(self) -> None:
        """Stop both sources; each engine finalises what it heard and :meth:`run` returns."""
        await asyncio.gather(*(session.stop() for session in self.sessions))

    async def update_options(self, options: EngineOptions) -> None:
        """Apply new options (word boost, silence threshold…) to both sessions."""
        await asyncio.gather(*(session.update_options(options) for session in self.sessions))

    # -- internals ---------------------------------------------------------------------------------
    async def _run_one(self, session: Session) -> None:
        speaker = session.speaker or ""
        try:
            await session.run()
        except EngineFailure as exc:  # the session has reported it (an EngineError with its speaker)
            self.failures[speaker] = exc
            log.warning("meeting: %s stopped: %s", speaker, exc.message)
        except AudioError as exc:
            self.failures[speaker] = exc
            other = OTHERS if speaker == YOU else YOU
            still = f"; {other} still captioned" if other not in self.failures else ""
            log.warning("meeting: %s stopped: %s", speaker, exc)
            self._tell(
                EngineError(engine=session.engine_name, message=f"{exc}{still}", retryable=False, speaker=speaker)
            )

    async def _release_held(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            self._apply_all(self.guard.due())

    def _apply_all(self, finals: list[Final]) -> None:
        for final in finals:
            self.transcript.apply(final)
            self._tell(final)

    def _tell(self, event: CaptionEvent) -> None:
        if self.on_event is not None:
            self.on_event(event)
