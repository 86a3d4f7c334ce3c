"""Exporters against hand-written expected files."""

from __future__ import annotations

import json

from captioner.captions.export import srt_time, to_json, to_srt, to_txt, to_vtt, vtt_time
from captioner.captions.transcript import Line

LINES = [
    Line(line_id="1", text="It was the best of times,", final=True, engine="local", start=0.48, end=2.2),
    Line(line_id="2", text="it was the worst of times.", final=True, engine="local", start=2.5, end=4.015),
    Line(line_id="3", text="An hour later.", final=True, engine="local", start=3723.456, end=None),
    Line(line_id="4", text="   ", final=True, engine="local", start=3724.0, end=3725.0),
]

EXPECTED_SRT = """1
00:00:00,480 --> 00:00:02,200
It was the best of times,

2
00:00:02,500 --> 00:00:04,015
it was the worst of times.

3
01:02:03,456 --> 01:02:03,956
An hour later.

"""

EXPECTED_VTT = """WEBVTT

00:00:00.480 --> 00:00:02.200
It was the best of times,

00:00:02.500 --> 00:00:04.015
it was the worst of times.

01:02:03.456 --> 01:02:03.956
An hour later.

"""


def test_srt() -> None:
    assert to_srt(LINES) == EXPECTED_SRT


def test_vtt() -> None:
    assert to_vtt(LINES) == EXPECTED_VTT


def test_missing_end_uses_next_start() -> None:
    lines = [
        Line(line_id="1", text="a", final=True, engine="e", start=1.0, end=None),
        Line(line_id="2", text="b", final=True, engine="e", start=3.0, end=4.0),
    ]
    assert "00:00:01,000 --> 00:00:03,000" in to_srt(lines)


def test_missing_start_follows_previous_end() -> None:
    lines = [
        Line(line_id="1", text="a", final=True, engine="e", start=1.0, end=2.0),
        Line(line_id="2", text="b", final=True, engine="e", start=None, end=None),
    ]
    assert "00:00:02,000 --> 00:00:02,500" in to_srt(lines)


def test_times_round_to_milliseconds() -> None:
    assert srt_time(59.9996) == "00:01:00,000"
    assert vtt_time(0.0014) == "00:00:00.001"
    assert srt_time(-3) == "00:00:00,000"


def test_txt_and_json() -> None:
    assert to_txt(LINES[:2]) == "It was the best of times,\nit was the worst of times.\n"
    assert to_txt(LINES[:1], timestamps=True) == "[00:00:00] It was the best of times,\n"
    assert to_txt([]) == ""
    data = json.loads(to_json(LINES[:1]))
    assert data == [{"id": "1", "text": "It was the best of times,", "start": 0.48, "end": 2.2, "engine": "local"}]
