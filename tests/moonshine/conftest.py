"""Fixtures for the Moonshine engine tests: the prepared model (converted once per machine into the test cache).

The model is prepared by :func:`captioner.engines.moonshine.model.ensure_model` into
``~/.cache/captioner-tests/moonshine-model`` (``CAPTIONER_TEST_CACHE`` moves it), never into the user's
own cache; after the first run it is only found. Engine tests use the ``model_cache`` fixture so that the
engine finds the same files.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from captioner.engines.moonshine import model
from captioner.engines.moonshine.decoder import MoonshineDecoder
from captioner.engines.moonshine.tokenizer import Tokenizer
from tests.support.speech import cache_dir


def _cache_root() -> Path:
    return cache_dir() / "moonshine-model"


@contextmanager
def using_test_cache() -> Iterator[Path]:
    """Within: ``ensure_model`` and the engine use the test cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("CAPTIONER_CACHE_DIR", str(_cache_root()))
    try:
        yield _cache_root()
    finally:
        mp.undo()


@pytest.fixture
def model_cache() -> Iterator[Path]:
    """Point the model cache at the test cache (for code that calls ``ensure_model`` itself)."""
    with using_test_cache() as root:
        yield root


@pytest.fixture(scope="session")
def model_files() -> model.ModelFiles:
    """The prepared model; the test is skipped when there is nothing to prepare it from."""
    with using_test_cache():
        found = model.find_model()
        if found is None and model.wheel_model_dir() is None:
            pytest.skip("needs the moonshine-cpp wheel's model files (or a prepared model)")
        return found or model.ensure_model()


@pytest.fixture(scope="session")
def decoder(model_files: model.ModelFiles) -> MoonshineDecoder:
    return MoonshineDecoder(model_files.encoder, model_files.decoder, threads=1)


@pytest.fixture(scope="session")
def tokenizer(model_files: model.ModelFiles) -> Tokenizer:
    return Tokenizer.from_file(model_files.tokenizer)
