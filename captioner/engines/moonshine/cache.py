"""Where the prepared (converted) Moonshine model lives, and how a folder of it is written atomically.

* A model bundled by an installer is looked for first: ``models/moonshine-base-en/`` among Captioner's
  resources (``captioner.resources``; in a PyInstaller bundle that is ``sys._MEIPASS/resources``) or next
  to the frozen executable.
* Otherwise the user cache: ``<user cache dir>/captioner/models/moonshine-base-en-<key>/`` (platformdirs;
  ``CAPTIONER_CACHE_DIR`` overrides the cache directory, for tests and portable installs). The key is a
  digest of the pinned SHA-256 of the source files and of the conversion version, so a new conversion
  or new source files never reuse an old result.

A folder is complete when it holds the three model files and ``model.json`` (written last). It is built
in a temporary folder beside it and renamed into place, so a crash or an error mid-way never leaves a
half model where it would be found.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import platformdirs

from captioner.engines.moonshine.convert import CONVERSION_VERSION, MODEL_FILES
from captioner.resources import resource_path

MODEL_NAME = "moonshine-base-en"
MARKER = "model.json"
_TEMP_PREFIX = ".building-"
_STALE_AFTER_S = 6 * 3600


def cache_dir() -> Path:
    """Captioner's user cache directory. ``CAPTIONER_CACHE_DIR`` overrides."""
    override = os.environ.get("CAPTIONER_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("captioner", appauthor=False))


def models_dir() -> Path:
    return cache_dir() / "models"


def downloads_dir() -> Path:
    """Where source files are downloaded to (``.part`` files while incomplete)."""
    return cache_dir() / "downloads" / MODEL_NAME


def model_key(source_sha256: dict[str, str]) -> str:
    """A short digest naming the converted model made from these source files by this conversion."""
    digest = hashlib.sha256(f"conversion {CONVERSION_VERSION}\n".encode())
    for name in sorted(source_sha256):
        digest.update(f"{name} {source_sha256[name]}\n".encode())
    return digest.hexdigest()[:16]


def cached_model_dir(source_sha256: dict[str, str]) -> Path:
    return models_dir() / f"{MODEL_NAME}-{model_key(source_sha256)}"


def bundled_model_dirs() -> list[Path]:
    """Where an installer may have put a prepared model (they may not exist)."""
    places = [resource_path("models", MODEL_NAME)]
    if getattr(sys, "frozen", False):
        places.append(Path(sys.executable).resolve().parent / "models" / MODEL_NAME)
    return places


def is_complete(folder: Path) -> bool:
    """True if ``folder`` holds a whole prepared model (cheap: no hashing)."""
    return (folder / MARKER).is_file() and all((folder / name).is_file() for name in MODEL_FILES)


def read_marker(folder: Path) -> dict[str, object]:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_atomically(final: Path, build: Callable[[Path], None], marker: dict[str, object]) -> Path:
    """Create ``final`` by calling ``build(path)`` on a fresh path (which it must create), then renaming.

    On any error the partial result is removed and the error re-raised. If another process finished
    the same folder first, its result is kept.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(final.parent)
    scratch = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX + final.name + "-", dir=final.parent))
    try:
        work = scratch / "model"
        build(work)
        (work / MARKER).write_text(json.dumps(marker, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if not is_complete(work):
            raise OSError(f"the prepared model in {work} is incomplete")
        try:
            os.replace(work, final)
        except OSError:
            if not is_complete(final):
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return final


def _remove_stale_builds(parent: Path) -> None:
    """Temporary folders left by a crash long ago (a build takes seconds)."""
    now = time.time()
    for entry in parent.glob(_TEMP_PREFIX + "*"):
        try:
            if now - entry.stat().st_mtime > _STALE_AFTER_S:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass
