"""``python -m tests.support.scripted_cli ARGS…``: the ``captioner`` command with the scripted test engine registered
as ``scripted`` (:mod:`tests.support.scripted_engine`), for tests that run the command as a real process (to kill
it, fill its disk…) without a speech model."""

from __future__ import annotations

import sys

from captioner import cli
from captioner.engines import registry

if __name__ == "__main__":
    registry.register(
        registry.EngineInfo("scripted", "Scripted", "tests.support.scripted_engine", "ScriptedEngine", "test")
    )
    sys.exit(cli.main(sys.argv[1:]))
