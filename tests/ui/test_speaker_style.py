"""Speaker labels and colours (Qt-free): the contrast of every colour, the settings fields, the layout's turns."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from captioner.captions.transcript import Transcript
from captioner.settings import Appearance, load
from captioner.ui.overlay_layout import HOLD_LINES, RollUp, Row, row_text
from captioner.ui.speaker_style import (
    MIN_CONTRAST,
    PALETTE,
    SpeakerStyle,
    backgrounds,
    composite,
    contrast_ratio,
    palette_index,
    speakers_shown,
    worst_contrast,
)
from tests.support.scripted_engine import Turn, conversation


def test_contrast_ratio_is_the_wcag_formula() -> None:
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near-miss grey
    assert contrast_ratio("#123456", "#123456") == pytest.approx(1.0)
    assert composite("#000000", 0.9, "#ffffff") in ("#191919", "#1a1a1a")  # 25.5 rounded


@pytest.mark.parametrize(
    "appearance",
    [Appearance(), Appearance(high_contrast=True)],
    ids=["default background over any window", "high contrast"],
)
def test_every_speaker_colour_is_legible_on_the_overlay(appearance: Appearance) -> None:
    style = SpeakerStyle(appearance)
    colors = {s: style.any_color(s) for s in ("You", "Others", *"ABCDEFG")}
    ratios = {s: worst_contrast(c, appearance) for s, c in colors.items()}
    print(f"\nworst contrast on {backgrounds(appearance)}: " + ", ".join(f"{s} {r:.1f}" for s, r in ratios.items()))
    assert min(ratios.values()) >= MIN_CONTRAST
    assert len(set(PALETTE)) == len(PALETTE) == len({colors[s] for s in "ABCDEFG"})  # distinct per speaker
    assert not {colors["You"], colors["Others"]} & set(PALETTE)  # a meeting with diarised speakers tells all apart


def test_high_contrast_replaces_an_illegible_chosen_colour() -> None:
    dark = Appearance(you_color="#202060", high_contrast=True)
    assert worst_contrast("#202060", dark) < MIN_CONTRAST
    shown = SpeakerStyle(dark).any_color("You")
    assert worst_contrast(shown, dark) >= MIN_CONTRAST and shown == Appearance().you_color
    assert SpeakerStyle(Appearance(you_color="#202060")).any_color("You") == "#202060"  # the user's choice


def test_labels_are_display_only_and_follow_the_style() -> None:
    a = Appearance(you_label="Me", others_label="Call")
    style = SpeakerStyle(a)
    assert (style.tag("You"), style.tag("Others"), style.tag("B"), style.tag(None)) == ("Me:", "Call:", "B:", "")
    assert SpeakerStyle(Appearance(speaker_style="color")).tag("You") == ""
    assert SpeakerStyle(Appearance(speaker_style="label")).color("You") is None
    assert not SpeakerStyle(Appearance(speaker_style="off")).enabled
    assert [palette_index(s) for s in ("A", "b", "1", "speaker_2")] == [0, 1, 0, 1]


def test_speakers_are_shown_with_two_speakers_or_in_meeting_mode() -> None:
    assert not speakers_shown([None, "A", "A"])
    assert speakers_shown(["A", "B"])
    assert speakers_shown(["You"])


def test_settings_load_keeps_valid_speaker_fields_and_defaults_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    bad = {"speaker_style": "rainbow", "you_label": "   ", "you_color": "blue", "others_color": 7, "zzz": 1}
    path.write_text(json.dumps({"version": 3, "appearance": bad}))
    a = load(path).appearance
    d = Appearance()
    assert (a.speaker_style, a.you_label, a.you_color, a.others_color) == (
        d.speaker_style,
        d.you_label,
        d.you_color,
        d.others_color,
    )
    good = {"speaker_style": "color", "you_label": "  Me  myself ", "you_color": "#AABBCC", "others_label": "x" * 40}
    path.write_text(json.dumps({"version": 3, "appearance": good}))
    a = load(path).appearance
    assert (a.speaker_style, a.you_label, a.you_color) == ("color", "Me myself", "#aabbcc")
    assert a.others_label == "x" * 16


# -- the layout of turns ---------------------------------------------------------------------------


def _layout(width: float = 40.0) -> RollUp:
    return RollUp(max_width=width, label_of=SpeakerStyle(Appearance()).tag, speakers_shown=speakers_shown)


def _feed(layout: RollUp, turns: list[Turn]) -> list[list[Row]]:
    """Every event of the conversation through a real transcript into ``layout``; the rows after each."""
    transcript = Transcript()
    snapshots = []
    for ev in conversation(turns):
        change = transcript.apply(ev)
        if change is None:
            continue
        line = change.line
        if change.kind == "interim":
            layout.interim(line.line_id, line.text, line.tail, line.speaker)
        else:
            layout.commit(line.line_id, line.text, line.speaker)
        snapshots.append(list(layout.all_rows()))
    return snapshots


def _order(rows: list[Row]) -> list[str]:
    """The lines in the order laid out, top to bottom."""
    out: list[str] = []
    for row in rows:
        for w in row:
            if w.line_id not in out:
                out.append(w.line_id)
    return out


def test_two_speakers_talking_at_once_keep_their_places() -> None:
    turns = [
        Turn(speaker="Others", start=0.0, text="so the figures for the third quarter look better than we expected"),
        Turn(speaker="You", start=0.7, text="sorry which figures", per_word=0.4),
        Turn(speaker="You", start=4.2, text="thanks"),
    ]
    snapshots = _feed(_layout(), turns)
    orders = [_order(rows) for rows in snapshots]
    both_live = [o for o in orders if o[:2] == ["t0", "t1"]]
    assert len(both_live) > 5  # they really overlapped, with several updates each
    for before, after in itertools.pairwise(orders):
        common = [i for i in before if i in after]
        assert [i for i in after if i in common] == common, f"a line jumped: {before} -> {after}"
    for rows in snapshots:  # each speaker's turn starts a row, led by the speaker's label
        for line_id, label in (("t0", "Others:"), ("t1", "You:")):
            starts = [row[0] for row in rows if any(w.line_id == line_id for w in row)][:1]
            assert not starts or (starts[0].kind, starts[0].text) == ("label", label)
    final = [row_text(r) for r in snapshots[-1]]
    assert final[0].startswith("Others: so the figures")
    assert any(r.startswith("You: sorry which figures") for r in final)
    assert final[-1].endswith("figures thanks")  # the same speaker goes on in the same turn


def test_committed_rows_never_move() -> None:
    turns = [
        Turn(speaker="A", start=0.0, text="one two three four five six seven"),
        Turn(speaker="B", start=1.0, text="alpha beta gamma"),
        Turn(speaker="C", start=3.0, text="red green blue yellow"),
    ]
    layout = _layout(width=24.0)
    snapshots = _feed(layout, turns)
    frozen: list[Row] = []
    for rows in snapshots:
        assert rows[: len(frozen)] == frozen
        frozen = [r for r in rows if all(w.kind in ("final", "label") for w in r)][:-1]  # the open row may grow
    labels = [w.text for rows in snapshots[-1:] for row in rows for w in row if w.kind == "label"]
    assert labels == ["A:", "B:", "C:"]


def test_one_speaker_lays_out_as_before() -> None:
    turns = [Turn(speaker="A", start=0.0, text="hello world"), Turn(speaker="A", start=1.0, text="again")]
    with_speaker = [[row_text(r) for r in rows] for rows in _feed(_layout(), turns)]
    unnamed = [Turn(speaker=None, start=t.start, text=t.text) for t in turns]
    without = [[row_text(r) for r in rows] for rows in _feed(_layout(), unnamed)]
    assert with_speaker == without
    assert with_speaker[-1] == ["hello world again"]


def test_a_long_live_line_holds_at_most_a_few_committed_lines_after_it() -> None:
    layout = _layout()
    layout.interim("long", "this goes on and on", speaker="A")
    for n in range(HOLD_LINES + 1):
        layout.commit(f"b{n}", f"short {n}", speaker="B")
    order = _order(layout.all_rows())
    assert order == ["b0", "long", "b1", "b2"]  # the earliest held line went above the live one


def test_a_revised_speaker_relabels_and_recolours_its_line() -> None:
    layout = _layout()
    layout.commit("1", "hello there", speaker="A")
    layout.commit("2", "hi", speaker="B")
    layout.commit("2", "hi", speaker="C")  # the engine's speaker revision
    rows = layout.all_rows()
    assert [row_text(r) for r in rows] == ["hello there", "C: hi"]
    assert {w.speaker for w in rows[1]} == {"C"}
