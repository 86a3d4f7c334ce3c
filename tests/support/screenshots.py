"""Scenes for screenshots on a real X display: windows to put the overlay over, a captioning overlay, the grabs.

Used by ``tests/ui/test_screenshot.py`` (its child process runs under xcb): :func:`scene_window` paints a
stand-in for another application — a plain colour, a video call, a busy white page of text, a dark code
editor — :func:`captioning_overlay` shows the overlay with a committed and an interim line, and
:func:`docs_screenshots` writes the screenshots of ``docs/screenshots/``. Run it on a display with a window
manager and a compositor (Xvfb + openbox + xcompmgr): ``python -m tests.ui.test_screenshot --docs DIR``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FINAL = "It was the best of times, it was the worst of times, it was the age of wisdom,"
INTERIM = "it was the age of foolishness, it was the epoch of belief"
TAIL = "of belief"
STATUS = "Listening · Local (offline)"
PAGE = (
    "SHELL GRAMMAR  This section describes the syntax of the various forms of shell commands. A simple "
    "command is a sequence of optional variable assignments followed by blank-separated words and "
    "redirections, and terminated by a control operator. The first word specifies the command to be "
    "executed, and is passed as argument zero. The return value of a simple command is its exit status. "
)
CODE = (
    ("#c586c0", "async def"),
    ("#dcdcaa", " run(self, source: AudioSource) -> None:"),
    ("#6a9955", "    # read the audio, send it, read the captions back"),
    ("#9cdcfe", "    async for chunk in source.chunks():"),
    ("#ce9178", '        log.debug("sent %d bytes", len(chunk.data))'),
)


def wait(app: Any, cond: Any, timeout: float) -> bool:
    """Process Qt events until ``cond()`` or ``timeout`` seconds."""
    from PySide6.QtCore import QDeadlineTimer, QEventLoop

    deadline = QDeadlineTimer(int(timeout * 1000))
    while not cond():
        if deadline.hasExpired():
            return False
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    return True


def _paint_meeting(p: Any, w: int, h: int) -> None:
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QLinearGradient, QPainter

    grad = QLinearGradient(0, 0, 0, h)
    grad.setColorAt(0, QColor("#2b5876"))
    grad.setColorAt(1, QColor("#4e4376"))
    p.fillRect(0, 0, w, h, grad)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    tiles = [("#6d8ab5", "Ana"), ("#b58b6d", "Ben"), ("#7db56d", "Chloé"), ("#b56d9f", "Dev")]
    tw, th = (w - 120) // 2, (h - 160) // 2
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


def _paint_text(p: Any, w: int, h: int, *, dark: bool) -> None:
    from PySide6.QtGui import QColor, QFont, QFontMetrics

    p.fillRect(0, 0, w, h, QColor("#1e1e1e" if dark else "#ffffff"))
    f = QFont("Monospace")
    f.setStyleHint(QFont.StyleHint.TypeWriter)
    f.setPixelSize(17)
    p.setFont(f)
    fm = QFontMetrics(f)
    y, i = fm.ascent() + 8, 0
    cols = max(20, (w - 20) // max(1, fm.horizontalAdvance("m")))
    while y < h:
        if dark:
            color, text = CODE[i % len(CODE)]
        else:
            color, start = "#000000", (i * 37) % len(PAGE)
            text = (PAGE * 3)[start : start + cols]
        p.setPen(QColor(color))
        p.drawText(10, y, text)
        y += fm.lineSpacing()
        i += 1


def scene_window(app: Any, scene: str, color: str = "#ff00ff") -> Any:
    """A full-screen window showing ``scene``: "plain" (``color``), "meeting", "white" or "dark"."""
    from PySide6.QtGui import QColor, QPainter
    from PySide6.QtWidgets import QWidget

    class Scene(QWidget):
        def paintEvent(self, event: Any) -> None:
            p = QPainter(self)
            if scene == "plain":
                p.fillRect(self.rect(), QColor(color))
            elif scene == "meeting":
                _paint_meeting(p, self.width(), self.height())
            else:
                _paint_text(p, self.width(), self.height(), dark=scene == "dark")

    w = Scene()
    w.setWindowTitle("Another window")
    w.setGeometry(app.primaryScreen().geometry())
    return w


def show_focused(app: Any, window: Any) -> None:
    from PySide6.QtWidgets import QApplication

    window.show()
    wait(app, lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), 10)
    window.activateWindow()
    wait(app, lambda: QApplication.activeWindow() is window, 5)


def captioning_overlay(app: Any, appearance: Any, *, final: str = FINAL, interim: str = INTERIM) -> Any:
    """The overlay at the bottom of the screen, listening, with a committed line and one still being spoken."""
    from captioner.captions.transcript import Change, Line
    from captioner.settings import OverlaySettings
    from captioner.ui.overlay import CaptionOverlay

    ov = CaptionOverlay(appearance, OverlaySettings(position="bottom"))
    ov.set_status("listening", STATUS)
    ov.set_level(-18)
    ov.place()
    ov.on_change(Change(kind="commit", line=Line(line_id="1", text=final, final=True, engine="local")))
    tail = TAIL if interim.endswith(TAIL) else ""
    ov.on_change(Change(kind="interim", line=Line(line_id="2", text=interim, final=False, engine="local", tail=tail)))
    ov.show()
    wait(app, lambda: ov.windowHandle() is not None and ov.windowHandle().isExposed(), 10)
    return ov


def settled_grab(app: Any) -> Any:
    """The composited screen once two grabs in a row agree (the compositor has finished painting)."""
    shots = [app.primaryScreen().grabWindow(0).toImage()]

    def settled() -> bool:
        wait(app, lambda: False, 0.3)
        shots.append(app.primaryScreen().grabWindow(0).toImage())
        return shots[-1] == shots[-2]

    wait(app, settled, 6)
    return shots[-1]


def _save_around(app: Any, ov: Any, path: Path) -> None:
    """The bottom of the screen around the overlay (what a person looks at), saved to ``path``."""
    from PySide6.QtCore import QRect

    img = settled_grab(app)
    g = ov.geometry()
    screen = app.primaryScreen().geometry()
    box = QRect(g.x() - 90, g.y() - 110, g.width() + 180, screen.bottom() - g.y() + 111).intersected(screen)
    img.copy(box).save(str(path))


def docs_screenshots(app: Any, out: Path) -> list[Path]:
    """Write the overlay and settings screenshots of the docs into ``out``; return their paths."""
    from captioner.settings import Appearance, Settings
    from captioner.ui.settings.dialog import SettingsDialog

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    contrast = Appearance(lines=3, clear_after_s=0, high_contrast=True, font_size=32)
    for scene, name in (("meeting", "overlay"), ("white", "overlay-over-white"), ("dark", "overlay-over-dark")):
        bg = scene_window(app, scene)
        show_focused(app, bg)
        for appearance, suffix in ((Appearance(lines=2, clear_after_s=0), ""), (contrast, "-high-contrast")):
            ov = captioning_overlay(app, appearance)
            path = out / f"{name}{suffix}.png"
            if scene == "meeting":
                settled_grab(app).save(str(path))
            else:
                _save_around(app, ov, path)
            written.append(path)
            ov.close()
        if scene == "white":
            ov = captioning_overlay(app, Appearance(lines=2, clear_after_s=0))
            ov.clear_captions()
            ov.set_level(-120.0)  # not captioning: no level
            ov.set_status("stopped", "Stopped")
            written.append(out / "overlay-idle.png")
            _save_around(app, ov, written[-1])
            ov.set_status(
                "error",
                "AssemblyAI needs an API key: enter it in Settings → Engine (it is kept in the system keyring), "
                "or set ASSEMBLYAI_API_KEY in the environment, then start captions again from the tray menu.",
            )
            written.append(out / "overlay-error.png")
            _save_around(app, ov, written[-1])
            ov.close()
        bg.close()
    from captioner.ui.hotkey import GlobalShortcut

    dialog = SettingsDialog(Settings())
    shortcut = GlobalShortcut.for_platform()  # what the app says about its shortcut on this display
    dialog.overlay_page.set_shortcut_status(shortcut.set_sequence(Settings().overlay.click_through_shortcut))
    for page, name in ((dialog.appearance_page, "settings-appearance"), (dialog.overlay_page, "settings-overlay")):
        dialog.tabs.setCurrentWidget(page)
        dialog.show()
        wait(app, lambda: dialog.windowHandle() is not None and dialog.windowHandle().isExposed(), 10)
        wait(app, lambda: False, 0.5)
        written.append(out / f"{name}.png")
        dialog.grab().save(str(written[-1]))
    dialog.close()
    shortcut.close()
    return written
