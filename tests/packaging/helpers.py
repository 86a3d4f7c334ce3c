"""Packaging test helpers: the app id, where the built package and its installed files are, a launcher's
environment."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

APP_ID = "io.github.captioner.Captioner"


@dataclass(frozen=True)
class BuiltDeb:
    path: Path
    build_seconds: float


@dataclass(frozen=True)
class Installed:
    """Where the package's files are: ``/`` after ``dpkg -i``, else the ``dpkg -x`` directory."""

    root: Path
    deb: Path
    into_machine: bool

    @property
    def exe(self) -> Path:
        return Path("/usr/bin/captioner") if self.into_machine else self.root / "opt/captioner/captioner"

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")


def clean_env(home: Path) -> dict[str, str]:
    """A minimal environment, like a desktop launcher's: no venv, no PYTHONPATH, no display, no Qt platform."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "XDG_RUNTIME_DIR": str(home / "run"),
        "CAPTIONER_DATA_DIR": str(home / "data"),
        "CAPTIONER_CONFIG_DIR": str(home / "config"),
        "CAPTIONER_LOG_DIR": str(home / "log"),
    }
    (home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    return env


def installed_version(package: str) -> str | None:
    """The installed version of ``package`` (dpkg), or None."""
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}\t${Version}", package], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0 or "install ok installed" not in proc.stdout:
        return None
    return proc.stdout.split("\t")[1]
