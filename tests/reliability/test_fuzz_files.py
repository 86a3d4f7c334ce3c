"""Fuzzing what Captioner reads from files: the WAV reader, the settings loader and the word boost list parser.

The WAV reader may only raise :class:`~captioner.audio.base.AudioError` (a plain message); the settings loader never
raises (a broken file means defaults, kept aside); the word boost parser never raises and gives clean terms.
"""

from __future__ import annotations

import io
import json
import struct
import tempfile
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from captioner import settings
from captioner.audio.base import AudioError
from captioner.audio.file import read_wav
from captioner.ui.settings.word_boost_terms import Limits, admit, split_terms
from tests.support.fuzz import counted


def _wav(channels: int, width: int, rate: int, frames: bytes) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


@st.composite
def wav_bytes(draw: st.DrawFn) -> bytes:
    """A WAV file, valid or not: random bytes, or a real file truncated and with bytes of its header mangled."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=200))
    data = bytearray(
        _wav(
            draw(st.integers(1, 8)),
            draw(st.integers(1, 4)),
            draw(st.integers(1, 192_000)),
            draw(st.binary(max_size=400)),
        )
    )
    for _ in range(draw(st.integers(0, 4))):  # mangle the header (RIFF sizes, format, channels, rate, width)
        at = draw(st.integers(0, min(43, len(data) - 1)))
        if draw(st.booleans()):
            data[at] = draw(st.integers(0, 255))
        else:
            at = min(at, len(data) - 4)
            data[at : at + 4] = struct.pack("<I", draw(st.sampled_from([0, 1, 3, 0xFFFE, 0xFFFFFFFF, 2**31])))
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    return bytes(data if cut is None else data[:cut])


def fuzz_file(target: str, name: str, contents: st.SearchStrategy[bytes], check: Callable[[Path], None]) -> None:
    """Write each example of ``contents`` to a file called ``name`` and ``check`` it there, counting examples."""
    with tempfile.TemporaryDirectory() as tmp, counted(target) as tick:
        path = Path(tmp) / name

        @given(contents)
        def run(data: bytes) -> None:
            tick()
            path.write_bytes(data)
            check(path)

        run()


def test_the_wav_reader_raises_only_audio_error() -> None:
    def check(path: Path) -> None:
        try:
            samples, rate = read_wav(path)
        except AudioError as exc:
            assert str(exc).startswith(str(path)) and "\n" not in str(exc)
            return
        assert rate > 0 and samples.dtype == np.float32 and samples.ndim == 1
        assert np.all(np.isfinite(samples)) and np.all(np.abs(samples) <= 1.0)

    fuzz_file("wav reader", "fuzz.wav", wav_bytes(), check)


EXTREMES = st.sampled_from([10**400, -(10**400), float("inf"), float("-inf"), float("nan"), 2**63, -0.0])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | EXTREMES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
SECTIONS = ["appearance", "overlay", "engines", "feed", "export", "engine", "source", "silence_ms", "version"]


@st.composite
def settings_files(draw: st.DrawFn) -> bytes:
    """Settings files: any bytes, any JSON, or the real shape with any value in any field."""
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind == 1:
        return json.dumps(draw(JSON)).encode()
    base = settings.to_dict(settings.Settings())
    for key in draw(st.lists(st.sampled_from(SECTIONS), max_size=4)):
        if isinstance(base.get(key), dict) and base[key] and draw(st.booleans()):
            inner = draw(st.sampled_from(sorted(base[key])))
            base[key][inner] = draw(EXTREMES | JSON)
        else:
            base[key] = draw(EXTREMES | JSON)
    return json.dumps(base).encode()


def test_the_settings_loader_never_raises() -> None:
    def check(path: Path) -> None:
        loaded = settings.load(path)
        assert loaded == settings.clamp(loaded), "a loaded setting is out of range"
        again = settings.load(settings.save(loaded, path))
        assert again == loaded, "what was loaded does not survive a save"

    fuzz_file("settings loader", "settings.json", settings_files(), check)


def test_the_word_boost_parser_gives_clean_terms() -> None:
    with counted("word boost parser") as tick:

        @given(st.text(), st.sets(st.text(max_size=6), max_size=4), st.integers(0, 5), st.integers(1, 20))
        def run(text: str, present: set[str], terms: int, chars: int) -> None:
            tick()
            parsed = split_terms(text)
            for term in parsed:
                assert term == " ".join(term.split()) and term and not term.startswith("#"), repr(term)
                assert "," not in term and "\n" not in term, repr(term)
            result = admit(parsed, present, len(present), Limits(max_terms=len(present) + terms, max_chars=chars))
            assert len(result.added) <= terms and all(len(t) <= chars for t in result.added)
            assert not set(result.added) & present and len(set(result.added)) == len(result.added)
            assert len(result.added) + len(result.too_long) + result.over + result.repeated == len(parsed)

        run()
