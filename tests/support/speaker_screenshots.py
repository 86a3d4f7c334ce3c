"""Screenshots of speakers in the overlay and the transcript window, for the docs.

Run on a display with a window manager and a compositor (Xvfb + openbox + xcompmgr):
``python -m tests.support.speaker_screenshots DIR``. The overlay shows a meeting ("You" and "Others", over a
white page and a dark editor, and in the high-contrast theme) and three diarised speakers over a video call,
each fed a scripted conversation through a real transcript and stopped while someone is still speaking;
the transcript window shows speakers and a language tag; the Appearance page shows the speaker settings.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.support.scripted_engine import Turn, conversation

MEETING = [
    Turn(speaker="Others", start=0.0, text="Let's go through the budget first, then the hiring plan."),
    Turn(speaker="You", start=3.2, text="Sounds good."),
    Turn(
        speaker="Others", start=4.4, text="The third quarter came in about ten percent over the forecast", per_word=0.35
    ),
    Turn(speaker="You", start=6.0, text="Is that travel again?", per_word=0.4),
]
DIARISED = [
    Turn(speaker="A", start=0.0, text="Welcome everyone, thanks for joining."),
    Turn(speaker="B", start=2.0, text="Happy to be here."),
    Turn(speaker="C", start=3.0, text="Could you share the slides?"),
    Turn(speaker="A", start=4.4, text="Sure, one moment while I find the right window", per_word=0.4),
    Turn(speaker="B", start=5.6, text="We can see your desktop now", per_word=0.4),
]
TRANSCRIPT = [
    Turn(speaker="Others", start=0.0, text="Good morning, let's start with the budget."),
    Turn(speaker="You", start=4.0, text="Sounds good, I have the numbers here."),
    Turn(speaker="Others", start=9.0, text="Bonjour à tous, désolée pour le retard.", language="fr"),
    Turn(speaker="Others", start=13.0, text="Sorry, I was saying hello to the Paris team.", language="en"),
    Turn(speaker="You", start=18.0, text="No problem. The third quarter was ten percent over."),
    Turn(speaker="Others", start=23.0, text="Mostly travel, I think.", language="en"),
]


def _feed(target: Any, turns: list[Turn], *, stop_before: float | None = None) -> Any:
    """A real transcript fed the conversation (up to ``stop_before`` seconds), ``target.on_change`` subscribed."""
    from captioner.captions.transcript import Transcript

    transcript = Transcript()
    transcript.subscribe(target.on_change)
    for ev in conversation(turns):
        if stop_before is None or ev.end is None or ev.end < stop_before:
            transcript.apply(ev)
    return transcript


def _overlay(app: Any, appearance: Any, turns: list[Turn], stop_before: float, status: str) -> tuple[Any, Any]:
    """The overlay at the bottom of the screen fed ``turns`` up to ``stop_before``, and its transcript."""
    from captioner.settings import OverlaySettings
    from captioner.ui.overlay import CaptionOverlay
    from tests.support.screenshots import wait

    ov = CaptionOverlay(appearance, OverlaySettings(position="bottom"))
    ov.set_status("listening", status)
    ov.set_level(-18)
    ov.place()
    transcript = _feed(ov, turns, stop_before=stop_before)
    ov.show()
    wait(app, lambda: ov.windowHandle() is not None and ov.windowHandle().isExposed(), 10)
    return ov, transcript


def speaker_screenshots(app: Any, out: Path) -> list[Path]:
    """Write the speaker screenshots into ``out``; return their paths."""
    from captioner.settings import Appearance, Settings
    from captioner.ui.settings.dialog import SettingsDialog
    from captioner.ui.transcript_window import TranscriptWindow
    from tests.support.screenshots import _save_around, scene_window, show_focused

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    plain = Appearance(lines=3, clear_after_s=0)
    contrast = Appearance(lines=3, clear_after_s=0, high_contrast=True, font_size=32)
    shots = (
        ("white", plain, MEETING, 8.1, "overlay-speakers-over-white"),
        ("dark", plain, MEETING, 8.1, "overlay-speakers-over-dark"),
        ("white", contrast, MEETING, 8.1, "overlay-speakers-high-contrast"),
        ("meeting", plain, DIARISED, 7.6, "overlay-speakers-diarised"),
    )
    for scene, appearance, turns, stop, name in shots:
        bg = scene_window(app, scene)
        show_focused(app, bg)
        status = (
            "Listening · System audio · AssemblyAI" if turns is DIARISED else "Listening · Microphone and system audio"
        )
        ov, _transcript = _overlay(app, appearance, turns, stop, status)
        written.append(out / f"{name}.png")
        _save_around(app, ov, written[-1])
        ov.close()
        bg.close()

    window = TranscriptWindow(_feed_lines(TRANSCRIPT), appearance=plain)
    window.resize(820, 360)
    written.append(_grab_window(app, window, out / "transcript-speakers.png"))
    dialog = SettingsDialog(Settings())
    dialog.tabs.setCurrentWidget(dialog.appearance_page)
    written.append(_grab_window(app, dialog, out / "settings-appearance.png"))
    return written


def _grab_window(app: Any, window: Any, path: Path) -> Path:
    """Show ``window``, let it paint, save its grab to ``path`` and close it."""
    from tests.support.screenshots import wait

    window.show()
    wait(app, lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), 10)
    wait(app, lambda: False, 0.5)
    window.grab().save(str(path))
    window.close()
    return path


def _feed_lines(turns: list[Turn]) -> Any:
    from captioner.captions.transcript import Transcript

    transcript = Transcript()
    for ev in conversation(turns):
        transcript.apply(ev)
    return transcript


def main(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    for path in speaker_screenshots(app, Path(argv[0])):
        print(path)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
