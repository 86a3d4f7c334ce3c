"""Where the source checkout is (for subprocesses that run ``python -m captioner`` from it)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
