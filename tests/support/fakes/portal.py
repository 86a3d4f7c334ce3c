"""A fake XDG desktop portal with GlobalShortcuts, on a private D-Bus session bus (a real ``dbus-daemon``).

:func:`private_session_bus` starts ``dbus-daemon --session`` and gives its address. :class:`FakePortal`
owns ``org.freedesktop.portal.Desktop`` on it and answers as a desktop does: ``CreateSession`` and
``BindShortcuts`` return a request path at once and their ``Response`` signal after, it records the
preferred trigger, and :meth:`FakePortal.press` emits ``Activated`` as if the user pressed the shortcut.
``refuse_bind`` makes the desktop say no. It runs in a thread with its own connection.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_method_return, new_signal
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

BUS_NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
IFACE = "org.freedesktop.portal.GlobalShortcuts"


@contextlib.contextmanager
def private_session_bus() -> Iterator[str]:
    """A ``dbus-daemon --session`` of its own; yields its address."""
    if shutil.which("dbus-daemon") is None:
        raise RuntimeError("dbus-daemon is needed (scripts/setup --dev installs it)")
    proc = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


class FakePortal:
    """The GlobalShortcuts part of a desktop portal."""

    def __init__(self, address: str, *, has_shortcuts: bool = True) -> None:
        self.address = address
        self.has_shortcuts = has_shortcuts
        self.refuse_bind = False
        self.sessions: list[str] = []
        self.closed: list[str] = []
        self.triggers: list[str] = []
        self._outbox: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> FakePortal:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake portal did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def press(self) -> None:
        """The user pressed the bound shortcut."""
        self._outbox.put(("activate", self.sessions[-1]))

    # -- the service -------------------------------------------------------------------------------
    def _run(self) -> None:
        conn = open_dbus_connection(bus=self.address)
        conn.send_and_get_reply(message_bus.RequestName(BUS_NAME), timeout=5)
        self._ready.set()
        try:
            while not self._stop.is_set():
                while not self._outbox.empty():
                    _, session = self._outbox.get()
                    portal = DBusAddress(PATH, interface=IFACE)
                    conn.send(new_signal(portal, "Activated", "osta{sv}", (session, "click-through", 1, {})))
                try:
                    msg = conn.receive(timeout=0.05)
                except TimeoutError:
                    continue
                if msg.header.message_type == MessageType.method_call:
                    self._answer(conn, msg)
        finally:
            conn.close()

    def _answer(self, conn: Any, msg: Any) -> None:
        fields = msg.header.fields
        member, iface = fields.get(HeaderFields.member), fields.get(HeaderFields.interface)
        sender = str(fields.get(HeaderFields.sender, "")).lstrip(":").replace(".", "_")
        if iface == "org.freedesktop.DBus.Properties" and member == "Get":
            if self.has_shortcuts and msg.body[0] == IFACE:
                conn.send(new_method_return(msg, "v", (("u", 1),)))
            else:
                from jeepney import new_error

                conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownInterface", "s", ("no such interface",)))
            return
        if member == "Close":
            self.closed.append(str(fields.get(HeaderFields.path)))
            conn.send(new_method_return(msg))
            return
        options = msg.body[-1]
        request = f"{PATH}/request/{sender}/{options['handle_token'][1]}"
        conn.send(new_method_return(msg, "o", (request,)))
        time.sleep(0.05)  # the answer comes later, as from a desktop asking its user
        if member == "CreateSession":
            session = f"{PATH}/session/{sender}/{options['session_handle_token'][1]}{len(self.sessions)}"
            self.sessions.append(session)
            results: dict[str, Any] = {"session_handle": ("o", session)}
            response = 0
        else:  # BindShortcuts(session, shortcuts, parent_window, options)
            for _id, props in msg.body[1]:
                self.triggers.append(props["preferred_trigger"][1])
            response = 2 if self.refuse_bind else 0
            results = {}
        signal = new_signal(
            DBusAddress(request, interface="org.freedesktop.portal.Request"), "Response", "ua{sv}", (response, results)
        )
        conn.send(signal)
