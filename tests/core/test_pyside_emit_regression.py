"""DESIGN.md §5: PySide6-Essentials 6.12.0 on Python 3.11 corrupts the refcount of True on every
Signal.emit() and aborts after ~1000 emits. The pin (<6.12 on Python < 3.12) must hold, and many emits
through a qasync loop (which emits on every call_soon_threadsafe) must not crash.

Checked: with PySide6-Essentials 6.12.0 installed, the subprocess below aborts (SIGABRT, exit -6)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import version


def test_pyside_version_is_pinned_below_6_12_on_py311() -> None:
    v = tuple(int(x) for x in version("PySide6-Essentials").split(".")[:2])
    if sys.version_info < (3, 12):
        assert v < (6, 12), f"PySide6-Essentials {v} aborts after ~1000 Signal.emit() on Python 3.11"


def test_ten_thousand_emits_through_qasync_do_not_abort() -> None:
    code = textwrap.dedent(
        """
        import asyncio, os, sys, threading
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QObject, Signal
        from PySide6.QtWidgets import QApplication
        import qasync

        class Emitter(QObject):
            ping = Signal(bool)

        app = QApplication([])
        got = []
        e = Emitter()
        e.ping.connect(got.append)

        async def main():
            loop = asyncio.get_running_loop()
            done = asyncio.Event()
            def worker():
                for i in range(5000):
                    loop.call_soon_threadsafe(e.ping.emit, True)
                loop.call_soon_threadsafe(done.set)
            threading.Thread(target=worker).start()
            await done.wait()
            for _ in range(5000):
                e.ping.emit(False)
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            runner.run(main())
        print(len(got))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "10000"
