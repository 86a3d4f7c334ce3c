"""What a person sees: the overlay over another window on a real X server (Xvfb) with a compositor (xcompmgr).

The X11 part runs in a subprocess (``QT_QPA_PLATFORM=xcb``) so it does not fight the offscreen platform of the
other UI tests. The child shows a bright patterned window, then the caption overlay above it, grabs the
composited screen, saves ``test-artifacts/overlay-over-window.png`` and reports geometry and focus as JSON.
The test checks the pixels: caption text is there, and the window below shows through the overlay's background.

``python -m tests.ui.test_screenshot --docs DIR`` (with an X server, a window manager and a compositor in
``DISPLAY``) writes the screenshots of the docs (:mod:`tests.support.screenshots`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.xdisplay import start_xvfb, stop

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
BG = (255, 0, 255)  # the window below: magenta, easy to find through a translucent overlay
BG_HEX = "#ff00ff"

pytestmark = pytest.mark.xvfb


def see_through_red() -> tuple[float, float]:
    """The red of the magenta window seen through the default background (a range, for antialiasing)."""
    from captioner.settings import Appearance

    red = 255 * (1 - Appearance().background_opacity)
    return max(4.0, red - 25), red + 25


@pytest.fixture(scope="module")
def xserver() -> Iterator[str]:
    """Xvfb and the compositor, no window manager (the window below covers the whole screen)."""
    if not shutil.which("Xvfb") or not shutil.which("xcompmgr"):
        pytest.fail("Xvfb and xcompmgr are needed (scripts/setup --dev installs them)")
    xvfb, display = start_xvfb(1280, 720)
    comp = subprocess.Popen(["xcompmgr", "-d", display], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield display
    finally:
        stop(comp)
        stop(xvfb)


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
    # Translucency: most background pixels are the magenta below, darkened by the default black background.
    r, g, b = inside[..., 0], inside[..., 1], inside[..., 2]
    lo, hi = see_through_red()
    see_through = (np.abs(r - b) < 12) & (g < 30) & (r > lo) & (r < hi)
    assert see_through.mean() > 0.5, f"only {see_through.mean():.0%} of the overlay shows the window below"


# -- the child process (runs under xcb) --------------------------------------------------------------------------


def child(argv: list[str]) -> int:
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    from captioner.settings import Appearance
    from tests.support.screenshots import captioning_overlay, scene_window, settled_grab, show_focused, wait

    mode, out = argv[0], Path(argv[1])
    if mode == "--docs":  # the screenshots of the docs
        from tests.support.screenshots import docs_screenshots

        for path in docs_screenshots(app, out):
            print(path)
        return 0

    bg = scene_window(app, "plain", BG_HEX)
    show_focused(app, bg)
    ov = captioning_overlay(
        app,
        Appearance(lines=2, clear_after_s=0),
        final="It was the best of times, it was the worst of times,",
        interim="it was the age of wisdom, it was the age of",
    )
    g = ov.geometry()

    def composited() -> bool:
        # xcompmgr paints asynchronously: wait until the overlay's background shows the window below.
        c = app.primaryScreen().grabWindow(0).toImage().pixelColor(g.x() + 6, g.y() + g.height() // 2)
        lo, hi = see_through_red()
        return c.green() < 30 and lo < c.red() < hi and abs(c.red() - c.blue()) < 12

    wait(app, composited, 15)
    settled_grab(app).save(str(out))
    focus_kept = QApplication.activeWindow() is bg
    print(json.dumps({"overlay": [g.x(), g.y(), g.width(), g.height()], "focus_kept": focus_kept}))
    return 0


if __name__ == "__main__":
    sys.exit(child(sys.argv[1:]))
