"""Small file systems that fail the way real disks do: a tiny tmpfs that fills up, or one mounted read-only.

Mounting needs root; where it is not permitted the test is skipped, saying why (so a run without root skips
these few tests: run them as root, as this machine does, to measure them).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def tmpfs(where: Path, *, size_kb: int = 64, read_only: bool = False, leave_free: int | None = None) -> Iterator[Path]:
    """Mount a tmpfs of ``size_kb`` at ``where`` (read-only if asked); with ``leave_free``, fill it up to leave
    only that many bytes free. Unmounted on exit."""
    where.mkdir(parents=True, exist_ok=True)
    options = f"size={size_kb}k" + (",ro" if read_only else "")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({(proc.stderr or proc.stdout).strip() or proc.returncode})")
    try:
        if leave_free is not None:
            st = os.statvfs(where)
            (where / "filler").write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - leave_free))
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)
