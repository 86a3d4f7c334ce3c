"""The text writer on a real pseudo-terminal of a fixed size, read back through a terminal emulator (pyte).

What is asserted is what a person sees: the screen's rows, after interim lines longer than the terminal is
wide, after resizing it, and after a revision in place.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from captioner.captions.events import Final, Interim
from captioner.captions.live_line import ELLIPSIS, cells, clean, tail_that_fits
from captioner.captions.transcript import Transcript
from captioner.captions.writers import TextWriter
from tests.support.terminal import PtyScreen, wrapped

SPEECH = (
    "in short the period was so far like the present period that some of its noisiest authorities insisted "
    "on its being received for good or for evil in the superlative degree of comparison only"
)


@pytest.fixture
def term() -> Iterator[PtyScreen]:
    t = PtyScreen(100, 30)
    yield t
    t.close()


def writer_on(term: PtyScreen) -> tuple[TextWriter, Transcript]:
    w = TextWriter(term.slave)
    assert w.live  # a tty: the live line is shown
    t = Transcript()
    t.subscribe(w.change)
    return w, t


def interims(t: Transcript, text: str, line_id: str = "1") -> Iterator[str]:
    words = text.split()
    for n in range(1, len(words) + 1):
        shown = " ".join(words[:n])
        t.apply(Interim(line_id=line_id, text=shown, engine="e"))
        yield shown


def test_a_growing_interim_wider_than_the_terminal_leaves_no_copies(term: PtyScreen) -> None:
    w, t = writer_on(term)
    t.apply(Final(line_id="0", text="we had everything before us", engine="e"))
    for shown in interims(t, SPEECH):
        rows = term.text_rows()
        assert rows[0] == "we had everything before us"
        assert rows[1:] == wrapped(shown, 100), shown
    t.apply(Final(line_id="1", text=SPEECH, engine="e"))
    assert term.text_rows() == ["we had everything before us", *wrapped(SPEECH, 100)]
    w.close(t)
    assert term.text_rows() == ["we had everything before us", *wrapped(SPEECH, 100)]


def test_an_interim_longer_than_three_rows_shows_its_tail(term: PtyScreen) -> None:
    w, t = writer_on(term)
    long_text = " ".join([SPEECH] * 3)  # ~570 characters: more than 3 rows of 100
    for _ in interims(t, long_text):
        rows = term.text_rows()
        assert len(rows) <= 3
    shown = term.raw().strip()
    assert shown.startswith(ELLIPSIS)
    assert long_text.endswith(shown[1:].strip())
    assert len(shown) < 300  # never the last cell of the third row
    w.close(t)
    assert term.text_rows() == []


def test_resizing_while_a_long_interim_is_shown_does_not_break_it(term: PtyScreen) -> None:
    w, t = writer_on(term)
    t.apply(Final(line_id="0", text="first line", engine="e"))
    words = SPEECH.split()
    half = " ".join(words[: len(words) // 2])
    t.apply(Interim(line_id="1", text=half, engine="e"))
    assert term.text_rows() == ["first line", *wrapped(half, 100)]
    for columns in (57, 33, 120, 80):
        term.resize(columns, 30)
        text = half + f" resized to {columns}"
        t.apply(Interim(line_id="1", text=text, engine="e"))
        expected = tail_that_fits(text, 3 * columns - 1)  # at most 3 rows, never the very last cell
        assert term.text_rows() == ["first line", *wrapped(expected, columns)], columns
    t.apply(Final(line_id="1", text="done", engine="e"))
    assert term.text_rows() == ["first line", "done"]
    w.close(t)


def test_a_revision_of_a_wrapped_final_replaces_all_of_its_rows(term: PtyScreen) -> None:
    w, t = writer_on(term)
    t.apply(Final(line_id="0", text="before", engine="e"))
    t.apply(Final(line_id="1", text=SPEECH, engine="e", formatted=False))
    t.apply(Interim(line_id="2", text="and then", engine="e"))
    formatted = "In short, the period was so far like the present period. " + SPEECH[60:]
    t.apply(Final(line_id="1", text=formatted, engine="e"))
    assert term.text_rows() == ["before", *wrapped(formatted, 100), "and then"]
    w.close(t)
    assert term.text_rows() == ["before", *wrapped(formatted, 100)]


def test_a_warning_printed_meanwhile_does_not_break_the_live_line(term: PtyScreen) -> None:
    w, t = writer_on(term)
    t.apply(Interim(line_id="1", text=SPEECH, engine="e"))
    with w.aside():
        term.slave.write("captioner: warning: something\n")
    t.apply(Interim(line_id="1", text=SPEECH + " again", engine="e"))
    assert term.text_rows() == ["captioner: warning: something", *wrapped(SPEECH + " again", 100)]
    w.close(t)


def test_control_characters_from_an_engine_never_reach_the_terminal(term: PtyScreen) -> None:
    w, t = writer_on(term)
    t.apply(Interim(line_id="1", text="evil\x1b[2Jtext\ttab", engine="e"))
    t.apply(Final(line_id="1", text="evil\x1b]0;title\x07text", engine="e"))
    assert term.text_rows() == ["evil ]0;title text"]
    w.close(t)


def test_cells_and_tail() -> None:
    assert cells("日本語") == 6
    assert cells("e\u0301") == 1
    assert clean("a\nb\x1bc") == "a b c"
    tail = tail_that_fits("one two three four five six", 12)
    assert tail.startswith(ELLIPSIS) and cells(tail) <= 12 and tail.endswith("six")
    assert tail_that_fits("short", 12) == "short"
