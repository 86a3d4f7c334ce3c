"""Real human speech for tests, fetched at set-up time from a PyPI wheel.

The ``moonshine-voice`` wheel (MIT licence) ships short recordings of human
readers in ``moonshine_voice/assets/``. We download the wheel once with pip
(from the package registry, no other network) into a cache directory and
extract the WAVs. Nothing is committed to the repository.

``CAPTIONER_TEST_CACHE`` overrides the cache directory (default
``~/.cache/captioner-tests``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

WHEEL = "moonshine-voice==0.1.5"

# What the readers say (the texts are public domain / quoted in the wheel's examples).
TRANSCRIPTS: dict[str, str] = {
    # Dickens, A Tale of Two Cities, opening paragraph; 44.4 s, 48 kHz mono.
    "two_cities.wav": (
        "it was the best of times it was the worst of times it was the age of wisdom it was the age of "
        "foolishness it was the epoch of belief it was the epoch of incredulity it was the season of light "
        "it was the season of darkness it was the spring of hope it was the winter of despair we had "
        "everything before us we had nothing before us we were all going direct to heaven we were all going "
        "direct the other way in short the period was so far like the present period that some of its "
        "noisiest authorities insisted on its being received for good or for evil in the superlative degree "
        "of comparison only"
    ),
    # Beckett, Worstward Ho; 10.0 s, 16 kHz mono.
    "beckett.wav": "ever tried ever failed no matter try again fail again fail better",
}


def cache_dir() -> Path:
    d = Path(os.environ.get("CAPTIONER_TEST_CACHE", Path.home() / ".cache" / "captioner-tests"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def speech_dir() -> Path:
    """Directory holding the extracted WAVs (downloads the wheel on first use)."""
    out = cache_dir() / "speech"
    marker = out / ".complete"
    if marker.exists():
        return out
    wheels = cache_dir() / "wheels"
    wheels.mkdir(exist_ok=True)
    found = sorted(wheels.glob("moonshine_voice-*.whl"))
    if not found:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-q",
                "-d",
                str(wheels),
                WHEEL,
            ],
            check=True,
        )
        found = sorted(wheels.glob("moonshine_voice-*.whl"))
    out.mkdir(exist_ok=True)
    with zipfile.ZipFile(found[-1]) as z:
        for name in z.namelist():
            if re.fullmatch(r"moonshine_voice/assets/[^/]+\.wav", name):
                (out / Path(name).name).write_bytes(z.read(name))
    marker.touch()
    return out


def speech_wav(name: str = "two_cities.wav") -> Path:
    """Path of a real-speech WAV fixture."""
    path = speech_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"{name} is not among the speech fixtures in {speech_dir()}")
    return path


def words(text: str) -> list[str]:
    """Normalise text for WER: lower case, letters/digits/apostrophes only."""
    return re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate (Levenshtein distance on words / reference length)."""
    ref, hyp = words(reference), words(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(1, len(ref))
