"""The overlay with several speakers, as a real widget offscreen: labels, colours, and one speaker unchanged."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from captioner.captions.transcript import Transcript
from captioner.settings import Appearance, OverlaySettings
from captioner.ui.overlay import CaptionOverlay
from captioner.ui.speaker_style import PALETTE
from tests.support.scripted_engine import Turn, conversation
from tests.ui.test_overlay import count_color, pixels


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@pytest.fixture
def overlay(qtbot: Any) -> Any:
    def make(appearance: Appearance | None = None) -> CaptionOverlay:
        a = appearance or Appearance(clear_after_s=0, lines=3, outline=False)
        ov = CaptionOverlay(a, OverlaySettings())
        qtbot.addWidget(ov)
        ov.set_status("listening", "Listening")
        ov.place()
        ov.show()
        qtbot.waitExposed(ov)
        return ov

    return make


def _play(ov: CaptionOverlay, turns: list[Turn]) -> None:
    transcript = Transcript()
    transcript.subscribe(ov.on_change)
    for ev in conversation(turns):
        transcript.apply(ev)


MEETING = [
    Turn(speaker="Others", start=0.0, text="shall we start with the budget"),
    Turn(speaker="You", start=1.0, text="yes please"),
]


def test_meeting_mode_labels_and_colours_each_speaker(overlay: Any) -> None:
    a = Appearance(clear_after_s=0, lines=3, outline=False)
    ov = overlay(a)
    _play(ov, MEETING)
    assert [text for text, _ in ov.visible_lines()] == ["Others: shall we start with the budget", "You: yes please"]
    img = pixels(ov)
    assert count_color(img, _rgb(a.you_color), tol=12) > 30
    assert count_color(img, _rgb(a.others_color), tol=12) > 30


def test_labels_follow_the_settings_and_the_data_keeps_the_ids(overlay: Any) -> None:
    ov = overlay()
    transcript = Transcript()
    transcript.subscribe(ov.on_change)
    for ev in conversation(MEETING):
        transcript.apply(ev)
    ov.apply_appearance(dataclasses.replace(ov.appearance, you_label="Me", others_label="Call"))
    assert [text for text, _ in ov.visible_lines()] == ["Call: shall we start with the budget", "Me: yes please"]
    assert {line.speaker for line in transcript.finals} == {"Others", "You"}
    ov.apply_appearance(dataclasses.replace(ov.appearance, speaker_style="color"))
    assert [text for text, _ in ov.visible_lines()] == ["shall we start with the budget", "yes please"]


def test_diarised_speakers_take_palette_colours(overlay: Any) -> None:
    ov = overlay()
    _play(
        ov,
        [
            Turn(speaker="A", start=0.0, text="first"),
            Turn(speaker="B", start=1.0, text="second"),
            Turn(speaker="C", start=2.0, text="third"),
            Turn(speaker="A", start=3.0, text="back to me"),
        ],
    )
    # The first line came before a second speaker: it keeps its look (committed lines never move).
    assert [text for text, _ in ov.visible_lines()] == ["B: second", "C: third", "A: back to me"]
    img = pixels(ov)
    for color in PALETTE[:3]:
        assert count_color(img, _rgb(color), tol=12) > 20, color


def test_one_speaker_looks_as_before(overlay: Any) -> None:
    a = Appearance(clear_after_s=0, lines=3, outline=False)
    ov = overlay(a)
    _play(ov, [Turn(speaker="A", start=0.0, text="only me here"), Turn(speaker="A", start=2.0, text="still me")])
    assert [text for text, _ in ov.visible_lines()] == ["only me here still me"]
    img = pixels(ov)
    assert count_color(img, _rgb(PALETTE[0]), tol=12) == 0
    assert count_color(img, (255, 255, 255), tol=12) > 30


def test_speaker_style_off_shows_no_speakers(overlay: Any) -> None:
    ov = overlay(Appearance(clear_after_s=0, lines=3, outline=False, speaker_style="off"))
    _play(ov, MEETING)
    assert [text for text, _ in ov.visible_lines()] == ["shall we start with the budget yes please"]
