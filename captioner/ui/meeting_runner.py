"""Meeting mode in the desktop app: the two sessions of :mod:`captioner.session.meeting`, as the controller runs them.

:func:`open_meeting` opens the microphone and the system audio (from a worker thread: opening a live source may
ask the sound server) and :class:`MeetingRunner` wraps the :class:`~captioner.session.meeting.Meeting` built on
them into what the caption controller drives for one session: ``run``, ``stop``, ``update_options`` (which
reach both sessions), the options and the engine. It also keeps what the controller says about the meeting,
per source: the level and lag of each, which source is reconnecting, and which stopped and why, in the words of
the state text ("Microphone stopped: …; system audio still captioned"). When both stop, :meth:`MeetingRunner.run` raises
:class:`MeetingFailed` with both reasons. No Qt here: the controller turns all of it into signals.
"""

from __future__ import annotations

from collections.abc import Callable

from captioner.audio.base import AudioError, AudioSource
from captioner.audio.devices import microphone_monitor
from captioner.captions.events import AudioLevel, CaptionEvent, EngineError, EngineState, Final, Interim, Status
from captioner.captions.transcript import Transcript
from captioner.engines.base import Engine, EngineFailure, EngineOptions
from captioner.session.build import SourceOpener
from captioner.session.meeting import OTHERS, YOU, MeetingPlan

LAG_NOTABLE_S = 1.0
"""A source this many seconds behind its audio is named in the state text (the overlay shows lag from 1 s too)."""
SOURCE_WORDS = {YOU: "Microphone", OTHERS: "System audio"}
"""The source each speaker of a meeting is captioned from, as the state text names it."""


class MeetingFailed(Exception):
    """Both sources of the meeting stopped; the message names each and why."""


def open_meeting(plan: MeetingPlan, opener: SourceOpener | None) -> tuple[AudioSource, AudioSource, str]:
    """Worker thread: open the microphone and the system audio; and the monitor the "microphone" records, if it is
    one ('' if not)."""
    mic, system = plan.open_sources(opener)
    monitor = microphone_monitor(plan.you.request.device)
    return mic, system, (monitor.description or monitor.name) if monitor is not None else ""


class MeetingRunner:
    """A :class:`Meeting` driven like one session, with what is known about each of its two sources."""

    def __init__(
        self,
        plan: MeetingPlan,
        mic: AudioSource,
        system: AudioSource,
        *,
        transcript: Transcript,
        on_event: Callable[[CaptionEvent], None],
    ) -> None:
        self.meeting = plan.meeting(mic, system, transcript=transcript, on_event=on_event)
        self.levels: dict[str, float] = {YOU: -120.0, OTHERS: -120.0}
        self.lags: dict[str, float] = {YOU: 0.0, OTHERS: 0.0}
        self._lag_shown = ""
        self.reconnecting: set[str] = set()
        """The speakers whose engine is reconnecting."""
        self.stopped: dict[str, str] = {}
        """Speaker → why its source stopped (the other goes on)."""

    # -- driven like a session ---------------------------------------------------------------------
    @property
    def options(self) -> EngineOptions:
        return self.meeting.you.options

    @property
    def engine(self) -> Engine | None:
        return self.meeting.you.engine or self.meeting.others.engine

    async def run(self) -> None:
        try:
            await self.meeting.run()
        except (EngineFailure, AudioError) as exc:
            for speaker, failure in self.meeting.failures.items():
                self.stopped.setdefault(speaker, _reason(failure))
            raise MeetingFailed(self.failure_text()) from exc

    async def stop(self) -> None:
        await self.meeting.stop()

    async def update_options(self, options: EngineOptions) -> None:
        await self.meeting.update_options(options)

    # -- what happens to each source ------------------------------------------------------------------
    def on_level(self, event: AudioLevel) -> tuple[float, float]:
        """Note a source's level and lag; the meeting's: the louder level and the larger lag of the sources still
        captioned (the overlay has one meter)."""
        speaker = event.speaker or YOU
        self.levels[speaker] = event.rms_dbfs
        self.lags[speaker] = event.lag
        going = [s for s in (YOU, OTHERS) if s not in self.stopped]
        return max((self.levels[s] for s in going), default=-120.0), max((self.lags[s] for s in going), default=0.0)

    def on_error(self, event: EngineError) -> bool:
        """A source gave up (``event`` not retryable, with its speaker): note it; True if it is news."""
        if event.retryable or event.speaker not in SOURCE_WORDS or event.speaker in self.stopped:
            return False
        other = OTHERS if event.speaker == YOU else YOU
        self.reconnecting.discard(event.speaker)
        self.stopped[event.speaker] = _reason(event.message).removesuffix(f"; {other} still captioned")
        return True

    def named(self, event: EngineError) -> str:
        """A retryable ``event``'s message, naming the source it is about ("System audio: cannot reach …")."""
        if event.speaker not in SOURCE_WORDS:
            return event.message
        self.reconnecting.add(event.speaker)
        return f"{SOURCE_WORDS[event.speaker]}: {event.message}"

    def back(self, event: CaptionEvent) -> bool:
        """A listening status or a caption of ``event``'s source: whether no source is reconnecting any more."""
        if isinstance(event, Interim | Final) or (isinstance(event, Status) and event.state is EngineState.LISTENING):
            self.reconnecting.discard(event.speaker or "")
        return not self.reconnecting

    def failure_text(self) -> str:
        """Which source stopped and why, and whether the other is still captioned."""
        parts = [f"{SOURCE_WORDS[s]} stopped: {self.stopped[s]}" for s in (YOU, OTHERS) if s in self.stopped]
        if len(self.stopped) == 1:
            [speaker] = self.stopped
            parts.append(f"{SOURCE_WORDS[OTHERS if speaker == YOU else YOU].lower()} still captioned")
        return "; ".join(parts)

    def lag_news(self) -> bool:
        """Whether :meth:`lag_text` changed since this was last asked."""
        news, self._lag_shown = self.lag_text() != self._lag_shown, self.lag_text()
        return news

    def lag_text(self) -> str:
        """Each source notably behind its audio, e.g. ' · system audio 3 s behind' ('' when none is)."""
        behind = [
            f" · {SOURCE_WORDS[s].lower()} {self.lags[s]:.0f} s behind"
            for s in (YOU, OTHERS)
            if s not in self.stopped and self.lags[s] >= LAG_NOTABLE_S
        ]
        return "".join(behind)


def _reason(failure: BaseException | str) -> str:
    text = failure.message if isinstance(failure, EngineFailure) else str(failure)
    return text.strip().rstrip(".")
