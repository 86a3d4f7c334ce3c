"""Qt stays in captioner/ui and the app entry: importing the core must not load PySide6 or qasync."""

from __future__ import annotations

import subprocess
import sys

CORE = [
    "captioner.audio",
    "captioner.audio.base",
    "captioner.audio.file",
    "captioner.audio.capture",
    "captioner.captions.events",
    "captioner.captions.transcript",
    "captioner.captions.export",
    "captioner.engines.base",
    "captioner.engines.registry",
    "captioner.session.session",
    "captioner.session.backlog",
    "captioner.session.catch_up",
    "captioner.cli",
    "captioner.exit_codes",
    "captioner.captions.writers",
    "captioner.settings",
    "captioner.secrets",
]
OPTIONAL_CORE = [
    "captioner.engines.local.engine",
    "captioner.engines.assemblyai.engine",
    "captioner.engines.uhlive.conversation",
    "captioner.engines.uhlive.h2b",
    "captioner.engines.uhlive.h2b_protocol",
    "captioner.audio.mic",
    "captioner.audio.system",
    "captioner.audio.devices",
]


def test_core_does_not_import_qt() -> None:
    code = f"""
import importlib, importlib.util, sys
for name in {CORE!r}:
    importlib.import_module(name)
for name in {OPTIONAL_CORE!r}:
    if importlib.util.find_spec(name) is not None:
        importlib.import_module(name)
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6', 'qasync'))
print(','.join(bad))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"core modules pulled in Qt: {out.stdout.strip()}"


def test_no_qt_imports_outside_ui_in_source() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "captioner"
    offenders = []
    for py in root.rglob("*.py"):
        rel = py.relative_to(root).as_posix()
        if rel.startswith("ui/") or rel == "app.py":
            continue
        text = py.read_text(encoding="utf-8")
        if "import PySide6" in text or "from PySide6" in text or "import qasync" in text:
            offenders.append(rel)
    assert offenders == []
