"""The meeting-mode screenshots of the docs, on a real X display (Xvfb + openbox + xcompmgr), with real capture.

``python -m tests.support.meeting_screenshots OUT`` (``DISPLAY`` set, ``QT_QPA_PLATFORM=xcb``) writes into ``OUT``:

* ``settings-audio-meeting.png``: the Audio page with "Microphone and system audio" chosen for a cloud engine (the
  note on two connections), its level test running with the two bars;
* ``menu-meeting.png``: the overlay's context menu (the tray menu) with the three source choices;
* ``app-meeting.png``: the app captioning in meeting mode with the default engine, "you" reading into the stand-in
  microphone and "the others" playing through the speakers of the PulseAudio test daemon (``tests/meeting``);

Each is grabbed from the composited screen with ImageMagick's ``import -window root``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.audio.pulse import PulseServer, started_pulse_server
from tests.meeting.conftest import MIC_SOURCE
from tests.support.speech import speech_wav


def grab(path: Path, box: Any = None, margin: int = 12) -> Path:
    """The screen (or ``box``, a QRect of it, with ``margin``) saved to ``path`` by ``import -window root``."""
    args = ["import", "-window", "root"]
    if box is not None:
        x, y = max(0, box.x() - margin), max(0, box.y() - margin)
        args += ["-crop", f"{box.width() + 2 * margin}x{box.height() + 2 * margin}+{x}+{y}", "+repage"]
    subprocess.run([*args, str(path)], check=True, timeout=30)
    return path


def meeting_daemon(server: PulseServer) -> None:
    """The daemon as in ``tests/meeting/conftest.py``: a stand-in microphone fed by the second sink."""
    server.pactl(
        "load-module",
        "module-remap-source",
        f"master={server.other_sink}.monitor",
        f"source_name={MIC_SOURCE}",
        "source_properties=device.description=Headset-microphone",
    )
    server.pactl("set-default-source", MIC_SOURCE)


async def shots(qapp: Any, out: Path, server: PulseServer) -> list[Path]:
    from PySide6.QtCore import QPoint

    from captioner.settings import Appearance, OverlaySettings, Settings
    from captioner.ui.desktop import DesktopApp
    from captioner.ui.settings.dialog import SettingsDialog
    from tests.support.screenshots import scene_window, show_focused

    written: list[Path] = []
    call = scene_window(qapp, "meeting")  # the video call the captions are over
    show_focused(qapp, call)
    settings = Settings(
        source="both",
        appearance=Appearance(lines=3, clear_after_s=0),
        overlay=OverlaySettings(position="bottom"),
        autostart_captions=False,
    )
    app = DesktopApp(settings, persist=False)
    app.start()
    await asyncio.sleep(1.0)

    dialog = SettingsDialog(settings.with_changes(engine="assemblyai"))  # a cloud engine: the note on usage
    dialog.tabs.setCurrentWidget(dialog.audio_page)
    dialog.move(120, 80)
    dialog.show()
    you = server.play(speech_wav("beckett.wav"), sink=server.other_sink)
    others = server.play(speech_wav("two_cities.wav"))
    dialog.audio_page.test_button.setChecked(True)
    await asyncio.sleep(3.2)
    written.append(grab(out / "settings-audio-meeting.png", dialog.frameGeometry()))
    dialog.close()
    for player in (you, others):
        player.kill()
        player.wait(10)

    menu = app.tray.menu
    where = app.overlay.geometry().center()
    menu.popup(QPoint(where.x() - 160, where.y() - 420))
    await asyncio.sleep(1.0)
    written.append(grab(out / "menu-meeting.png", menu.geometry()))
    menu.close()

    app.controller.start()
    others = server.play(speech_wav("two_cities.wav"))
    await asyncio.sleep(6.0)
    you = server.play(speech_wav("beckett.wav"), sink=server.other_sink)
    await asyncio.sleep(9.0)
    written.append(grab(out / "app-meeting.png"))
    for player in (you, others):
        player.kill()
        player.wait(10)
    await app.shutdown()
    call.close()
    return written


def main(argv: list[str]) -> int:
    import qasync
    from PySide6.QtWidgets import QApplication

    out = Path(argv[0] if argv else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    qapp = QApplication(["captioner-screenshots"])
    with started_pulse_server() as server:
        meeting_daemon(server)
        os.environ.update({k: v for k, v in server.env().items() if k.startswith("PULSE_")})
        for var in ("PULSE_SOURCE", "PULSE_SINK"):
            os.environ.pop(var, None)
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
            for path in runner.run(shots(qapp, out, server)):
                print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
