"""Subtitle cues: broadcast limits, word boundaries and word times, order, no overlap, speakers."""

from __future__ import annotations

import io
import itertools
import json
import re
from typing import Any

import pytest

from captioner import cli
from captioner.captions.cues import MIN_SHOW, CueLimits, cues
from captioner.captions.events import Final, Word
from captioner.captions.export import export, to_json, to_srt, to_txt, to_vtt
from captioner.captions.transcript import Line, Transcript
from captioner.captions.writers import SrtWriter

LONG = (
    "in short the period was so far like the present period that some of its noisiest authorities insisted on "
    "its being received for good or for evil in the superlative degree of comparison only and nothing else, now"
)  # 211 characters, as in the export that was reported


def line(text: str, start: float | None, end: float | None, line_id: str = "1", **kw: object) -> Line:
    return Line(line_id=line_id, text=text, final=True, engine="e", start=start, end=end, **kw)  # type: ignore[arg-type]


def assert_well_formed(cs: list[Any], limits: CueLimits) -> None:
    for c in cs:
        assert 1 <= len(c.lines) <= limits.max_lines, c
        assert all(len(row) <= limits.max_chars for row in c.lines), c
        assert c.end - c.start <= limits.max_seconds + 1e-9, c
        assert c.end > c.start
    for a, b in itertools.pairwise(cs):
        assert a.end <= b.start, (a, b)


def test_a_long_line_becomes_cues_within_the_limits_at_word_boundaries() -> None:
    assert len(LONG) == 211
    cs = cues([line(LONG, 10.0, 27.0)])
    assert_well_formed(cs, CueLimits())
    assert " ".join(" ".join(c.lines) for c in cs) == LONG  # every word, in order, none cut
    assert len(cs) == 3
    assert cs[0].start == 10.0 and cs[-1].end == 27.0
    # No word times: spread in proportion to the characters, so the cues follow each other without a gap.
    assert all(a.end == pytest.approx(b.start) for a, b in itertools.pairwise(cs))


def test_the_lines_of_a_cue_are_balanced_and_a_short_line_stays_one_line() -> None:
    cs = cues([line("it was the best of times it was the worst of times", 0.0, 3.0)])
    assert [c.lines for c in cs] == [("it was the best of times", "it was the worst of times")]
    assert [c.lines for c in cues([line("Hello, world.", 0.0, 1.0)])] == [("Hello, world.",)]


def test_word_times_decide_where_cues_start() -> None:
    text = "we had everything before us we had nothing before us"
    words = text.split()
    # Five words in the first second, then a 9 s pause, then five more words.
    times = [(i * 0.2, i * 0.2 + 0.18) for i in range(5)] + [(10.0 + i * 0.2, 10.18 + i * 0.2) for i in range(5)]
    timed = tuple(Word(text=w, start=a, end=b) for w, (a, b) in zip(words, times, strict=True))
    cs = cues([line(text, 0.0, 11.0, words=timed)])
    assert [" ".join(c.lines) for c in cs] == ["we had everything before us", "we had nothing before us"]
    assert cs[1].start == 10.0  # the second cue starts with its first word, not in proportion
    assert cs[0].end - cs[0].start <= 7.0  # shown no longer than the limit through the pause
    assert_well_formed(cs, CueLimits())


def test_a_cue_ends_after_a_sentence_once_it_holds_a_line() -> None:
    text = "It was the best of times, it was the worst. It was the age of wisdom."
    cs = cues([line(text, 0.0, 5.0)])
    assert [" ".join(c.lines) for c in cs] == [
        "It was the best of times, it was the worst.",
        "It was the age of wisdom.",
    ]


def test_limits_are_options() -> None:
    limits = CueLimits(max_chars=20, max_lines=1, max_seconds=2.0)
    cs = cues([line(LONG, 0.0, 17.0)], limits)
    assert_well_formed(cs, limits)
    assert len(cs) >= 11
    srt = to_srt([line(LONG, 0.0, 17.0)], limits)
    assert max(len(row) for row in srt.splitlines()) <= 29  # the time line is the widest
    with pytest.raises(ValueError, match="characters per cue line"):
        CueLimits(max_chars=3).check()


def test_a_word_longer_than_a_line_keeps_a_line_of_its_own() -> None:
    word = "x" * 50
    cs = cues([line(f"a {word} b", 0.0, 3.0)])
    assert [row for c in cs for row in c.lines] == ["a", word, "b"]


def test_cues_are_ordered_and_never_overlap_whatever_the_lines() -> None:
    lines = [
        line("second run line", 35.0, 38.0, "r2.1-0"),
        line("first run line one", 0.0, 4.0, "r1.1-0"),
        line("first run line two overlapping the next", 3.0, 9.0, "r1.1-1"),
        line("same start as the line before", 3.0, 5.0, "r1.1-2"),
        line("no times at all", None, None, "r1.1-3"),
    ]
    cs = cues(lines)
    assert_well_formed(cs, CueLimits())
    assert all(c.end - c.start >= MIN_SHOW - 1e-9 for c in cs)
    srt_times = re.findall(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)", to_srt(lines))
    flat = [t for pair in srt_times for t in pair]
    assert flat == sorted(flat)
    assert to_txt(lines).splitlines()[-1] == "second run line"  # whole lines, in time order
    assert [r["id"] for r in json.loads(to_json(lines))][-1] == "r2.1-0"


def test_speakers_are_named_in_every_format() -> None:
    lines = [
        line("hello there", 0.0, 1.0, "1", speaker="You"),
        line("how are you", 1.0, 2.0, "2", speaker="You"),
        line("fine thanks", 2.0, 3.0, "3", speaker="Others"),
    ]
    srt = to_srt(lines)
    assert "You: hello there" in srt and "\nhow are you\n" in srt and "Others: fine thanks" in srt
    vtt = to_vtt(lines)
    assert "<v You>You: hello there" in vtt and "<v You>how are you" in vtt and "<v Others>Others: fine" in vtt
    assert to_txt(lines) == "You: hello there\nYou: how are you\nOthers: fine thanks\n"
    assert [r.get("speaker") for r in json.loads(to_json(lines))] == ["You", "You", "Others"]
    # One speaker only: no names in the text (nothing to tell apart); the voice tag and the field stay.
    alone = [line("hello", 0.0, 1.0, speaker="A")]
    assert "A:" not in to_srt(alone) + to_txt(alone)
    assert "<v A>hello" in to_vtt(alone) and json.loads(to_json(alone))[0]["speaker"] == "A"


def test_vtt_escapes_markup_characters() -> None:
    assert "a &lt;b&gt; &amp; c" in to_vtt([line("a <b> & c", 0.0, 1.0)])


def test_json_and_txt_keep_lines_whole_and_json_has_word_times() -> None:
    words = tuple(Word(text=w, start=i * 1.0, end=i * 1.0 + 0.5) for i, w in enumerate(LONG.split()))
    lines = [line(LONG, 0.0, 40.0, words=words)]
    assert export("txt", lines) == LONG + "\n"
    rec = json.loads(export("json", lines))[0]
    assert rec["text"] == LONG and rec["words"][1] == {"text": "short", "start": 1.0, "end": 1.5}


def test_the_streaming_srt_writer_cuts_cues_too() -> None:
    out = io.StringIO()
    w = SrtWriter(out, limits=CueLimits(max_chars=30, max_lines=1))
    t = Transcript()
    t.subscribe(w.change)
    t.apply(Final(line_id="1", text=LONG, engine="e", start=0.0, end=17.0))
    t.apply(Final(line_id="2", text="next", engine="e", start=16.0, end=18.0))  # overlaps the first
    w.close(t)
    blocks = out.getvalue().strip().split("\n\n")
    texts = [b.splitlines()[2:] for b in blocks]
    assert all(len(t) == 1 and len(t[0]) <= 30 for t in texts)
    assert " ".join(t[0] for t in texts) == LONG + " next"
    times = [t for b in blocks for t in b.splitlines()[1].split(" --> ")]
    assert times == sorted(times)


def test_cli_rejects_bad_cue_limits(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["caption", "--source", "nothing.wav", "--format", "srt", "--cue-lines", "9"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "lines per cue" in err
