"""Packaging figures: build time (cold and warm), bundle and .deb size, installed start-up time.

    sudo .venv/bin/python benchmarks/bench_packaging.py [--skip-cold] [--runs 5]

Builds with ``packaging/build-deb --venv <this venv>`` (cold: PyInstaller's work directory removed
first; warm: a second run that reuses it), installs the .deb with ``dpkg -i``, times the installed
``captioner --version`` and ``captioner --self-test`` (cold = right after dropping the page cache,
which needs root; warm = median of the following runs), then purges the package. Prints the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def build(out: Path) -> tuple[float, Path]:
    started = time.monotonic()
    proc = subprocess.run(
        [str(REPO / "packaging" / "build-deb"), "--venv", sys.prefix, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"build-deb failed:\n{proc.stderr[-3000:]}")
    return elapsed, Path(proc.stdout.strip().splitlines()[-1])


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-cold", action="store_true", help="do not remove PyInstaller's work directory first")
    ap.add_argument("--runs", type=int, default=5, help="warm start-up runs (median)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_packaging: run as root (dpkg -i and dropping the page cache)")

    out = Path(tempfile.mkdtemp(prefix="captioner-bench-"))
    if not args.skip_cold:
        shutil.rmtree(REPO / "build" / "pyinstaller", ignore_errors=True)
        shutil.rmtree(REPO / "build" / "dist", ignore_errors=True)
        cold, deb = build(out)
        print(f"build-deb, cold (no PyInstaller cache):   {cold:6.1f} s")
    warm, deb = build(out)
    print(f"build-deb, warm (PyInstaller cache kept): {warm:6.1f} s")
    bundle = REPO / "build" / "dist" / "captioner"
    print(f"bundle (build/dist/captioner):            {du(bundle) / 1e6:6.1f} MB")
    print(f".deb (zstd):                              {deb.stat().st_size / 1e6:6.1f} MB")

    subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True)
    home = Path(tempfile.mkdtemp(prefix="captioner-home-"))
    (home / "run").mkdir(mode=0o700)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "XDG_RUNTIME_DIR": str(home / "run"),
        "CAPTIONER_DATA_DIR": str(home / "data"),
        "CAPTIONER_CONFIG_DIR": str(home / "config"),
        "CAPTIONER_LOG_DIR": str(home / "log"),
    }
    try:
        for what, argv in (
            ("--version", ["/usr/bin/captioner", "--version"]),
            ("--self-test", ["/usr/bin/captioner", "--self-test"]),
        ):
            dropped = drop_caches()
            cold_start = timed(argv, env)
            warm_runs = [timed(argv, env) for _ in range(args.runs)]
            label = "cold (page cache dropped)" if dropped else "first run"
            print(
                f"installed captioner {what:<12} {label}: {cold_start:5.2f} s; "
                f"warm median of {args.runs}: {statistics.median(warm_runs):5.2f} s"
            )
    finally:
        subprocess.run(["dpkg", "--purge", "captioner"], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
