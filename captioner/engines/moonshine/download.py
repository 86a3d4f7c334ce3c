"""Download of the Moonshine base English source files, for platforms without the moonshine-cpp wheel.

The files are the ones the wheel ships, as published by Moonshine AI (formerly Useful Sensors) on
Hugging Face: repository ``moonshine-ai/moonshine`` (``UsefulSensors/moonshine`` redirects there),
folder ``onnx/merged/base/quantized/``, pinned to one commit. Every file is checked against its pinned
size and SHA-256 before use. Standard library only (``urllib``): each file is written to a ``.part``
file first and a broken transfer resumes from where it stopped (HTTP ``Range``), both within one call
(a few attempts) and on the next call.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from captioner import __version__
from captioner.engines.moonshine.cache import sha256_of

#: Hugging Face, Moonshine AI's model repository, pinned to a commit (files never change under a commit).
BASE_URL = (
    "https://huggingface.co/moonshine-ai/moonshine/resolve/"
    "48b4e427b587bcf67797a5be706d6ddc4a298149/onnx/merged/base/quantized/"
)
SOURCE_DESCRIPTION = "Hugging Face (moonshine-ai/moonshine)"

_BLOCK = 256 * 1024


@dataclass(frozen=True)
class SourceFile:
    """One pinned source file: its name, size in bytes and SHA-256 (hex)."""

    name: str
    size: int
    sha256: str


#: The int8 ORT-format files of Moonshine base English, byte-identical to those in moonshine-cpp 0.1.4.
SOURCE_FILES: tuple[SourceFile, ...] = (
    SourceFile("encoder_model.ort", 20_661_976, "9d1a19e044cbf89a207723d1adb667de89a5671a1e3e611b8ebe721b2c31219c"),
    SourceFile(
        "decoder_model_merged.ort", 42_703_232, "370e0c1f161d68dc1c2264c1a82024fb123380da3b73f47f05531d1e8d3308c3"
    ),
    SourceFile("tokenizer.bin", 241_639, "04670d78994d030185c3dd843c60591788fed0a56cc6750747bd326825f13ca9"),
)
PINNED_SHA256 = {f.name: f.sha256 for f in SOURCE_FILES}
TOTAL_BYTES = sum(f.size for f in SOURCE_FILES)

#: (bytes done, bytes in all)
ByteProgress = Callable[[int, int], None]


class DownloadError(Exception):
    """The files could not be downloaded or were not the expected ones (the message is for people)."""


class _Interrupted(DownloadError):
    """Part of the file arrived, then the transfer broke: worth resuming at once."""


def download_files(
    target: Path,
    progress: ByteProgress | None = None,
    base_url: str | None = None,
    files: Sequence[SourceFile] | None = None,
    timeout: float = 30.0,
    attempts: int = 3,
) -> None:
    """Make ``target`` hold every file of ``files`` (default: the pinned ones from :data:`BASE_URL`), verified.

    Files already there and whole are kept. Raises :class:`DownloadError`.
    """
    base_url = base_url or BASE_URL
    files = SOURCE_FILES if files is None else files
    target.mkdir(parents=True, exist_ok=True)
    total = sum(f.size for f in files)
    before = 0
    for source in files:
        offset = before

        def report(done: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + done, total)

        fetch(base_url + source.name, target / source.name, source, report, timeout=timeout, attempts=attempts)
        before += source.size
    if progress is not None:
        progress(total, total)


def fetch(
    url: str,
    dest: Path,
    source: SourceFile,
    progress: Callable[[int], None] | None = None,
    timeout: float = 30.0,
    attempts: int = 3,
) -> None:
    """Download ``url`` to ``dest`` via ``dest.part``, resuming a broken transfer, then verify it."""
    if dest.is_file() and dest.stat().st_size == source.size and sha256_of(dest) == source.sha256:
        return
    part = dest.with_name(dest.name + ".part")
    last_error: DownloadError | None = None
    for _attempt in range(max(1, attempts)):
        try:
            _transfer(url, part, source.size, progress, timeout)
            last_error = None
            break
        except _Interrupted as exc:
            last_error = exc  # resume with the next attempt
    if last_error is not None:
        raise last_error
    if sha256_of(part) != source.sha256:
        part.unlink()
        raise DownloadError(
            f"the downloaded {source.name} is not the expected file (its checksum does not match); "
            "it was removed and will be downloaded again next time"
        )
    os.replace(part, dest)


def _transfer(url: str, part: Path, size: int, progress: Callable[[int], None] | None, timeout: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    if have == size:
        return
    headers = {"User-Agent": f"Captioner/{__version__}"}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    host = urllib.parse.urlsplit(url).hostname or url
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if have and response.status != 206:  # the server ignored the range: start again
                have = 0
            mode = "ab" if have else "wb"
            done = have
            with part.open(mode) as out:
                while block := response.read(_BLOCK):
                    out.write(block)
                    done += len(block)
                    if progress is not None:
                        progress(min(done, size))
    except urllib.error.HTTPError as exc:
        if exc.code == 416:  # our .part is not a prefix of the file any more
            part.unlink(missing_ok=True)
        raise DownloadError(f"{host} refused the download of the speech model (HTTP {exc.code})") from exc
    except urllib.error.URLError as exc:
        raise DownloadError(
            f"could not reach {host} to download the speech model (offline? {_reason(exc.reason)})"
        ) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _Interrupted(
            f"the download of the speech model from {host} was interrupted ({_reason(exc)}); "
            "it continues where it stopped next time"
        ) from exc
    got = part.stat().st_size if part.exists() else 0
    if got > size:
        part.unlink()
        raise DownloadError(f"the file downloaded from {host} is not the expected one (it is too large)")
    if got != size:
        raise _Interrupted(
            f"the download of the speech model from {host} stopped early ({got} of {size} bytes); "
            "it continues where it stopped next time"
        )


def _reason(reason: object) -> str:
    text = str(reason) or type(reason).__name__
    return text if len(text) <= 120 else text[:117] + "..."
