"""A scripted engine for meeting-mode tests of the app (a boundary: the app's handling of two sessions is under test).

The scripted engines name each chunk by its start time; in meeting mode both sources are on one timeline, so the
two sessions would "hear" the same words at the same moments and the duplicate guard would rightly drop the "You"
lines as repeats. :class:`MeetingEngine` (``"meeting-fake"``) puts its instance number in every name
(``c<instance>x<ms>``, ``s…`` for silence), so the two sessions' words never coincide.
"""

from __future__ import annotations

import math

from captioner.audio.base import AudioChunk
from tests.support.scripted_engine import FakeEngine, Script


def meeting_script(*, quiet_dbfs: float = -math.inf, per_final: int = 8) -> Script:
    """A line every ``per_final`` chunks; chunks quieter than ``quiet_dbfs`` are named as silence."""
    return Script(per_final=per_final, fail_after=20, quiet_dbfs=quiet_dbfs)


class MeetingEngine(FakeEngine):
    id = "meeting-fake"
    name = "Fake engine"
    script = meeting_script()

    def name_of(self, chunk: AudioChunk) -> str:
        return f"{'s' if self.quiet(chunk) else 'c'}{self.number}x{round(chunk.start * 1000)}"
