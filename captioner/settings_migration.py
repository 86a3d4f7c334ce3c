"""Settings files of older versions brought up to date: one function per version step, applied by :func:`migrate`.

Each step takes the JSON object of a file of version *n* and returns it as version *n + 1*; a damaged section
counts as empty. :mod:`captioner.settings` calls :func:`migrate` before reading a file into its dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _object(value: Any) -> dict[str, Any]:
    """A copy of a JSON object of the file; anything else (a damaged section) counts as empty."""
    return dict(value) if isinstance(value, dict) else {}


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 kept a flat ``opacity`` and ``font_size`` and a single ``geometry``; v2 nests them."""
    data = dict(data)
    appearance = _object(data.get("appearance"))
    for key in ("font_size", "font_family"):
        if key in data:
            appearance.setdefault(key, data.pop(key))
    if "opacity" in data:
        appearance.setdefault("background_opacity", data.pop("opacity"))
    data["appearance"] = appearance
    if "geometry" in data:
        overlay = _object(data.get("overlay"))
        overlay.setdefault("geometry", {"default": data.pop("geometry")})
        data["overlay"] = overlay
    data["version"] = 2
    return data


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 made the neural Moonshine engine the offline default. Until then ``local`` (PocketSphinx) was the
    only offline engine and every settings file named it, chosen or not: move those files to the new default,
    whose captions are readable (PocketSphinx stays one click away, and is used by itself when Moonshine cannot
    run). A file that names ``local`` from version 3 on was the user's choice and is kept."""
    data = dict(data)
    if data.get("engine", "local") == "local":
        data["engine"] = "moonshine"
    # Likewise the caption box's old default opacity (0.6), which let a white window's text run through the
    # captions: files that kept it get the new, legible default.
    appearance = data.get("appearance")
    if isinstance(appearance, dict) and appearance.get("background_opacity") == 0.6:
        data["appearance"] = {k: v for k, v in appearance.items() if k != "background_opacity"}
    data["version"] = 3
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2, 2: _v2_to_v3}


def migrate(data: dict[str, Any], schema_version: int) -> dict[str, Any]:
    """``data`` (a settings file's object) brought up to ``schema_version``, one version at a time."""
    version = data.get("version", 1)
    if not isinstance(version, int):
        version = 1
    while version < schema_version and version in MIGRATIONS:
        data = MIGRATIONS[version](data)
        version = data.get("version", version + 1)
    return data
