"""The duplicate guard: a "You" final that repeats an "Others" line spoken at the same time is dropped; your own
words (also while the others talk) are kept; a final is held only while the line it might repeat is still open."""

from __future__ import annotations

from captioner.audio.base import AudioChunk
from captioner.captions.events import EngineState, Final, Interim, Status
from captioner.session.echo_guard import DuplicateGuard, SoundLog, common_words
from tests.support.memory_source import tone_chunk


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def final(line_id: str, text: str, start: float, end: float, speaker: str) -> Final:
    return Final(line_id=line_id, text=text, engine="e", start=start, end=end, speaker=speaker)


def interim(line_id: str, text: str, start: float, end: float, speaker: str) -> Interim:
    return Interim(line_id=line_id, text=text, engine="e", start=start, end=end, speaker=speaker)


def make(audible: bool = True) -> tuple[DuplicateGuard, Clock]:
    clock = Clock()
    return DuplicateGuard(reference_audible=lambda a, b: audible, clock=clock), clock


def test_common_words_is_the_longest_common_subsequence() -> None:
    assert common_words(["it", "was", "the", "best", "of", "times"], ["it", "was", "the", "worst", "of", "times"]) == 5
    assert common_words([], ["a"]) == 0
    assert common_words(["b", "a"], ["a", "b"]) == 1


def test_a_you_line_repeating_the_others_at_the_same_time_is_dropped() -> None:
    guard, _ = make()
    guard.others(final("r1.1-0", "It was the best of times, it was the worst of times.", 1.0, 4.0, "Others"))
    verdict = guard.you(final("r2.1-0", "it was the best of times it was the worse of times", 1.2, 4.3, "You"))
    assert isinstance(verdict, Final) and verdict.text == "" and verdict.line_id == "r2.1-0"
    assert [f.line_id for f in guard.dropped] == ["r2.1-0"]
    # Later versions of that line, and its interims, stay hidden.
    assert guard.you(interim("r2.1-0", "it was", 1.2, 2.0, "You")) is None
    assert guard.you(final("r2.1-0", "It was the best of times.", 1.2, 4.3, "You")) is None


def test_the_same_words_at_another_time_are_kept() -> None:
    guard, clock = make()
    guard.others(final("r1.1-0", "It was the best of times.", 1.0, 3.0, "Others"))
    mine = final("r2.1-0", "It was the best of times.", 20.0, 22.0, "You")
    assert guard.you(mine) is None  # held: the system audio played
    clock.now += guard.policy.min_hold
    assert guard.due() == [mine]


def test_your_own_words_over_the_others_are_kept() -> None:
    guard, clock = make()
    guard.others(final("r1.1-0", "It was the age of wisdom, it was the age of foolishness.", 10.0, 14.0, "Others"))
    mine = final("r2.1-0", "Ever tried. Ever failed. It was no matter.", 10.5, 14.5, "You")
    assert guard.you(mine) is None
    clock.now += guard.policy.min_hold
    assert guard.due() == [mine]
    assert not guard.dropped


def test_while_the_system_audio_is_silent_a_final_is_committed_at_once() -> None:
    guard, _ = make(audible=False)
    mine = final("r2.1-0", "Ever tried.", 1.0, 2.0, "You")
    assert guard.you(mine) is mine


def test_a_final_is_held_while_the_line_it_may_repeat_is_still_open_then_dropped() -> None:
    guard, clock = make()
    guard.others(interim("r1.1-3", "we had everything", 30.0, 31.5, "Others"))
    assert guard.you(final("r2.1-7", "We had everything before us.", 30.1, 32.2, "You")) is None
    clock.now += guard.policy.min_hold * 2
    assert guard.due() == []  # the others' line is still open
    guard.others(final("r1.1-3", "We had everything before us, we had nothing before us.", 30.0, 33.0, "Others"))
    [verdict] = guard.due()
    assert verdict.text == "" and verdict.line_id == "r2.1-7"


def test_a_held_final_is_decided_after_max_hold_also_against_open_lines() -> None:
    guard, clock = make()
    guard.others(interim("r1.1-3", "in short the period was so far", 50.0, 53.0, "Others"))
    mine = final("r2.1-9", "Try again.", 50.5, 51.5, "You")
    assert guard.you(mine) is None
    clock.now += guard.policy.max_hold - 0.01
    assert guard.due() == []
    clock.now += 0.02
    assert guard.due() == [mine]
    echo = final("r2.1-10", "in short the period was", 50.6, 52.9, "You")
    assert guard.you(echo) is None
    clock.now += guard.policy.max_hold
    [verdict] = guard.due()
    assert verdict.text == ""


def test_flush_decides_every_held_final_and_other_events_pass() -> None:
    guard, _ = make()
    guard.others(interim("r1.1-0", "nothing before us", 5.0, 6.0, "Others"))
    mine = final("r2.1-0", "Fail better.", 5.0, 6.0, "You")
    assert guard.you(mine) is None
    assert guard.you(interim("r2.1-0", "Fail", 5.0, 5.5, "You")) is None  # a held line shows no newer interim
    status = Status(engine="e", state=EngineState.LISTENING)
    assert guard.you(status) is status and guard.others(status) is status
    assert guard.flush() == [mine]
    assert guard.due() == []


def chunk_at(start: float, amplitude: float) -> AudioChunk:
    return tone_chunk(start, amplitude=amplitude)


def test_the_sound_log_knows_when_the_system_audio_played() -> None:
    log = SoundLog()
    for i in range(20):
        log.add(chunk_at(10.0 + i * 0.05, 0.1))  # 10.0-11.0 s: sound
    for i in range(20):
        log.add(chunk_at(11.0 + i * 0.05, 0.0))  # 11.0-12.0 s: digital silence
    assert log.audible(10.5, 10.6)
    assert log.audible(9.0, 10.01)
    assert not log.audible(11.1, 12.0)
    assert not log.audible(0.0, 9.9)


def test_an_interim_repeating_the_others_is_not_shown_but_yours_is() -> None:
    guard, _ = make()
    guard.others(interim("r1.1-4", "it was the season of light", 20.0, 22.0, "Others"))
    echo = interim("r2.1-8", "it was the season", 20.2, 21.6, "You")
    assert guard.you(echo) is None
    short = interim("r2.1-8", "it was", 20.2, 20.8, "You")
    assert guard.you(short) is short  # too few words to tell
    mine = interim("r2.1-9", "ever tried ever failed", 20.5, 22.0, "You")
    assert guard.you(mine) is mine
