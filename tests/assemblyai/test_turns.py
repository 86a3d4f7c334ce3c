"""The sans-IO turn tracker with today's shapes: U3 partials, non-speech and empty turns, speakers, languages."""

from __future__ import annotations

import json
from typing import Any

from captioner.captions.events import Final, Interim, Notice
from captioner.engines.assemblyai.speakers import SpeakerBook
from captioner.engines.assemblyai.turns import TurnTracker


def turn(order: int, transcript: str, words: list[tuple[str, bool]], *, eot: bool = False, **extra: Any) -> str:
    msg = {
        "type": "Turn",
        "turn_order": order,
        "turn_is_formatted": eot,
        "end_of_turn": eot,
        "transcript": transcript,
        "end_of_turn_confidence": 1.0 if eot else 0.0,
        "words": [
            {"start": 100 * i, "end": 100 * i + 80, "text": t, "confidence": 0.9, "word_is_final": f}
            for i, (t, f) in enumerate(words)
        ],
        "utterance": transcript if eot else "",
    }
    return json.dumps({**msg, **extra})


def test_u3_partial_shows_the_whole_partial_once_all_tentative() -> None:
    tr = TurnTracker()
    [ev] = tr.receive(turn(0, "My name is—", [("My", False), ("name", False), ("is—", False)]))
    assert isinstance(ev, Interim)
    assert (ev.text, ev.tail, ev.stable) == ("My name is—", "My name is—", "")
    [f] = tr.receive(
        turn(0, "My name is Sonny.", [("My", True), ("name", True), ("is", True), ("Sonny.", True)], eot=True)
    )
    assert isinstance(f, Final) and f.text == "My name is Sonny."


def test_universal_streaming_partial_is_final_words_plus_the_tentative_tail() -> None:
    tr = TurnTracker()
    [ev] = tr.receive(turn(0, "hi my", [("hi", True), ("my", True), ("name", False)]))
    assert isinstance(ev, Interim) and (ev.text, ev.tail, ev.stable) == ("hi my name", "name", "hi my")


def test_non_speech_and_empty_turns_make_no_line_and_close_a_shown_one() -> None:
    tr = TurnTracker()
    silence = turn(0, " silence  silence", [("", True), ("silence", True)], eot=True, utterance="[ Silence] [ Silence]")
    assert tr.receive(silence) == []
    assert tr.receive(turn(1, "", [], eot=True)) == []  # an end of turn with nothing said
    # A partial was on screen, then the turn turned out to be music: the line is closed, empty.
    tr.receive(turn(2, "", [("la", False)]))
    [closed] = tr.receive(turn(2, " música", [("música", True)], eot=True, utterance="[Música]"))
    assert isinstance(closed, Final) and closed.text == "" and closed.line_id == "2"
    # A later (formatted) message of a turn that made no line adds none.
    assert tr.receive(turn(0, "Silence.", [("Silence.", True)], eot=True, utterance="")) == []
    # Speech with a tag inside is still speech.
    [mixed] = tr.receive(turn(3, "hello", [("hello", True)], eot=True, utterance="Hello [Music]"))
    assert isinstance(mixed, Final) and mixed.text == "hello"


def test_speaker_labels_language_and_the_speaker_revision() -> None:
    tr = TurnTracker()
    [a] = tr.receive(turn(0, "Bonjour.", [("Bonjour.", True)], eot=True, speaker_label="A", language_code="fr"))
    [b] = tr.receive(turn(1, "Hello.", [("Hello.", True)], eot=True, speaker_label="B", language_code="en"))
    [u] = tr.receive(turn(2, "Hm.", [("Hm.", True)], eot=True, speaker_label="UNKNOWN"))
    assert [(f.speaker, f.language) for f in (a, b, u)] == [("A", "fr"), ("B", "en"), (None, None)]  # type: ignore[union-attr]
    revision = {"type": "SpeakerRevision", "revisions": [{"turn_order": 1, "speaker_label": "A", "words": []}]}
    [relabelled] = tr.receive(json.dumps(revision))
    assert isinstance(relabelled, Final) and isinstance(b, Final)
    assert relabelled == Final(
        line_id="1", text="Hello.", engine="assemblyai", start=b.start, end=b.end, speaker="A", language="en"
    )
    # An unchanged label or an unknown turn: nothing to re-send.
    same = {"type": "SpeakerRevision", "revisions": [{"turn_order": 1, "speaker_label": "A"}, {"turn_order": 9}]}
    assert tr.receive(json.dumps(same)) == []


def test_a_later_session_gives_its_speakers_new_letters_and_says_why() -> None:
    book = SpeakerBook()
    first = TurnTracker(speakers=book)
    first.receive(turn(0, "One.", [("One.", True)], eot=True, speaker_label="A"))
    first.receive(turn(1, "Two.", [("Two.", True)], eot=True, speaker_label="B"))
    second = TurnTracker(prefix="s1-", speakers=book)  # the next session: its labels restart at A
    events = second.receive(turn(0, "Three.", [("Three.", True)], eot=True, speaker_label="A"))
    notices = [e for e in events if isinstance(e, Notice)]
    [final] = [e for e in events if isinstance(e, Final)]
    assert final.speaker == "C" and len(notices) == 1 and "new letters" in notices[0].message
    [again] = second.receive(turn(1, "Four.", [("Four.", True)], eot=True, speaker_label="A"))
    assert isinstance(again, Final) and again.speaker == "C"  # stable within the session, told once
    # Told at rollover that the new session's B is the old A (same audio heard by both): A it is.
    book.alias(second.speaker_session, "B", "A")
    [mapped] = second.receive(turn(2, "Five.", [("Five.", True)], eot=True, speaker_label="B"))
    assert isinstance(mapped, Final) and mapped.speaker == "A"
