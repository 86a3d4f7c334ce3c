"""The engine registry: every engine the app knows, whether it is usable here, and why not.

Engines are imported lazily so that a missing optional package for one cloud
engine never breaks the others.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from captioner.engines.base import Capabilities, Engine, EngineUnavailable

DEFAULT_ENGINE = "moonshine"
"""The neural offline engine: readable, punctuated captions with no account. ``local`` (PocketSphinx) is the
light engine, for low-power machines, and takes over by itself when Moonshine cannot run here."""


@dataclass(frozen=True, slots=True)
class EngineInfo:
    """A registered engine."""

    id: str
    name: str
    module: str
    class_name: str
    description: str
    fallback: str | None = None
    """The engine used instead when this one is not usable here (the user is told why)."""

    def load(self) -> type[Engine]:
        """Import the engine class, or raise :class:`EngineUnavailable` with the reason."""
        try:
            mod = importlib.import_module(self.module)
        except ImportError as exc:  # a missing optional dependency
            raise EngineUnavailable(
                f"{self.name} needs the Python package {exc.name!r}, which is not installed"
            ) from exc
        cls = getattr(mod, self.class_name)
        assert issubclass(cls, Engine)
        return cls

    def availability(self) -> tuple[bool, str]:
        """``(usable, reason)``; the reason is a plain-words sentence."""
        try:
            cls = self.load()
        except EngineUnavailable as exc:
            return False, str(exc)
        check = getattr(cls, "check_available", None)
        if check is not None:
            ok, why = check()
            return bool(ok), str(why)
        return True, "ready"

    @property
    def capabilities(self) -> Capabilities:
        return self.load().capabilities


ENGINES: dict[str, EngineInfo] = {}


def register(info: EngineInfo) -> None:
    ENGINES[info.id] = info


register(
    EngineInfo(
        id="moonshine",
        name="Moonshine (offline)",
        module="captioner.engines.moonshine.engine",
        class_name="MoonshineEngine",
        description="neural, offline, no account, English: punctuated, readable captions (the default)",
        fallback="local",
    )
)
register(
    EngineInfo(
        id="local",
        name="Local (offline)",
        module="captioner.engines.local.engine",
        class_name="LocalEngine",
        description="PocketSphinx, offline, no account, English: the light engine for low-power machines, "
        "used by itself when Moonshine cannot run",
    )
)
register(
    EngineInfo(
        id="assemblyai",
        name="AssemblyAI Universal-Streaming",
        module="captioner.engines.assemblyai.engine",
        class_name="AssemblyAIEngine",
        description="AssemblyAI cloud streaming (v3); needs an API key",
    )
)
register(
    EngineInfo(
        id="uhlive",
        name="Uhlive Stream Conversation",
        module="captioner.engines.uhlive.conversation",
        class_name="UhliveConversationEngine",
        description="Uhlive live conversation transcription, interim and final results; needs client credentials",
    )
)
register(
    EngineInfo(
        id="uhlive-h2b",
        name="Uhlive Stream H2B",
        module="captioner.engines.uhlive.h2b",
        class_name="UhliveH2BEngine",
        description="Uhlive recognition API, one utterance after another (no interim text); needs client credentials",
    )
)


def get(engine_id: str) -> EngineInfo:
    """The engine registered as ``engine_id``; ``KeyError`` with the known ids otherwise."""
    try:
        return ENGINES[engine_id]
    except KeyError:
        raise KeyError(f"unknown engine {engine_id!r}; known engines: {', '.join(ENGINES)}") from None
