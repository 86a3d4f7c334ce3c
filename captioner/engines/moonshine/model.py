"""Getting the Moonshine model ready: the one interface the engine uses to find or prepare its files.

* :func:`find_model` — cheap: a prepared model bundled by an installer, or already in the user cache.
* :func:`ensure_model` — find it, else prepare it once: convert the int8 files of the ``moonshine-cpp``
  wheel (Linux x86_64; its native library is never loaded, only its model files are read), or download
  the same files from Hugging Face first (other platforms), then convert (:mod:`.convert`) into the
  cache (:mod:`.cache`, atomic). The conversion runs in a child process, so its peak memory (~1.1 GB
  for a few seconds) is never the app's.
* :func:`model_status` — whether the engine can run now or after that first-use step, in one sentence.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from captioner.engines.moonshine import cache, download
from captioner.engines.moonshine.convert import (
    DECODER_FILE,
    ENCODER_FILE,
    SOURCE_FILES,
    TOKENIZER_FILE,
    ConversionError,
    convert,
)

Progress = Callable[[str, float], None]

DISPLAY_NAME = "Moonshine base English"
WHEEL_SOURCE = "converted from the moonshine-cpp package"
DOWNLOAD_SOURCE = f"downloaded from {download.SOURCE_DESCRIPTION}"
BUNDLED_SOURCE = "bundled with Captioner"
_DOWNLOAD_SHARE = 0.8  # of the progress bar, when downloading first

_lock = threading.Lock()


@dataclass(frozen=True)
class ModelFiles:
    """A prepared model: ONNX encoder, merged decoder, ``tokenizer.bin``, and where it came from."""

    encoder: Path
    decoder: Path
    tokenizer: Path
    source: str


class ModelUnavailable(Exception):
    """The model could not be prepared; the message says why in plain words."""


def find_model() -> ModelFiles | None:
    """A prepared model if one is there already (no conversion, no download, no hashing)."""
    for folder in cache.bundled_model_dirs():
        if cache.is_complete(folder):
            return _files(folder, BUNDLED_SOURCE)
    folder = cache.cached_model_dir(download.PINNED_SHA256)
    if cache.is_complete(folder):
        return _files(folder, str(cache.read_marker(folder).get("source", WHEEL_SOURCE)))
    return None


def ensure_model(progress: Progress | None = None) -> ModelFiles:
    """The prepared model, preparing it first if needed (seconds to convert; a download may take longer).

    ``progress`` receives ``(step description, fraction 0..1)``. Raises :class:`ModelUnavailable`.
    """
    report = progress or (lambda _step, _fraction: None)
    with _lock:
        found = find_model()
        if found is not None:
            return found
        final = cache.cached_model_dir(download.PINNED_SHA256)
        downloaded = False
        try:
            source = wheel_model_dir()
            if source is None or not _matches_pins(source):
                source = cache.downloads_dir()
                _download(source, report)
                downloaded = True
            origin = DOWNLOAD_SOURCE if downloaded else WHEEL_SOURCE
            start = _DOWNLOAD_SHARE if downloaded else 0.0

            def convert_report(step: str, fraction: float) -> None:
                report(step, start + (1.0 - start) * fraction)

            marker: dict[str, object] = {"source": origin, "source_sha256": download.PINNED_SHA256}
            cache.build_atomically(final, lambda work: run_conversion(source, work, convert_report), marker)
        except (download.DownloadError, ConversionError) as exc:
            raise ModelUnavailable(f"The {DISPLAY_NAME} model is not available: {exc}.") from exc
        except OSError as exc:
            raise ModelUnavailable(
                f"The {DISPLAY_NAME} model could not be written to {final.parent}: {exc.strerror or exc}."
            ) from exc
        if downloaded:
            shutil.rmtree(cache.downloads_dir(), ignore_errors=True)
        report("the speech model is ready", 1.0)
        return _files(final, origin)


def model_status() -> tuple[bool, str]:
    """(usable now or after a first-use step, one sentence saying which)."""
    if find_model() is not None:
        return True, f"ready ({DISPLAY_NAME}, offline)"
    if importlib.util.find_spec("onnx") is None:
        return False, "the model must be converted once, which needs the onnx package (pip install onnx)"
    if wheel_model_dir() is not None:
        return True, "first use converts the model once (about 10 s)"
    megabytes = round(download.TOTAL_BYTES / 1e6)
    return True, f"the model is downloaded on first use ({megabytes} MB from Hugging Face), then converted once"


def wheel_model_dir() -> Path | None:
    """The model folder of the installed ``moonshine-cpp`` wheel, if its files have the pinned sizes.

    Found without importing the package (importing it would load its native library).
    """
    try:
        spec = importlib.util.find_spec("moonshine_cpp")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "models" / "base-en"
        sizes = {f.name: f.size for f in download.SOURCE_FILES}
        if all((folder / name).is_file() and (folder / name).stat().st_size == sizes[name] for name in sizes):
            return folder
    return None


def run_conversion(source: Path, target: Path, progress: Progress) -> None:
    """Convert ``source`` into ``target``: in a child Python process, or in this one when frozen."""
    if getattr(sys, "frozen", False):  # no separate interpreter to start; installers bundle the model
        try:
            convert(source, target, progress)
        except ConversionError:
            raise
        except Exception as exc:  # onnx and the quantiser raise many kinds; the caller needs one
            raise ConversionError(f"the conversion failed ({exc})") from exc
        return
    package_root = str(Path(__file__).resolve().parents[3])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    command = [sys.executable, "-m", "captioner.engines.moonshine.convert", str(source), str(target)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, encoding="utf-8"
    ) as child:
        assert child.stdout is not None
        last = ""
        for line in child.stdout:
            kind, _, rest = line.rstrip("\n").partition(" ")
            if kind == "progress":
                fraction, _, step = rest.partition(" ")
                progress(step, float(fraction))
            elif line.strip():
                last = rest if kind == "error" else line.strip()
        code = child.wait()
    if code != 0:
        raise ConversionError(f"the conversion failed ({last or f'exit status {code}'})")


def _download(target: Path, report: Progress) -> None:
    def on_bytes(done: int, total: int) -> None:
        report(
            f"downloading the speech model ({done / 1e6:.0f} of {total / 1e6:.0f} MB)",
            _DOWNLOAD_SHARE * done / max(total, 1),
        )

    download.download_files(target, on_bytes)


def _matches_pins(folder: Path) -> bool:
    return all(cache.sha256_of(folder / name) == download.PINNED_SHA256[name] for name in SOURCE_FILES)


def _files(folder: Path, source: str) -> ModelFiles:
    return ModelFiles(
        encoder=folder / ENCODER_FILE,
        decoder=folder / DECODER_FILE,
        tokenizer=folder / TOKENIZER_FILE,
        source=source,
    )
