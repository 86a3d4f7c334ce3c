"""Three hours of AssemblyAI captioning on a simulated clock, through the session's rollover.

An AssemblyAI session lasts at most 3 hours (``docs/assemblyai.md``), so the engine opens the next session two
minutes before the expiry its ``Begin`` announces and hands the audio over. Here a real Session captions 3 h 1 min
of the Beckett reading, looped and paced at 1× on a :class:`~tests.support.virtual_clock.VirtualClockLoop`
(hours in seconds; real sockets to the fake AssemblyAI on 127.0.0.1, which enforces the 3-hour limit and the
real-time rate on the same clock). The fake "hears" a scripted turn every 20 s, and one long turn across the
moment of the handover. Every scripted word must be committed exactly once, at its time, and every sample of
the source must reach exactly one session, with no error shown.
"""

from __future__ import annotations

import time

from captioner.captions.events import EngineError, Status
from captioner.engines.assemblyai.connection import ROLLOVER_MARGIN
from tests.support.fakes.assemblyai import ScriptTurn, make_turn
from tests.support.looped_speech import caption_for
from tests.support.virtual_clock import run

LIMIT = 3 * 3600.0
SECONDS = LIMIT + 60.0
HANDOVER = LIMIT - ROLLOVER_MARGIN  # source time (about) at which the audio moves to the next session


def script() -> tuple[ScriptTurn, ...]:
    turns = [make_turn(20.0 * k + 1.0, f"line {k} of the reading", word_s=0.3) for k in range(int(SECONDS // 20))]
    turns = [t for t in turns if not HANDOVER - 15.0 < t.words[0].start < HANDOVER + 15.0]
    # Someone speaks for 20 s across the handover: 60 words.
    long = make_turn(HANDOVER - 10.0, " ".join(f"w{i}" for i in range(60)), word_s=0.333)
    return tuple(sorted((*turns, long), key=lambda t: t.words[0].start))


def test_three_hours_through_the_rollover_lose_and_duplicate_no_word() -> None:
    turns = script()
    started = time.perf_counter()
    result, simulated = run(caption_for(turns, SECONDS, limit=LIMIT))
    wall = time.perf_counter() - started
    fake = result.fake
    finals = result.finals()
    committed = result.words()
    expected = [(w.text, w.start, w.end) for t in turns for w in t.words]
    print(
        f"\nsimulated {simulated / 3600:.2f} h in {wall:.1f} s; {len(fake.connections)} sessions, "
        f"{len(finals)} lines, {len(committed)} words (expected {len(expected)}); "
        f"handover at {fake.connections[-1].source_offset:.2f} s of the source"
    )
    assert result.error is None
    assert not [e for e in result.events if isinstance(e, EngineError)]
    assert any(isinstance(e, Status) and "switched" in e.message for e in result.events)
    # Two sessions, the second opened before the first expired; each ended normally.
    assert len(fake.connections) == 2
    first, second = fake.connections
    assert all(c.close_code == 1000 and c.terminate_received for c in fake.connections)
    assert LIMIT - ROLLOVER_MARGIN - 2.0 <= second.source_offset <= LIMIT - 1.0
    # Every sample reached exactly one session, with no gap: the second starts where the first stopped.
    assert second.source_offset == first.audio_seconds
    assert first.audio_seconds + second.audio_seconds == SECONDS
    # Every word once, at its place, in order: none lost or duplicated across the handover.
    assert [w[0] for w in committed] == [w[0] for w in expected]
    for (text, start, end), (_, want_start, want_end) in zip(committed, expected, strict=True):
        assert abs(start - want_start) < 0.01 and abs(end - want_end) < 0.01, text
