"""Speaker labels through the engine and a real Session: on the lines and in the transcript, relabelled by
the service's ``SpeakerRevision``, and never silently reused by the next session after a reconnect."""

from __future__ import annotations

from pathlib import Path

from captioner.captions.events import Final, Notice
from captioner.engines.base import EngineOptions
from tests.assemblyai.helpers import KEY, reference_pcm, run_session, write_noise_wav
from tests.support.fakes.assemblyai import FakeAssemblyAI, Fault, make_turn

# Three turns of more than a second each (shorter turns are UNKNOWN to the service).
MEETING = (
    make_turn(0.1, "good morning to you all", "Good morning to you all.", speaker="alice"),
    make_turn(2.0, "thanks and good morning", "Thanks, and good morning.", speaker="bob", live_speaker="alice"),
    make_turn(3.8, "shall we start the meeting", "Shall we start the meeting?", speaker="alice"),
)


def opts(fake: FakeAssemblyAI) -> EngineOptions:
    return EngineOptions(endpoint=fake.url, extra={"speaker_labels": "true", "max_speakers": "4"})


async def test_lines_carry_the_speaker_and_the_revision_relabels_an_earlier_line(tmp_path: Path) -> None:
    wav = write_noise_wav(tmp_path / "meeting.wav", 5.8)
    async with FakeAssemblyAI(keys=(KEY,), script=MEETING, reference_pcm=reference_pcm(wav)) as fake:
        res = await run_session(wav, opts(fake))
    assert res.error is None
    assert fake.connections[0].params["speaker_labels"] is True and fake.connections[0].params["max_speakers"] == 4
    live = [(f.line_id, f.speaker) for f in res.finals() if f.formatted]
    # Live, the service took bob for alice; its SpeakerRevision before Termination corrects line 1-1.
    assert live[:3] == [("1-0", "A"), ("1-1", "A"), ("1-2", "A")]
    revised = res.finals()[-1]
    assert (revised.line_id, revised.text, revised.speaker) == ("1-1", "Thanks, and good morning.", "B")
    lines = [(line.text, line.speaker) for line in res.transcript.finals]
    assert lines == [
        ("Good morning to you all.", "A"),
        ("Thanks, and good morning.", "B"),
        ("Shall we start the meeting?", "A"),
    ]


async def test_after_a_reconnect_the_new_sessions_speakers_get_new_letters_and_the_user_is_told(
    tmp_path: Path,
) -> None:
    wav = write_noise_wav(tmp_path / "meeting.wav", 5.8)
    script = tuple(make_turn(t.words[0].start, t.raw, t.formatted, speaker=t.speaker) for t in MEETING)
    drop = Fault(0, 3.7, "drop")  # after bob's line: the next session hears alice first and calls her A
    async with FakeAssemblyAI(keys=(KEY,), script=script, reference_pcm=reference_pcm(wav), faults=(drop,)) as fake:
        res = await run_session(wav, opts(fake))
    assert res.error is None and len(fake.connections) == 2
    assert [m.get("speaker_label") for m in fake.connections[1].sent if m.get("end_of_turn")] == ["A", "A"]
    lines = [(line.text, line.speaker) for line in res.transcript.finals]
    assert lines == [
        ("Good morning to you all.", "A"),
        ("Thanks, and good morning.", "B"),
        ("Shall we start the meeting?", "C"),  # not "A": the new session cannot tell it is the same person
    ]
    notices = [e.message for e in res.events if isinstance(e, Notice)]
    assert sum("speaker labels restart" in n for n in notices) == 1
    assert all(isinstance(f, Final) for f in res.finals())


async def test_rollover_keeps_the_speakers_letters_after_a_warm_up(tmp_path: Path) -> None:
    # alice, bob, alice, bob; 1 s pauses. The next session opens at 2 s and hears the same audio for a
    # warm-up of 3.5 s (bob, then alice: it calls bob "A"), then takes over in the pause after alice.
    wav = write_noise_wav(tmp_path / "meeting.wav", 10.0)
    script = (
        make_turn(0.2, "good morning to you all", speaker="alice"),
        make_turn(2.7, "thanks and good morning", speaker="bob"),
        make_turn(5.2, "shall we start the meeting", speaker="alice"),
        make_turn(7.7, "yes let us do that", speaker="bob"),
    )
    extra = {"speaker_labels": "true", "rollover_seconds": "2", "rollover_warmup": "3.5"}
    async with FakeAssemblyAI(keys=(KEY,), script=script, reference_pcm=reference_pcm(wav)) as fake:
        res = await run_session(wav, EngineOptions(endpoint=fake.url, extra=extra))
    assert res.error is None and len(fake.connections) >= 2
    first, second = fake.connections[:2]
    # The second session heard bob first, so its letters are the other way round…
    labels = [m.get("speaker_label") for m in second.sent if m.get("end_of_turn") and m.get("turn_is_formatted")]
    assert labels[:3] == ["A", "B", "A"]
    # …both heard the warm-up, and every sample went to the service in order, with no gap at the handover.
    assert second.source_offset < 2.5 and first.audio_seconds > 6.5
    # The lines keep one letter per person across the handover, each line once, nobody told of a restart.
    lines = [(line.text, line.speaker) for line in res.transcript.finals]
    assert lines == [
        ("good morning to you all", "A"),
        ("thanks and good morning", "B"),
        ("shall we start the meeting", "A"),
        ("yes let us do that", "B"),
    ]
    assert not [e for e in res.events if isinstance(e, Notice) and "restart" in e.message]
