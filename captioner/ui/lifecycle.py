"""How the desktop app's process starts and ends: one running app per user, and a quick, clean quit.

:class:`SingleInstance` makes a second launch hand over to the running app (which shows its captions and
answers) instead of opening a second overlay; a running app that does not answer within a moment is hung (stopped,
frozen): the second launch then says so and asks whether to start anyway (:func:`ask_start_anyway`), and if so
takes the name over. :class:`QuitSignals` turns SIGINT/SIGTERM into a normal Quit.
:class:`DaemonExecutor` runs the loop's blocking work (opening a sound device, resolving a host name) on
threads that a quit does not wait for.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import signal
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QSocketNotifier
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from captioner import paths


def instance_name() -> str:
    """One running app per user and settings directory."""
    digest = hashlib.sha1(str(paths.config_dir()).encode()).hexdigest()[:12]
    return f"captioner-{digest}"


class SingleInstance:
    """A local socket: the first app listens; a second launch asks it to show itself and exits."""

    def __init__(self, name: str | None = None, *, answer_timeout_ms: int = 2000) -> None:
        self.name = name or instance_name()
        self.server = QLocalServer()
        self.on_activate: Callable[[], None] | None = None
        self.answer_timeout_ms = answer_timeout_ms
        self.answered = False
        """After :meth:`acquire` returned False: whether the running app answered (False: it is hung)."""

    def acquire(self) -> bool:
        """True if this is the first instance (now listening); False if another one is running (see
        :attr:`answered`)."""
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(500):
            probe.write(b"activate\n")
            probe.waitForBytesWritten(500)
            self.answered = probe.waitForReadyRead(self.answer_timeout_ms) and b"ok" in bytes(probe.readAll().data())
            probe.abort()
            return False
        return self.take_over()

    def take_over(self) -> bool:
        """Listen under the name, removing a stale socket (a crash) or the one of an app that does not answer."""
        QLocalServer.removeServer(self.name)
        self.server.newConnection.connect(self._incoming)
        return bool(self.server.listen(self.name))

    def _incoming(self) -> None:
        while self.server.hasPendingConnections():
            conn = self.server.nextPendingConnection()
            conn.readyRead.connect(lambda c=conn: self._read(c))

    def _read(self, conn: Any) -> None:
        data = bytes(conn.readAll().data())
        if b"activate" in data:
            conn.write(b"ok\n")
            conn.flush()
            if self.on_activate is not None:
                self.on_activate()
        conn.disconnectFromServer()

    def release(self) -> None:
        self.server.close()


HUNG_TEXT = (
    "Captioner is already running, but it does not answer: it may be frozen or stopped. "
    "Start a new Captioner anyway? (The other one may come back later: quit it then.)"
)


def ask_start_anyway(parent: Any = None) -> bool:
    """Ask whether to start although a hung Captioner runs; True to start (the default button)."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Warning, "Captioner is not answering", HUNG_TEXT, parent=parent)
    start = box.addButton("&Start anyway", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("&Quit", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(start)
    box.setObjectName("hung-instance")
    box.exec()
    return box.clickedButton() is start


class QuitSignals:
    """Ctrl-C / SIGTERM quit cleanly, with no polling timer (idle CPU stays at zero).

    Installed before the app exists, so a signal that arrives during start-up is not lost: :meth:`attach`
    passes it on.
    """

    def __init__(self) -> None:
        self.request_quit: Callable[[], None] | None = None
        self.received = False
        self._rsock, self._wsock = socket.socketpair()
        self._rsock.setblocking(False)
        self._wsock.setblocking(False)
        self.installed = False
        try:
            signal.set_wakeup_fd(self._wsock.fileno())
        except ValueError:  # not the main thread
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)
        self.installed = True
        self._notifier = QSocketNotifier(self._rsock.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)

    def _handle(self, *_: object) -> None:
        self.received = True
        if self.request_quit is not None:
            self.request_quit()

    def attach(self, request_quit: Callable[[], None]) -> None:
        """From now on a signal calls ``request_quit``; so does one that already arrived."""
        self.request_quit = request_quit
        if self.received:
            request_quit()

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            self._rsock.recv(64)

    def close(self) -> None:
        if self.installed:
            with contextlib.suppress(ValueError):
                signal.set_wakeup_fd(-1)
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, signal.SIG_DFL if sig == signal.SIGTERM else signal.default_int_handler)
            self._notifier.setEnabled(False)
        self._rsock.close()
        self._wsock.close()


T = TypeVar("T")


class DaemonExecutor(concurrent.futures.Executor):
    """Each job on its own daemon thread; ``shutdown`` never waits.

    The event loop's default executor runs ``asyncio.to_thread`` and host-name look-ups. The default one is
    joined when the loop closes, so a sound server or a name server that does not answer would hold the quit
    for as long as it takes to time out. Nothing that runs here owns data that must be saved: the transcript
    is flushed on the loop's own thread.
    """

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def work() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

        threading.Thread(target=work, name="captioner-worker", daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for (the threads are daemons)."""
