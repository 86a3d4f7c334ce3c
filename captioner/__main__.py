"""``python -m captioner`` runs the same entry point as the ``captioner`` command."""

import sys

from captioner.cli import main

if __name__ == "__main__":
    sys.exit(main())
