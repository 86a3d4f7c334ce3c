"""Speech segments from VAD probabilities: padding, the silence threshold, the length cap and its split point."""

from __future__ import annotations

import numpy as np

from captioner.engines.moonshine.segmenter import Closed, Opened, Segmenter, SegmentEvent
from captioner.engines.moonshine.vad import FRAME

MS = FRAME / 16  # 32 ms per frame


def _push(seg: Segmenter, probs: list[float], level: float = 0.1) -> list[SegmentEvent]:
    out: list[SegmentEvent] = []
    for p in probs:
        out += seg.push(np.full(FRAME, level if p >= 0.5 else level / 100, dtype=np.float32), p)
    return out


def _frames(ms: float) -> int:
    return round(ms / MS)


def test_a_segment_keeps_padding_around_its_speech_and_ends_after_the_silence() -> None:
    seg = Segmenter(silence_ms=500, pad_ms=300)
    events = _push(seg, [0.0] * 20 + [0.9] * 30 + [0.1] * _frames(500))
    opened, closed = events
    assert isinstance(opened, Opened) and isinstance(closed, Closed)
    assert opened.speech_at == 20 * FRAME
    assert opened.start == (20 - _frames(300)) * FRAME  # 300 ms before the first voiced frame
    assert closed.reason == "silence"
    assert closed.end == (50 + _frames(300)) * FRAME  # and 300 ms after the last
    assert (closed.speech_start, closed.speech_end) == (20 * FRAME, 50 * FRAME)
    assert closed.voiced_ms == 30 * MS
    assert not seg.in_speech


def test_short_pauses_and_wavering_probabilities_keep_the_segment_open() -> None:
    seg = Segmenter(silence_ms=500)
    # A 400 ms pause; then silence begins (0.2) and goes on counting through probabilities between the thresholds.
    events = _push(seg, [0.9] * 10 + [0.1] * _frames(400) + [0.9] * 10 + [0.2] + [0.45] * _frames(500))
    assert [type(e) for e in events] == [Opened, Closed]
    events = _push(seg, [0.9] * 10 + [0.45] * 40)  # never below 0.35: no silence has begun
    assert [type(e) for e in events] == [Opened]


def test_padding_before_never_reaches_into_the_previous_segment() -> None:
    seg = Segmenter(silence_ms=200, pad_ms=300)
    first = _push(seg, [0.9] * 10 + [0.1] * 7)
    second = _push(seg, [0.1] * 2 + [0.9] * 10)
    assert isinstance(first[-1], Closed) and isinstance(second[0], Opened)
    assert second[0].start >= first[-1].end


def test_long_speech_is_split_at_its_quietest_pause() -> None:
    seg = Segmenter(silence_ms=500, max_s=8.0)
    dip_at = _frames(5000)
    probs = [0.9] * dip_at + [0.2, 0.05, 0.2] + [0.9] * (_frames(8000) - dip_at)
    events = _push(seg, probs)
    assert [type(e) for e in events] == [Opened, Closed, Opened]
    closed = events[1]
    assert isinstance(closed, Closed) and closed.reason == "split"
    assert closed.end == (dip_at + 1) * FRAME  # the middle of the dip
    assert seg.in_speech and events[2].start == closed.end


def test_flush_closes_the_open_segment_with_all_its_audio() -> None:
    seg = Segmenter()
    _push(seg, [0.9] * 10)
    (closed,) = seg.flush(np.zeros(100, dtype=np.float32))
    assert isinstance(closed, Closed) and closed.reason == "end" and len(closed.audio) == 10 * FRAME + 100
    assert seg.flush() == []


def test_the_silence_threshold_can_change_between_segments() -> None:
    seg = Segmenter(silence_ms=500)
    seg.silence_ms = 1000
    events = _push(seg, [0.9] * 10 + [0.1] * _frames(700))
    assert [type(e) for e in events] == [Opened]
    assert seg.silence_run_ms >= 690
