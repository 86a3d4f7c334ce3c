"""The app's caption feed: the settings panel's "Caption feed" page and the switch that serves the feed.

Real widgets offscreen and the real DesktopApp (the scripted fake engine, a real speech WAV at 4x); a real
WebSocket client and real sockets on 127.0.0.1 check what the switch serves.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication

from captioner import secrets
from captioner.feed.security import TOKEN_ACCOUNT
from captioner.settings import FeedSettings, Settings
from captioner.ui.feed_host import FeedState
from captioner.ui.settings.dialog import SettingsDialog
from tests.feed.helpers import read_feed
from tests.support.net import free_port, get, raw_request


class _Browser(QObject):
    """Stands in for the web browser: QDesktopServices hands it the http URLs it would open."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())


@pytest.fixture
def browser(qapp: Any) -> Any:
    b = _Browser()
    QDesktopServices.setUrlHandler("http", b, "open")  # type: ignore[arg-type]  # the stub asks bytes; PySide6 takes str
    yield b
    QDesktopServices.unsetUrlHandler("http")


def test_the_page_edits_the_feed_settings_and_warns_about_the_network(qtbot: Any) -> None:
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    page = d.feed_page
    assert d.tabs.tabText(d.tabs.indexOf(page)) == "Caption &feed"
    assert not page.enabled.isChecked() and page.who.currentData() == "127.0.0.1" and page.port.value() == 8765
    assert page.warning.isHidden()
    assert not page.caption_link.copy.isEnabled() and not page.caption_link.open.isEnabled()
    assert page.caption_link.field.placeholderText() == "turn the feed on to get its link"

    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        page.enabled.setChecked(True)
    assert sig.args[0].feed == FeedSettings(enabled=True)
    with qtbot.waitSignal(d.settings_changed, timeout=3000) as sig:
        page.who.setCurrentIndex(page.who.findData("0.0.0.0"))
        page.who.activated.emit(page.who.currentIndex())  # what picking it with the mouse or keyboard emits
    assert sig.args[0].feed.host == "0.0.0.0"
    assert not page.warning.isHidden() and "Anyone on your network" in page.warning.text()
    page.port.setValue(9000)
    d.flush()
    assert d.settings().feed == FeedSettings(enabled=True, host="0.0.0.0", port=9000)


def test_copy_and_open_use_the_link_of_the_running_feed(qtbot: Any, browser: _Browser) -> None:
    d = SettingsDialog(Settings())
    qtbot.addWidget(d)
    page = d.feed_page
    url = "http://127.0.0.1:8765/?token=abc"
    page.set_state(
        FeedState(running=True, caption_url=url, transcript_url=url.replace("/?", "/transcript?"), message="Serving")
    )
    assert page.caption_link.field.text() == url and page.status.text() == "Serving"
    page.caption_link.copy.click()
    assert QGuiApplication.clipboard().text() == url
    page.transcript_link.open.click()
    page.caption_link.open.click()
    assert browser.opened == ["http://127.0.0.1:8765/transcript?token=abc", url]


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_the_switch_serves_the_captions_and_turns_the_feed_off(desktop: Any, qtbot: Any, run: Any) -> None:
    port = free_port()
    app = desktop(Settings(engine="fake", feed=FeedSettings(enabled=True, port=port)))
    qtbot.waitUntil(lambda: app.feed.state.running, timeout=5000)
    assert app.feed.state.caption_url == f"http://127.0.0.1:{port}/"
    reader = run(read_feed(f"ws://127.0.0.1:{port}/events?history=1000"))
    qtbot.waitUntil(lambda: not app.controller.running, timeout=30000)  # the file was captioned to its end
    qtbot.waitUntil(lambda: any(m.get("state") == "stopped" for m in reader.messages), timeout=5000)
    finals = {m["id"]: m["text"] for m in reader.messages if m.get("type") == "final"}
    assert list(finals.values()) == [line.text for line in app.controller.transcript.finals] and finals

    dialog = app.open_settings()
    assert dialog.feed_page.caption_link.field.text() == app.feed.state.caption_url
    status, body = run(raw_request(port, get("/", port)))
    assert status == 200 and b"Captioner captions" in body
    dialog.feed_page.enabled.setChecked(False)
    dialog.flush()
    qtbot.waitUntil(lambda: not app.feed.state.running, timeout=5000)
    qtbot.waitUntil(lambda: _refused(port), timeout=5000)
    run(asyncio.wait_for(reader.closed.wait(), 5))
    assert app.settings.feed.enabled is False
    assert dialog.feed_page.caption_link.field.text() == ""


def test_on_the_network_the_link_carries_a_token_kept_in_the_keyring(desktop: Any, qtbot: Any, run: Any) -> None:
    port = free_port()
    app = desktop(Settings(engine="fake", autostart_captions=False))
    dialog = app.open_settings()
    page = dialog.feed_page
    page.who.setCurrentIndex(page.who.findData("0.0.0.0"))
    page.port.setValue(port)
    page.enabled.setChecked(True)
    dialog.flush()
    qtbot.waitUntil(lambda: app.feed.state.running, timeout=5000)
    token = secrets.load(*TOKEN_ACCOUNT)
    assert token and app.feed.state.caption_url == f"http://127.0.0.1:{port}/?token={token}"
    assert app.feed.state.beyond_loopback and not page.warning.isHidden()
    assert run(raw_request(port, get("/", port)))[0] == 401
    assert run(raw_request(port, get(f"/?token={token}", port)))[0] == 200

    page.enabled.setChecked(False)  # off and on again: the same link still works
    dialog.flush()
    qtbot.waitUntil(lambda: not app.feed.state.running, timeout=5000)
    page.enabled.setChecked(True)
    dialog.flush()
    qtbot.waitUntil(lambda: app.feed.state.running, timeout=5000)
    assert app.feed.state.caption_url.endswith(f"?token={token}")


def test_a_port_in_use_is_explained_and_captioning_goes_on(desktop: Any, qtbot: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        app = desktop(Settings(engine="fake", feed=FeedSettings(enabled=True, port=port)))
        qtbot.waitUntil(lambda: "cannot serve" in app.feed.state.message, timeout=5000)
        assert not app.feed.state.running and f"127.0.0.1:{port}" in app.feed.state.message
        qtbot.waitUntil(lambda: bool(app.controller.transcript.finals), timeout=30000)
        page = app.open_settings().feed_page
        assert "Choose another port" in page.status.text()
