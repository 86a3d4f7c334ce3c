"""Find Captioner's resource files (icons, the self-test sample) wherever the app runs from.

* From a PyInstaller bundle: ``sys._MEIPASS/resources/…`` (the spec copies the
  repository's ``resources/`` directory there).
* From a source checkout (or an editable install): ``<repo>/resources/…``.
* ``CAPTIONER_RESOURCES_DIR`` overrides both (tests, distribution packages that
  keep data elsewhere).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_dir() -> Path:
    """The directory holding Captioner's resources."""
    override = os.environ.get("CAPTIONER_RESOURCES_DIR")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "resources", here / "resources"):
        if candidate.is_dir():
            return candidate
    return here.parent / "resources"


def resource_path(*parts: str) -> Path:
    """The path of a resource, e.g. ``resource_path("icons", "captioner.svg")`` (it may not exist)."""
    return resources_dir().joinpath(*parts)
