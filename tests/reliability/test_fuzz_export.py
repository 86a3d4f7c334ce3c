"""Fuzzing the subtitle exporters: any text, any times, any order → valid, ordered SRT and WebVTT.

The output is parsed back with a strict checker (numbering, the time line's exact shape, no empty or blank cue
line, no ``-->`` or control character in the text, cues ordered and never overlapping); TXT and JSON must keep
every non-blank line.
"""

from __future__ import annotations

import json
import math
import re

from hypothesis import given
from hypothesis import strategies as st

from captioner.captions.cues import CueLimits
from captioner.captions.events import Word
from captioner.captions.export import to_json, to_srt, to_txt, to_vtt
from captioner.captions.transcript import Line
from tests.support.fuzz import counted

# Words of every kind: letters, arrows, tags, control characters, line breaks, non-BMP characters.
_PIECES = st.sampled_from(["-->", "<b>", "&amp;", "\n", "\r\n", "\x00", "\x1b[31m", "\u2028", "\t", " ", "é", "😀"])
TEXT = st.lists(st.one_of(st.text(max_size=12), _PIECES), max_size=12).map("".join)
TIME = st.one_of(
    st.none(),
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
    st.floats(allow_nan=True, allow_infinity=True),  # huge, infinite, not a number
    st.sampled_from([0.0, -0.0, 1e12, 359_999.9995]),
)


@st.composite
def lines(draw: st.DrawFn) -> Line:
    text = draw(TEXT)
    words: tuple[Word, ...] = ()
    if draw(st.booleans()):
        times = draw(st.lists(st.floats(min_value=-10, max_value=1e5), min_size=2 * len(text.split())))
        words = tuple(Word(text=w, start=times[2 * i], end=times[2 * i + 1]) for i, w in enumerate(text.split()))
    return Line(
        line_id=draw(st.text(max_size=4)),
        text=text,
        final=True,
        engine="fuzz",
        start=draw(TIME),
        end=draw(TIME),
        speaker=draw(st.one_of(st.none(), st.sampled_from(["You", "Others", "A -->", "<v x>", ""]))),
        words=words,
    )


LINES = st.lists(lines(), max_size=12)
LIMITS = st.builds(
    CueLimits,
    max_chars=st.integers(10, 200),
    max_lines=st.integers(1, 5),
    max_seconds=st.floats(1.0, 60.0),
)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_SRT_TIME = r"(\d{2,}):([0-5]\d):([0-5]\d),(\d{3})"
_VTT_TIME = r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})"


def _seconds(m: re.Match[str], first: int) -> float:
    h, mi, s, ms = (int(m.group(first + i)) for i in range(4))
    return h * 3600 + mi * 60 + s + ms / 1000


def _check_text(block: list[str], where: str) -> None:
    assert block, f"{where}: a cue without text"
    for row in block:
        assert row.strip(), f"{where}: a blank text line {row!r}"
        assert "-->" not in row, f"{where}: '-->' in the text {row!r}"
        assert not _CONTROL.search(row), f"{where}: a control character in {row!r}"


def _check_times(times: list[tuple[float, float]]) -> None:
    for i, (start, end) in enumerate(times):
        assert start < end, f"cue {i + 1} ends at {end} but starts at {start}"
        if i:
            assert times[i - 1][1] <= start, f"cue {i + 1} starts before cue {i} ends: {times[i - 1]} {start}"


def check_srt(srt: str) -> list[tuple[float, float]]:
    """Strict SubRip: numbered blocks from 1, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, text, one blank line."""
    if not srt:
        return []
    assert srt.endswith("\n\n") and "\r" not in srt, repr(srt[-40:])
    times = []
    for n, block in enumerate(srt[:-2].split("\n\n"), 1):
        rows = block.split("\n")
        assert rows[0] == str(n), f"cue {n} numbered {rows[0]!r}"
        m = re.fullmatch(f"{_SRT_TIME} --> {_SRT_TIME}", rows[1])
        assert m, f"cue {n}: bad time line {rows[1]!r}"
        times.append((_seconds(m, 1), _seconds(m, 5)))
        _check_text(rows[2:], f"SRT cue {n}")
    _check_times(times)
    return times


def check_vtt(vtt: str) -> list[tuple[float, float]]:
    """Strict WebVTT: the header, then cues of a time line and text; ``<`` only in a voice tag; ``&`` escaped."""
    assert vtt.startswith("WEBVTT\n\n") and "\r" not in vtt
    body = vtt[len("WEBVTT\n\n") :]
    if not body:
        return []
    assert body.endswith("\n\n")
    times = []
    for n, block in enumerate(body[:-2].split("\n\n"), 1):
        rows = block.split("\n")
        m = re.fullmatch(f"{_VTT_TIME} --> {_VTT_TIME}", rows[0])
        assert m, f"cue {n}: bad time line {rows[0]!r}"
        times.append((_seconds(m, 1), _seconds(m, 5)))
        _check_text(rows[1:], f"WebVTT cue {n}")
        text = "\n".join(rows[1:])
        voice = re.match(r"<v ([^<>]*)>", text)
        rest = text[voice.end() :] if voice else text
        assert "<" not in rest and ">" not in rest, f"cue {n}: markup in the text {text!r}"
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), f"cue {n}: a bare & in {text!r}"
    _check_times(times)
    return times


def test_srt_and_vtt_are_always_valid_and_ordered() -> None:
    with counted("export srt+vtt") as tick:

        @given(LINES, LIMITS)
        def run(lines: list[Line], limits: CueLimits) -> None:
            tick()
            srt_times = check_srt(to_srt(lines, limits))
            vtt_times = check_vtt(to_vtt(lines, limits))
            assert srt_times == vtt_times
            if any(_CONTROL.sub("", line.text).split() for line in lines):
                assert srt_times, "words went in, no cue came out"

        run()


def test_txt_and_json_keep_every_line() -> None:
    with counted("export txt+json") as tick:

        @given(LINES)
        def run(lines: list[Line]) -> None:
            tick()
            kept = [line for line in lines if line.text.strip()]
            records = json.loads(to_json(lines))
            assert sorted(r["text"] for r in records) == sorted(line.text for line in kept)
            for r in records:
                for key in ("start", "end"):
                    assert r[key] is None or math.isfinite(r[key]), f"JSON {key} {r[key]!r} is not a number"
            txt = to_txt(lines, timestamps=True)
            assert txt.count("\n") == len(kept), "TXT is one caption per line"

        run()
