"""The global shortcut on Wayland, through the XDG GlobalShortcuts portal, against a fake portal on a real
private D-Bus session bus: the session and the binding, the preferred trigger, activation, a refusal that
comes later, a new combination in a new session, and a desktop without the interface."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from captioner.ui.hotkey import GlobalShortcut
from captioner.ui.hotkey_portal import NO_PORTAL, PortalBackend, portal_reason, portal_trigger
from tests.support.fakes.portal import FakePortal, private_session_bus
from tests.support.keys import first_key


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with private_session_bus() as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address


def test_trigger_names() -> None:
    assert portal_trigger(first_key("Ctrl+Shift+L")) == "CTRL+SHIFT+l"
    assert portal_trigger(first_key("Meta+Alt+F5")) == "ALT+LOGO+F5"
    assert portal_trigger(first_key("Ctrl+PgDown")) == "CTRL+Page_Down"


def test_without_the_interface_there_is_no_global_shortcut(bus: str) -> None:
    with FakePortal(bus, has_shortcuts=False):
        assert portal_reason() == NO_PORTAL


def test_no_session_bus_means_no_portal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    assert portal_reason() == NO_PORTAL


def test_the_portal_binds_the_shortcut_and_reports_presses(bus: str, qtbot: Any) -> None:
    fired: list[int] = []
    with FakePortal(bus) as portal:
        assert portal_reason() is None
        g = GlobalShortcut(PortalBackend())
        g.activated.connect(lambda: fired.append(1))
        try:
            status = g.set_sequence("Ctrl+Shift+L")
            assert status.everywhere and "portal" in status.message
            qtbot.waitUntil(lambda: portal.triggers == ["CTRL+SHIFT+l"], timeout=3000)
            portal.press()
            qtbot.waitUntil(lambda: fired == [1], timeout=3000)
            # Another combination: a new session (a session binds once), the old one closed.
            g.set_sequence("Ctrl+Alt+K")
            qtbot.waitUntil(lambda: portal.triggers[-1] == "CTRL+ALT+k", timeout=3000)
            assert portal.closed == [portal.sessions[0]]
            portal.press()
            qtbot.waitUntil(lambda: fired == [1, 1], timeout=3000)
        finally:
            g.close()


def test_a_refusal_that_comes_later_is_reported(bus: str, qtbot: Any) -> None:
    with FakePortal(bus) as portal:
        portal.refuse_bind = True
        g = GlobalShortcut(PortalBackend())
        try:
            assert g.set_sequence("Ctrl+Shift+L").everywhere  # asked; the desktop answers later
            qtbot.waitUntil(lambda: not g.status().everywhere, timeout=3000)
            assert "the desktop refused the shortcut" in g.status().message
        finally:
            g.close()
