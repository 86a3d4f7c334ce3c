"""What a person sees: the overlay over another window on a real X server (Xvfb) with a compositor (xcompmgr).

The X11 part runs in a subprocess (``QT_QPA_PLATFORM=xcb``) so it does not fight the offscreen platform of the
other UI tests. The child shows a bright patterned window, then the caption overlay above it, grabs the
composited screen, saves ``test-artifacts/overlay-over-window.png`` and reports geometry and focus as JSON.
The test checks the pixels: caption text is there, and the window below shows through the overlay's background.

``python -m tests.ui.test_screenshot --docs DIR`` (with an X server in ``DISPLAY``) writes the README screenshots.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
BG = (255, 0, 255)  # the window below: magenta, easy to find through a translucent overlay
BG_HEX = "#ff00ff"

pytestmark = pytest.mark.xvfb


@pytest.fixture(scope="module")
def xserver() -> Iterator[str]:
    if not shutil.which("Xvfb") or not shutil.which("xcompmgr"):
        pytest.fail("Xvfb and xcompmgr are needed (scripts/setup --dev installs them)")
    rfd, wfd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1280x720x24", "-nolisten", "tcp", "+extension", "Composite"],
        pass_fds=(wfd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(wfd)
    with os.fdopen(rfd) as f:
        number = f.readline().strip()  # written once the server accepts connections
    display = f":{number}"
    comp = subprocess.Popen(["xcompmgr", "-d", display], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield display
    finally:
        for p in (comp, xvfb):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def test_overlay_over_a_window_is_translucent_with_readable_text(xserver: str, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    png = ARTIFACTS / "overlay-over-window.png"
    env = dict(os.environ, DISPLAY=xserver, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(REPO))
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ui.test_screenshot", "--shot", str(png)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["focus_kept"], "showing the overlay took the focus from the window below"

    import numpy as np
    from PySide6.QtGui import QImage

    img = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, : img.width() * 3]
    arr = arr.reshape(img.height(), img.width(), 3).astype(int)
    x, y, w, h = report["overlay"]
    inside = arr[y + 4 : y + h - 4, x + 12 : x + w - 12]
    outside = arr[: max(1, y - 20), :]
    assert (np.abs(outside - BG).max(axis=2) < 10).mean() > 0.95  # the window below, untouched
    # Text: bright white pixels inside the overlay.
    white = (inside.min(axis=2) > 225).sum()
    assert white > 300, f"only {white} white text pixels"
    # Translucency: most background pixels are the magenta below, darkened by the 60 % black background.
    r, g, b = inside[..., 0], inside[..., 1], inside[..., 2]
    see_through = (np.abs(r - b) < 12) & (g < 30) & (r > 70) & (r < 140)
    assert see_through.mean() > 0.5, f"only {see_through.mean():.0%} of the overlay shows the window below"


# -- the child process (runs under xcb) --------------------------------------------------------------------------


def _wait(app: Any, cond: Any, timeout: float) -> bool:
    from PySide6.QtCore import QDeadlineTimer, QEventLoop

    deadline = QDeadlineTimer(int(timeout * 1000))
    while not cond():
        if deadline.hasExpired():
            return False
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    return True


def _background(app: Any, scene: str) -> Any:
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter
    from PySide6.QtWidgets import QWidget

    class Background(QWidget):
        def paintEvent(self, event: Any) -> None:
            p = QPainter(self)
            if scene == "plain":
                p.fillRect(self.rect(), QColor(BG_HEX))
                return
            grad = QLinearGradient(0, 0, 0, self.height())
            grad.setColorAt(0, QColor("#2b5876"))
            grad.setColorAt(1, QColor("#4e4376"))
            p.fillRect(self.rect(), grad)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            tiles = [("#6d8ab5", "Ana"), ("#b58b6d", "Ben"), ("#7db56d", "Chloé"), ("#b56d9f", "Dev")]
            tw, th = (self.width() - 120) // 2, (self.height() - 160) // 2
            for i, (color, name) in enumerate(tiles):
                r = QRect(40 + (i % 2) * (tw + 40), 40 + (i // 2) * (th + 40), tw, th)
                p.setBrush(QColor(color))
                p.setPen(Qt.PenStyle.NoPen)
                p.drawRoundedRect(r, 14, 14)
                p.setBrush(QColor(255, 255, 255, 90))
                p.drawEllipse(r.center(), 60, 60)
                p.setPen(QColor("white"))
                f = QFont("Sans Serif")
                f.setPixelSize(20)
                p.setFont(f)
                p.drawText(r.adjusted(16, 0, 0, -12), Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignLeft, name)

    w = Background()
    w.setWindowTitle("Another window")
    screen = app.primaryScreen().geometry()
    w.setGeometry(screen)
    return w


def child(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    from captioner.captions.transcript import Change, Line
    from captioner.settings import Appearance, OverlaySettings
    from captioner.ui.overlay import CaptionOverlay

    mode, out = argv[0], Path(argv[1])
    bg = _background(app, "plain" if mode == "--shot" else "meeting")
    bg.show()
    _wait(app, lambda: bg.windowHandle() is not None and bg.windowHandle().isExposed(), 10)
    bg.activateWindow()
    _wait(app, lambda: QApplication.activeWindow() is bg, 5)

    def overlay(appearance: Appearance) -> CaptionOverlay:
        ov = CaptionOverlay(appearance, OverlaySettings(position="bottom"))
        ov.place()
        ov.set_status("listening", "Listening · Local (offline)")
        ov.set_level(-18)
        ov.on_change(
            Change(
                kind="commit",
                line=Line(
                    line_id="1", text="It was the best of times, it was the worst of times,", final=True, engine="local"
                ),
            )
        )
        ov.on_change(
            Change(
                kind="interim",
                line=Line(
                    line_id="2",
                    text="it was the age of wisdom, it was the age of",
                    final=False,
                    engine="local",
                    tail="age of",
                ),
            )
        )
        ov.show()
        _wait(app, lambda: ov.windowHandle() is not None and ov.windowHandle().isExposed(), 10)
        return ov

    def grab() -> Any:
        return app.primaryScreen().grabWindow(0)

    if mode == "--shot":
        ov = overlay(Appearance(lines=2, clear_after_s=0))
        g = ov.geometry()

        def composited() -> bool:
            # xcompmgr paints asynchronously: wait until the overlay's background shows the window below.
            img = grab().toImage()
            c = img.pixelColor(g.x() + 6, g.y() + g.height() // 2)
            return c.green() < 30 and 70 < c.red() < 140 and abs(c.red() - c.blue()) < 12

        _wait(app, composited, 15)
        shots = [grab().toImage()]

        def settled() -> bool:  # two grabs in a row agree: the compositor has finished painting
            shots.append(grab().toImage())
            return shots[-1] == shots[-2]

        _wait(app, settled, 5)
        shots[-1].save(str(out))
        focus_kept = QApplication.activeWindow() is bg
        print(json.dumps({"overlay": [g.x(), g.y(), g.width(), g.height()], "focus_kept": focus_kept}))
        return 0

    # --docs DIR: README screenshots.
    out.mkdir(parents=True, exist_ok=True)
    ov = overlay(Appearance(lines=2, clear_after_s=0))
    _wait(app, lambda: False, 1.5)  # let the compositor paint (docs screenshots only, not a test)
    grab().save(str(out / "overlay.png"))
    ov.close()
    ov = overlay(Appearance(lines=3, clear_after_s=0, high_contrast=True, font_size=32))
    _wait(app, lambda: False, 1.5)
    grab().save(str(out / "overlay-high-contrast.png"))
    ov.close()
    return 0


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
