"""Headless Chromium for the page tests: Debian's ``chromium`` package driven by Playwright for Python.

Playwright's async API runs on the test's own asyncio loop, next to the server under test, and waits for
what the page shows (``expect``) instead of sleeping. It is pointed at the system Chromium
(``CAPTIONER_CHROMIUM``, default ``/usr/bin/chromium``): ``playwright install`` is never run, so no browser is
downloaded at test time. ``scripts/setup --dev`` installs the ``chromium`` package.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def chromium_path() -> str:
    path = os.environ.get("CAPTIONER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"no Chromium at {path}: install Debian's chromium package (scripts/setup --dev does)")
    return path


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium (the system one) for one test."""
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            yield browser
        finally:
            await browser.close()


def artifact(name: str) -> Path:
    """Where a test saves a screenshot for people to look at (``test-artifacts/``)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
