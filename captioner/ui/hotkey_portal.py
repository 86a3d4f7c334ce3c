"""The global shortcut on Wayland: the XDG desktop portal's GlobalShortcuts interface, over D-Bus (jeepney).

Wayland lets no application grab keys; desktops that implement ``org.freedesktop.portal.GlobalShortcuts``
(KDE Plasma 5.27+, GNOME 48+, Hyprland…) bind a shortcut for it instead. :class:`PortalBackend` opens a
portal session, asks for the combination as the *preferred* trigger (the desktop may ask the user, and
lets them change it in its own settings) and calls back on ``Activated``. Portal calls answer through
``Request`` objects whose ``Response`` signal comes later, so the connection's socket is read with a
``QSocketNotifier`` and a refusal arrives after :meth:`PortalBackend.register` returned. Desktops without
the interface are told apart before anything is registered (:func:`portal_reason`).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QKeyCombination, QSocketNotifier, Qt

log = logging.getLogger(__name__)

BUS_NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
IFACE = "org.freedesktop.portal.GlobalShortcuts"
SHORTCUT_ID = "click-through"
NO_PORTAL = "this Wayland desktop offers no global-shortcut portal (org.freedesktop.portal.GlobalShortcuts)"

K = Qt.Key
_KEYSYM_NAMES = {
    K.Key_Escape: "Escape",
    K.Key_Tab: "Tab",
    K.Key_Backspace: "BackSpace",
    K.Key_Return: "Return",
    K.Key_Enter: "KP_Enter",
    K.Key_Space: "space",
    K.Key_Insert: "Insert",
    K.Key_Delete: "Delete",
    K.Key_Home: "Home",
    K.Key_End: "End",
    K.Key_Left: "Left",
    K.Key_Up: "Up",
    K.Key_Right: "Right",
    K.Key_Down: "Down",
    K.Key_PageUp: "Page_Up",
    K.Key_PageDown: "Page_Down",
}


def portal_trigger(keys: QKeyCombination) -> str | None:
    """``keys`` in the XDG shortcuts format (``CTRL+SHIFT+l``), or ``None`` for a key it cannot name."""
    key = keys.key()
    code = key.value
    if K.Key_A.value <= code <= K.Key_Z.value or K.Key_0.value <= code <= K.Key_9.value:
        name = chr(code).lower()
    elif K.Key_F1.value <= code <= K.Key_F35.value:
        name = f"F{code - K.Key_F1.value + 1}"
    elif key in _KEYSYM_NAMES:
        name = _KEYSYM_NAMES[key]
    else:
        return None
    mods = keys.keyboardModifiers()
    parts = [
        label
        for qt_mod, label in (
            (Qt.KeyboardModifier.ControlModifier, "CTRL"),
            (Qt.KeyboardModifier.AltModifier, "ALT"),
            (Qt.KeyboardModifier.ShiftModifier, "SHIFT"),
            (Qt.KeyboardModifier.MetaModifier, "LOGO"),
        )
        if mods & qt_mod
    ]
    return "+".join([*parts, name])


def _connect() -> Any:
    from jeepney.io.blocking import open_dbus_connection

    return open_dbus_connection(bus="SESSION")


def portal_reason() -> str | None:
    """``None`` when the session's portal has GlobalShortcuts, else why there is no global shortcut."""
    try:
        from jeepney import DBusAddress, Properties

        conn = _connect()
    except Exception as exc:  # no session bus, no jeepney: no portal either
        log.info("no D-Bus session bus for the portal: %s", exc)
        return NO_PORTAL
    try:
        props = Properties(DBusAddress(PATH, bus_name=BUS_NAME, interface=IFACE))
        reply = conn.send_and_get_reply(props.get("version"), timeout=2)
        return None if reply.header.message_type.name == "method_return" else NO_PORTAL
    except Exception as exc:
        log.info("the portal has no GlobalShortcuts: %s", exc)
        return NO_PORTAL
    finally:
        conn.close()


class PortalBackend:
    """Global shortcut through the XDG GlobalShortcuts portal."""

    name = "XDG GlobalShortcuts portal"
    pausable = False
    _tokens = itertools.count(1)

    def __init__(self) -> None:
        from jeepney import DBusAddress, MatchRule, message_bus

        self._conn = _connect()
        self._portal = DBusAddress(PATH, bus_name=BUS_NAME, interface=IFACE)
        self._signals: deque[Any] = deque()
        for iface in ("org.freedesktop.portal.Request", IFACE):
            rule = MatchRule(type="signal", interface=iface)
            self._conn.send_and_get_reply(message_bus.AddMatch(rule), timeout=2)
            self._conn.filter(rule, queue=self._signals)
        self._notifier = QSocketNotifier(self._conn.sock.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._read)
        self._session = ""
        self._pending: dict[str, Callable[[int, dict[str, Any]], None]] = {}
        self._callback: Callable[[], None] | None = None
        self._refused: Callable[[str], None] | None = None
        self._trigger = ""

    # -- requests ------------------------------------------------------------------------------
    def _request_path(self, token: str) -> str:
        sender = self._conn.unique_name.lstrip(":").replace(".", "_")
        return f"{PATH}/request/{sender}/{token}"

    def _call(self, method: str, signature: str, body: tuple[Any, ...], options: dict[str, Any]) -> str:
        """Call a portal method whose answer comes as a Response later; the request's path."""
        from jeepney import new_method_call

        token = f"captioner{next(self._tokens)}"
        options = {**options, "handle_token": ("s", token)}
        reply = self._conn.send_and_get_reply(
            new_method_call(self._portal, method, signature, (*body, options)), timeout=5
        )
        if reply.header.message_type.name != "method_return":
            raise RuntimeError(f"the portal refused {method}: {reply.body}")
        self._read()
        return str(reply.body[0]) if reply.body else self._request_path(token)

    def register(
        self, keys: QKeyCombination, on_activated: Callable[[], None], on_refused: Callable[[str], None]
    ) -> str | None:
        trigger = portal_trigger(keys)
        if trigger is None:
            return "the desktop portal cannot name that key; pick a letter, digit, function key or arrow"
        self._callback, self._refused, self._trigger = on_activated, on_refused, trigger
        try:
            self._close_session()  # a session binds its shortcuts once: a new combination needs a new one
            path = self._call("CreateSession", "a{sv}", (), {"session_handle_token": ("s", "captioner")})
            self._pending[path] = self._session_created
        except (RuntimeError, OSError, TimeoutError) as exc:
            return f"the desktop portal did not answer ({exc})"
        return None

    def _close_session(self) -> None:
        from jeepney import DBusAddress, new_method_call

        if self._session:
            session = DBusAddress(self._session, bus_name=BUS_NAME, interface="org.freedesktop.portal.Session")
            self._conn.send(new_method_call(session, "Close"))
            self._session = ""

    def _session_created(self, response: int, results: dict[str, Any]) -> None:
        if response != 0 or "session_handle" not in results:
            self._refuse("the desktop did not open a shortcut session")
            return
        self._session = str(results["session_handle"][1])
        self._bind()

    def _bind(self) -> None:
        shortcut = (
            SHORTCUT_ID,
            {"description": ("s", "Turn click-through on or off"), "preferred_trigger": ("s", self._trigger)},
        )
        path = self._call("BindShortcuts", "oa(sa{sv})sa{sv}", (self._session, [shortcut], ""), {})
        self._pending[path] = self._bound

    def _bound(self, response: int, results: dict[str, Any]) -> None:
        if response != 0:
            self._refuse("the desktop refused the shortcut (it may ask again in its own settings)")

    def _refuse(self, why: str) -> None:
        self._callback = None
        if self._refused is not None:
            self._refused(why)

    # -- signals -------------------------------------------------------------------------------
    def _read(self, *_args: object) -> None:
        while True:
            try:
                self._conn.recv_messages(timeout=0)
            except TimeoutError:
                break
            except OSError as exc:
                log.warning("the portal connection failed: %s", exc)
                self._notifier.setEnabled(False)
                break
        while self._signals:
            self._handle(self._signals.popleft())

    def _handle(self, msg: Any) -> None:
        member = msg.header.fields.get(_member_field())
        path = str(msg.header.fields.get(_path_field(), ""))
        if member == "Response" and path in self._pending:
            response, results = msg.body
            self._pending.pop(path)(int(response), dict(results))
        elif (
            member == "Activated"
            and len(msg.body) >= 2
            and str(msg.body[0]) == self._session
            and str(msg.body[1]) == SHORTCUT_ID
            and self._callback is not None
        ):
            self._callback()

    def unregister(self) -> None:
        self._callback = None  # the portal keeps the binding for the session; it is simply not acted on

    def close(self) -> None:
        self._callback = None
        self._notifier.setEnabled(False)
        with contextlib.suppress(OSError):
            self._close_session()
        self._conn.close()


def _member_field() -> Any:
    from jeepney import HeaderFields

    return HeaderFields.member


def _path_field() -> Any:
    from jeepney import HeaderFields

    return HeaderFields.path
