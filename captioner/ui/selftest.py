"""``captioner --self-test``: prove that an installed Captioner works, end to end, without a microphone.

It starts Qt (offscreen, unless ``CAPTIONER_SELF_TEST_DISPLAY=1`` asks for the
real display), opens the caption overlay, runs the local engine on the bundled
speech sample (``resources/samples/beckett.wav``) through a real
:class:`~captioner.session.session.Session` and :class:`~captioner.captions.transcript.Transcript`
on the qasync event loop the desktop app uses, checks that the overlay received
the captions, prints them and exits 0. Any failure is one clear line on
``err`` and a non-zero exit status (1).

It works the same from a source checkout and from the PyInstaller bundle; the
installers' smoke tests run it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from typing import Any, TextIO

from captioner.exit_codes import EXIT_ERROR as EXIT_FAILED
from captioner.exit_codes import EXIT_OK
from captioner.resources import resource_path

log = logging.getLogger(__name__)

SAMPLE = ("samples", "beckett.wav")
TIMEOUT_S = 120.0


class SelfTestError(Exception):
    """A self-test step failed; the message says which and why."""


def _start_qt() -> Any:
    if os.environ.get("CAPTIONER_SELF_TEST_DISPLAY") != "1":
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        raise SelfTestError(f"Qt (PySide6) cannot be loaded: {exc}") from None
    from PySide6.QtCore import qInstallMessageHandler

    # Qt's own chatter (e.g. "This plugin does not support raise()" offscreen) goes to the log, not the user.
    qInstallMessageHandler(lambda _mode, _context, message: log.debug("Qt: %s", message))
    app = QApplication.instance()
    if app is None:
        # QApplication aborts the process (not an exception) when the platform plugin is missing,
        # so check for it first and say so.
        _check_platform_plugin()
        app = QApplication([sys.argv[0] if sys.argv else "captioner"])
    return app


def _check_platform_plugin() -> None:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not platform:
        return
    from PySide6.QtCore import QLibraryInfo

    plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
    folder = os.path.join(plugins, "platforms")
    name = platform.split(":", 1)[0]
    if os.path.isdir(folder) and not any(f"q{name}" in f for f in os.listdir(folder)):
        raise SelfTestError(f"Qt cannot start: the {name!r} platform plugin is missing from {folder}")


def _overlay_text(overlay: Any) -> str:
    """The text the overlay shows now (from the overlay's own accessor if it has one, else its labels)."""
    for attr in ("shown_text", "visible_text", "text"):
        fn = getattr(overlay, attr, None)
        if callable(fn):
            value = fn()
            if isinstance(value, str):
                return value
            if isinstance(value, list | tuple):
                return " ".join(str(v) for v in value)
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in overlay.findChildren(QLabel) if label.text())


async def _caption() -> tuple[list[str], str, str]:
    from captioner.captions.transcript import Change, Transcript
    from captioner.engines.base import EngineFailure
    from captioner.engines.registry import DEFAULT_ENGINE as ENGINE
    from captioner.session.build import SessionRequest, SetupError, prepare
    from captioner.session.session import RetryPolicy
    from captioner.settings import Appearance, OverlaySettings

    sample = resource_path(*SAMPLE)
    if not sample.is_file():
        raise SelfTestError(f"the speech sample is missing: {sample}")

    request = SessionRequest(engine=ENGINE, source=str(sample), realtime=False, retry=RetryPolicy(max_attempts=0))
    try:
        plan = prepare(request, audience="cli")
        source = plan.open_source()
    except SetupError as exc:
        raise SelfTestError(f"the {ENGINE} engine cannot caption the sample: {exc.message}") from None

    try:
        from captioner.ui.overlay import CaptionOverlay
    except ImportError as exc:
        raise SelfTestError(f"the caption overlay cannot be loaded: {exc}") from None
    # Clearing after idle would hide the captions before we read them back.
    appearance = Appearance(clear_after_s=0.0)
    overlay = CaptionOverlay(appearance, OverlaySettings())
    overlay.show()

    transcript = Transcript()
    shown: list[str] = []

    def on_change(change: Change) -> None:
        overlay.on_change(change)
        if change.kind in ("commit", "revise"):
            # What the overlay holds now (no processEvents() here: we are inside a task of the
            # qasync loop, which must not be re-entered).
            shown.append(_overlay_text(overlay))

    transcript.subscribe(on_change)
    session = plan.session(source, transcript=transcript)
    try:
        await asyncio.wait_for(session.run(), TIMEOUT_S)
    except TimeoutError:
        raise SelfTestError(f"the {ENGINE} engine did not finish a 10 s sample within {TIMEOUT_S:.0f} s") from None
    except EngineFailure as exc:
        raise SelfTestError(f"the {ENGINE} engine failed: {exc.message}") from None
    lines = [line.text for line in transcript.finals]
    engines = sorted({line.engine for line in transcript.finals})
    final_overlay = " ".join(s for s in shown if s)
    if final_overlay.strip() and not _painted_text(overlay, appearance.text_color):
        raise SelfTestError("the overlay did not draw the captions")
    overlay.close()
    return lines, final_overlay, ", ".join(engines)


def _painted_text(overlay: Any, color: str) -> bool:
    """Render the overlay (its real paintEvent) and look for pixels in the caption colour."""
    from PySide6.QtGui import QColor

    image = overlay.grab().toImage()
    target = QColor(color)
    step = max(1, min(image.width(), image.height()) // 200)
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            c = image.pixelColor(x, y)
            if abs(c.red() - target.red()) + abs(c.green() - target.green()) + abs(c.blue() - target.blue()) < 30:
                return True
    return False


def run_self_test(out: TextIO, err: TextIO) -> int:
    """Run the self-test; print the captions to ``out``; return the exit status (0 = it works)."""
    started = time.monotonic()
    try:
        app = _start_qt()
        try:
            import qasync
        except ImportError as exc:
            raise SelfTestError(f"qasync (the Qt event loop for asyncio) cannot be loaded: {exc}") from None
        loop = qasync.QEventLoop(app)
        try:
            lines, overlay_text, engines = loop.run_until_complete(_caption())
        finally:
            loop.close()
        text = " ".join(t.strip() for t in lines if t.strip())
        if not text:
            raise SelfTestError("the local engine produced no caption from the speech sample")
        if not overlay_text.strip():
            raise SelfTestError("the captions did not reach the overlay")
    except SelfTestError as exc:
        err.write(f"captioner self-test: FAILED: {exc}\n")
        return EXIT_FAILED
    for line in lines:
        if line.strip():
            out.write(line.strip() + "\n")
    out.flush()
    took = time.monotonic() - started
    err.write(f"captioner self-test: OK ({len(lines)} caption line(s) by {engines} in {took:.1f} s)\n")
    return EXIT_OK
