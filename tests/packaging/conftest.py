"""Packaging fixtures: ONE bundle + .deb build per test session, and the package installed on this machine.

The build runs ``packaging/build-deb --venv <this venv>`` exactly as a developer or CI would (the
PyInstaller work directory under ``build/`` is reused between sessions, so a rebuild is faster).
``CAPTIONER_TEST_DEB`` names an already built .deb to test instead (skips the build).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.packaging.helpers import APP_ID, BuiltDeb, Installed, installed_version
from tests.support.repo import REPO


@pytest.fixture(scope="session")
def built_deb(tmp_path_factory: pytest.TempPathFactory) -> BuiltDeb:
    given = os.environ.get("CAPTIONER_TEST_DEB")
    if given:
        return BuiltDeb(Path(given), 0.0)
    for tool in ("dpkg-deb", "objdump"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/setup --dev (TEST_DEBS: dpkg-dev binutils)")
    out = tmp_path_factory.mktemp("deb")
    venv = Path(sys.prefix)
    started = time.monotonic()
    proc = subprocess.run(
        [str(REPO / "packaging" / "build-deb"), "--venv", str(venv), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, f"build-deb failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    deb = Path(proc.stdout.strip().splitlines()[-1])
    assert deb.is_file() and deb.parent == out, proc.stdout
    return BuiltDeb(deb, elapsed)


@pytest.fixture(scope="module")
def installed(built_deb: BuiltDeb, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    """``dpkg -i`` into this machine when we are root (as CI is), removed afterwards; else ``dpkg -x``."""
    deb = built_deb.path
    if os.geteuid() != 0 or shutil.which("dpkg") is None:
        root = tmp_path_factory.mktemp("root")
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        yield Installed(root, deb, into_machine=False)
        return
    before = installed_version("captioner")
    proc = subprocess.run(["dpkg", "-i", str(deb)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        subprocess.run(["dpkg", "-r", "captioner"], capture_output=True, check=False)
        pytest.fail(f"dpkg -i failed (missing Depends? see scripts/setup):\n{proc.stdout}\n{proc.stderr}")
    try:
        yield Installed(Path("/"), deb, into_machine=True)
    finally:
        if before is None:
            removed = subprocess.run(["dpkg", "--purge", "captioner"], capture_output=True, text=True, check=False)
            assert removed.returncode == 0, removed.stderr
            # Uninstalling leaves nothing of ours behind.
            assert installed_version("captioner") is None
            leftovers = [
                p
                for p in (
                    Path("/opt/captioner"),
                    Path("/usr/bin/captioner"),
                    Path(f"/usr/share/applications/{APP_ID}.desktop"),
                    Path(f"/usr/share/metainfo/{APP_ID}.metainfo.xml"),
                    Path(f"/usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg"),
                )
                if p.exists() or p.is_symlink()
            ]
            assert not leftovers, f"left behind after dpkg --purge: {leftovers}"
