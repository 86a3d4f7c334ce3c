"""The desktop notifications a test's app sends (title, message), recorded instead of shown."""

from __future__ import annotations

from typing import Any

import pytest


def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """From now on every ``Tray.notify`` is recorded in the returned list (and reported as shown)."""
    from captioner.ui.tray import Tray

    told: list[tuple[str, str]] = []

    def notify(self: Tray, title: str, message: str, *args: Any, **kw: Any) -> bool:
        told.append((title, message))
        return True

    monkeypatch.setattr(Tray, "notify", notify)
    return told
