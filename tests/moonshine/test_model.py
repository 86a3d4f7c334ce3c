"""The Moonshine model files: found, prepared once, cached atomically, found in a bundle first.

The real conversion (a few seconds) runs once per session into a temporary cache: the ``converted``
fixture, which ``test_model_conversion.py`` imports from here.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from captioner.engines.moonshine import cache, model
from captioner.engines.moonshine.convert import MODEL_FILES, ConversionError

pytestmark = pytest.mark.skipif(model.wheel_model_dir() is None, reason="needs the moonshine-cpp wheel's model files")

_ENV = ("CAPTIONER_CACHE_DIR", "CAPTIONER_RESOURCES_DIR")
_CONVERTED: list[model.ModelFiles] = []  # the fixture is registered once per importing module: convert once


@pytest.fixture(scope="session")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[model.ModelFiles]:
    """The real model, converted once per test session into a temporary cache."""
    if _CONVERTED:
        yield _CONVERTED[0]
        return
    root = tmp_path_factory.mktemp("moonshine-cache")
    saved = {name: os.environ.get(name) for name in _ENV}
    os.environ["CAPTIONER_CACHE_DIR"] = str(root)
    os.environ["CAPTIONER_RESOURCES_DIR"] = str(root / "no-resources")
    try:
        files = model.ensure_model()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    _CONVERTED.append(files)
    yield files


def _use_cache(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("CAPTIONER_CACHE_DIR", str(folder))
    monkeypatch.setenv("CAPTIONER_RESOURCES_DIR", str(folder / "no-resources"))


def test_converted_once_then_found_without_work(converted: model.ModelFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_cache(monkeypatch, converted.encoder.parent.parent.parent)
    assert converted.source == model.WHEEL_SOURCE
    for path in (converted.encoder, converted.decoder, converted.tokenizer):
        assert path.is_file() and path.stat().st_size > 100_000

    def no_conversion(*_args: object) -> None:
        raise AssertionError("converted again")

    monkeypatch.setattr(model, "run_conversion", no_conversion)
    assert model.find_model() == converted
    assert model.ensure_model() == converted
    assert model.model_status() == (True, "ready (Moonshine base English, offline)")


def test_failing_conversion_leaves_no_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_cache(monkeypatch, tmp_path)

    def half_then_fail(_source: Path, target: Path, _progress: model.Progress) -> None:
        target.mkdir()
        (target / "encoder_model.onnx").write_bytes(b"half a model")
        raise ConversionError("the disk caught fire")

    monkeypatch.setattr(model, "run_conversion", half_then_fail)
    with pytest.raises(model.ModelUnavailable, match="not available: the disk caught fire"):
        model.ensure_model()
    assert model.find_model() is None
    assert list(cache.models_dir().iterdir()) == []  # neither the model folder nor a temporary one


def test_conversion_error_from_child_process_is_plain(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    for name in ("encoder_model.ort", "decoder_model_merged.ort", "tokenizer.bin"):
        (tmp_path / "src" / name).write_bytes(b"not a model")
    with pytest.raises(ConversionError, match=r"encoder_model\.ort could not be loaded"):
        model.run_conversion(tmp_path / "src", tmp_path / "out", lambda _s, _f: None)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_status_before_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_cache(monkeypatch, tmp_path)
    assert model.find_model() is None
    assert model.model_status() == (True, "first use converts the model once (about 10 s)")
    monkeypatch.setattr(model, "wheel_model_dir", lambda: None)
    ok, why = model.model_status()
    assert ok and why.startswith("the model is downloaded on first use (64 MB from Hugging Face)")


def test_bundled_model_is_found_first(
    converted: model.ModelFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_cache(monkeypatch, converted.encoder.parent.parent.parent)
    resources = tmp_path / "resources"
    shutil.copytree(converted.encoder.parent, resources / "models" / "moonshine-base-en")
    monkeypatch.setenv("CAPTIONER_RESOURCES_DIR", str(resources))
    found = model.find_model()
    assert found is not None and found.source == model.BUNDLED_SOURCE
    assert found.encoder == resources / "models" / "moonshine-base-en" / "encoder_model.onnx"


def test_frozen_bundle_finds_model_in_meipass_or_next_to_executable(
    converted: model.ModelFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAPTIONER_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("CAPTIONER_RESOURCES_DIR", raising=False)
    meipass = tmp_path / "bundle" / "_internal"
    shutil.copytree(converted.encoder.parent, meipass / "resources" / "models" / "moonshine-base-en")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(meipass), raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bundle" / "captioner"))
    found = model.find_model()
    assert found is not None and found.source == model.BUNDLED_SOURCE
    assert found.decoder.parent == meipass / "resources" / "models" / "moonshine-base-en"

    shutil.rmtree(meipass / "resources")
    beside = tmp_path / "bundle" / "models" / "moonshine-base-en"
    shutil.copytree(converted.encoder.parent, beside)
    found = model.find_model()
    assert found is not None and found.tokenizer == beside / "tokenizer.bin"


def test_incomplete_folder_is_not_a_model(converted: model.ModelFiles, tmp_path: Path) -> None:
    folder = tmp_path / "m"
    shutil.copytree(converted.encoder.parent, folder)
    assert cache.is_complete(folder)
    (folder / MODEL_FILES[1]).unlink()
    assert not cache.is_complete(folder)


def test_cache_key_changes_with_conversion_version(monkeypatch: pytest.MonkeyPatch) -> None:
    pins = {"a.ort": "00" * 32}
    before = cache.model_key(pins)
    monkeypatch.setattr(cache, "CONVERSION_VERSION", cache.CONVERSION_VERSION + 1)
    assert cache.model_key(pins) != before
    assert cache.model_key({"a.ort": "11" * 32}) != before
