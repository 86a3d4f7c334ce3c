"""The desktop app's entry point: ``captioner`` with no command (or ``python -m captioner.app``) calls :func:`main`.

:func:`main` parses the arguments, reads the settings, checks that there is a display, creates the
QApplication and the qasync loop, and runs :class:`captioner.ui.desktop.DesktopApp` until Quit; a second
launch hands over to the running app (:mod:`captioner.ui.lifecycle`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from captioner import __version__
from captioner import settings as settings_store
from captioner.exit_codes import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from captioner.ui.lifecycle import SingleInstance


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="captioner", description="Captioner desktop app: live captions in an overlay.")
    p.add_argument("--version", action="version", version=f"captioner {__version__}")
    p.add_argument("--minimized", action="store_true", help="start in the tray, captions hidden")
    p.add_argument("--source", help="caption this WAV file instead of the configured source (demos, tests)")
    p.add_argument("--no-realtime", action="store_true", help="with --source: read the file as fast as possible")
    p.add_argument("--exit-when-done", action="store_true", help="quit when the source ends (with --source)")
    p.add_argument("--engine", help="use this engine instead of the configured one (not saved)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Start the desktop app; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.source:
        from pathlib import Path

        if not Path(args.source).is_file():
            sys.stderr.write(f"captioner: {args.source}: no such file\n")
            return EXIT_USAGE
    loaded = settings_store.load_checked()
    settings = loaded.settings
    if args.engine:
        settings = settings.with_changes(engine=args.engine)

    from captioner.ui.platform import missing_display, prepare_environment

    prepare_environment(settings.overlay.force_xwayland)
    why = missing_display()
    if why is not None:
        sys.stderr.write(
            f"captioner: cannot open the caption overlay: {why}. Start Captioner from a desktop session, "
            "or run `captioner caption` for captions in the terminal.\n"
        )
        return EXIT_USAGE
    try:
        import qasync
        from PySide6.QtWidgets import QApplication
    except ImportError as exc:
        sys.stderr.write(f"captioner: the desktop app cannot start here: {exc}\n")
        return EXIT_USAGE

    from captioner.ui.desktop import DesktopApp
    from captioner.ui.icons import app_icon
    from captioner.ui.lifecycle import QuitSignals, SingleInstance

    existing = QApplication.instance()
    qapp = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0] if sys.argv else "captioner"])
    qapp.setApplicationName("Captioner")
    qapp.setApplicationDisplayName("Captioner")
    qapp.setDesktopFileName("io.github.captioner.Captioner")  # matches the installed .desktop entry
    qapp.setQuitOnLastWindowClosed(False)
    qapp.setWindowIcon(app_icon())

    quit_signals = QuitSignals()
    guard = SingleInstance()
    if not guard.acquire() and not _start_beside_hung(guard):
        quit_signals.close()
        return EXIT_OK

    async def run() -> int:
        app = DesktopApp(
            settings,
            source=args.source,
            realtime=not args.no_realtime,
            minimized=args.minimized,
            exit_when_done=args.exit_when_done,
            persist=not args.engine,
            settings_problem=loaded.problem,
        )
        guard.on_activate = app.activate
        qapp.aboutToQuit.connect(app.request_quit)
        quit_signals.attach(app.request_quit)
        return await app.run()

    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
            return runner.run(run())
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        guard.release()
        quit_signals.close()


def _start_beside_hung(guard: SingleInstance) -> bool:
    """Another app runs: True when it does not answer and the user chose to start anyway (this one takes over)."""
    from captioner.ui.lifecycle import HUNG_TEXT, ask_start_anyway

    if guard.answered:
        sys.stderr.write("captioner: already running; showing the captions of the running app\n")
        return False
    sys.stderr.write(f"captioner: {HUNG_TEXT.partition(' Start')[0]}\n")
    if not ask_start_anyway():
        return False
    return guard.take_over()


if __name__ == "__main__":
    sys.exit(main())
