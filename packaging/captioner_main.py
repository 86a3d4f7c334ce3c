"""Entry point of the PyInstaller bundle: the same ``captioner`` command as ``pip install`` gives."""

import os
import sys

# A windowed (no console) Windows/macOS executable has no stdout/stderr: give it a sink so that
# ``--version``/``--self-test`` and log output never crash the app.
for _name in ("stdout", "stderr"):
    if getattr(sys, _name) is None:
        setattr(sys, _name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115

from captioner.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
