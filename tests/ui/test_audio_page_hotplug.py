"""The Audio page while devices come and go (the real PulseAudio test server): opening the device list reads it
again, a new device appears, and the device the user chose stays chosen, marked when it is not there now."""

from __future__ import annotations

from typing import Any

import pytest

from captioner import settings as S
from captioner.ui.settings.dialog import SettingsDialog
from tests.audio.conftest import pulse, pulse_server  # noqa: F401 - fixtures
from tests.audio.pulse import PulseServer

pytestmark = [pytest.mark.pulse]

CHOSEN = "captioner_hotplug_mic"
NEW = "captioner_hotplug_new"


def items(page: Any) -> list[str]:
    return [page.device.itemText(i) for i in range(page.device.count())]


def test_the_device_list_follows_plugging_and_keeps_the_choice(qtbot: Any, pulse: PulseServer) -> None:  # noqa: F811
    chosen = pulse.pactl("load-module", "module-null-source", f"source_name={CHOSEN}").strip()
    new = ""
    try:
        d = SettingsDialog(S.Settings(source="mic", device=CHOSEN))
        qtbot.addWidget(d)
        page = d.audio_page
        assert page.device_id() == CHOSEN and "(not found now)" not in page.device.currentText()
        pulse.pactl("unload-module", chosen)  # unplugged while the panel is open
        chosen = ""
        new = pulse.pactl("load-module", "module-null-source", f"source_name={NEW}", "description=USB-mic").strip()
        page.device.showPopup()  # the user opens the list
        page.device.hidePopup()
        assert "USB-mic" in items(page)
        assert page.device_id() == CHOSEN and page.device.currentText() == f"{CHOSEN} (not found now)"
        chosen = pulse.pactl("load-module", "module-null-source", f"source_name={CHOSEN}").strip()  # back
        page.device.showPopup()
        page.device.hidePopup()
        assert page.device_id() == CHOSEN and "(not found now)" not in page.device.currentText()
        assert page.apply(S.Settings()).device == CHOSEN
    finally:
        for module in (chosen, new):
            if module:
                pulse.pactl("unload-module", module)
