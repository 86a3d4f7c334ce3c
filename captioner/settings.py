"""User settings: a versioned, typed schema persisted as JSON in the user config dir.

No secrets live here (API keys go to the OS keyring, see :mod:`captioner.secrets`);
:func:`save` refuses to write anything that looks like one.

Every settings object is a frozen dataclass; change one with
``dataclasses.replace`` (or :meth:`Settings.with_changes`) and :func:`save` it.
Unknown keys are ignored and missing keys take defaults, so an older or newer
file never stops the app from starting. Older schema versions are migrated by
:mod:`captioner.settings_migration`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from captioner import paths
from captioner.captions.cues import CueLimits
from captioner.settings_migration import migrate

log = logging.getLogger(__name__)

SCHEMA_VERSION = 3
SILENCE_MS_DEFAULT = 600
SILENCE_MS_RANGE = (100, 5000)
MEETING_SPEAKERS = ("You", "Others")
"""The speakers of meeting mode: the microphone's and the system audio's."""
SPEAKER_STYLES = ("label_and_color", "label", "color", "off")
"""How the views tell speakers apart (when there is more than one): a label and a colour, one of them, neither."""
SPEAKER_LABEL_MAX = 16
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class Appearance:
    """How the caption overlay looks."""

    font_family: str = "Sans Serif"
    font_size: int = 28
    text_color: str = "#ffffff"
    interim_color: str = "#c8c8c8"
    background_color: str = "#000000"
    background_opacity: float = 0.9  # 0 = fully transparent … 1 = opaque; 0.9 keeps busy windows below quiet
    outline: bool = True  # a dark outline/shadow behind the text for legibility
    lines: int = 2  # number of caption lines shown (1–5)
    max_line_chars: int = 60  # maximum line width, in characters
    clear_after_s: float = 8.0  # idle time before captions fade out (0 = never)
    high_contrast: bool = False
    speaker_style: str = "label_and_color"  # one of SPEAKER_STYLES
    you_label: str = "You"  # meeting mode's microphone, as the views label it (the data keeps "You")
    you_color: str = "#8fd3ff"
    others_label: str = "Others"  # meeting mode's system audio
    others_color: str = "#ffd166"


@dataclass(frozen=True, slots=True)
class Geometry:
    """Where the overlay sits on one screen, in that screen's logical coordinates."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class OverlaySettings:
    """Overlay window behaviour; ``geometry`` is keyed by screen (name + size)."""

    position: str = "bottom"  # "top" | "bottom" | "custom"
    click_through: bool = False
    visible: bool = True
    geometry: dict[str, Geometry] = field(default_factory=dict)
    force_xwayland: bool = False  # restart under QT_QPA_PLATFORM=xcb on Wayland
    click_through_shortcut: str = "Ctrl+Shift+L"  # global shortcut that turns click-through on and off ("" = none)


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Per-engine, non-secret options."""

    language: str = ""
    endpoint: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedSettings:
    """The caption feed for other apps (OBS, a browser); its access token lives in the keyring."""

    enabled: bool = False
    host: str = "127.0.0.1"  # "127.0.0.1": this computer only; "0.0.0.0": the local network too
    port: int = 8765


_CUE = CueLimits()


@dataclass(frozen=True, slots=True)
class ExportSettings:
    """The transcript window's export: the folder last saved to, and how subtitle (SRT/WebVTT) cues are cut."""

    folder: str = ""  # "" = the data folder
    cue_chars: int = _CUE.max_chars  # characters per cue line
    cue_lines: int = _CUE.max_lines
    cue_seconds: float = _CUE.max_seconds

    def limits(self) -> CueLimits:
        return CueLimits(max_chars=self.cue_chars, max_lines=self.cue_lines, max_seconds=self.cue_seconds)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the user sets."""

    version: int = SCHEMA_VERSION
    engine: str = "moonshine"
    source: str = "mic"  # "mic" | "system" | "both" (meeting mode: the microphone and system audio)
    device: str = ""  # device id/name for the source ("" = default; in meeting mode: the microphone's)
    word_boost: tuple[str, ...] = ()
    silence_ms: int = SILENCE_MS_DEFAULT
    engines: dict[str, EngineSettings] = field(default_factory=dict)
    appearance: Appearance = field(default_factory=Appearance)
    overlay: OverlaySettings = field(default_factory=OverlaySettings)
    feed: FeedSettings = field(default_factory=FeedSettings)
    autostart_captions: bool = True  # start captioning when the app starts
    offer_last_transcript: bool = True
    filter_profanity: bool = True  # mask swear words and slurs in what is shown and exported (not the autosave)
    export: ExportSettings = field(default_factory=ExportSettings)

    def engine_settings(self, engine_id: str | None = None) -> EngineSettings:
        return self.engines.get(engine_id or self.engine, EngineSettings())

    def with_changes(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


# -- (de)serialisation -------------------------------------------------------------------------

T = TypeVar("T")

_SECRET_HINTS = ("api_key", "apikey", "secret", "token", "password")


def to_dict(obj: Any) -> Any:
    """A settings object as plain JSON data."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_dict(v) for v in obj]
    return obj


def _convert(tp: Any, value: Any) -> Any:
    origin = getattr(tp, "__origin__", None)
    args: tuple[Any, ...] = tuple(getattr(tp, "__args__", ()))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_dict(tp, value if isinstance(value, dict) else {})
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError("expected an object")
        return {str(k): _convert(args[1], v) for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise TypeError("expected a list")
        return tuple(_convert(args[0], v) for v in value)
    if tp is bool:
        if not isinstance(value, bool):
            raise TypeError("expected true/false")
        return value
    if tp is int or tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("expected a number")
        try:
            number = float(value)
        except OverflowError:  # an integer beyond any float
            raise TypeError("expected a number of a sensible size") from None
        if not math.isfinite(number):
            raise TypeError("expected a finite number")
        return int(value) if tp is int else number
    if tp is str:
        if not isinstance(value, str):
            raise TypeError("expected text")
        return value
    return value


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build ``cls`` from JSON data: unknown keys ignored, bad or missing values take defaults."""
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        try:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
        except (TypeError, ValueError, KeyError) as exc:
            log.warning("settings: ignoring bad value for %s (%s)", f.name, exc)
    return clamp(cls(**kwargs))


def clamp(obj: T) -> T:
    """Bring out-of-range values back into range."""
    if isinstance(obj, Appearance):
        d = Appearance()
        return dataclasses.replace(
            obj,
            font_size=min(96, max(8, obj.font_size)),
            background_opacity=min(1.0, max(0.0, obj.background_opacity)),
            lines=min(5, max(1, obj.lines)),
            max_line_chars=min(200, max(10, obj.max_line_chars)),
            clear_after_s=min(600.0, max(0.0, obj.clear_after_s)),
            speaker_style=obj.speaker_style if obj.speaker_style in SPEAKER_STYLES else d.speaker_style,
            you_label=_speaker_label(obj.you_label, d.you_label),
            you_color=_speaker_color(obj.you_color, d.you_color),
            others_label=_speaker_label(obj.others_label, d.others_label),
            others_color=_speaker_color(obj.others_color, d.others_color),
        )
    if isinstance(obj, FeedSettings):
        return dataclasses.replace(obj, port=min(65535, max(1, obj.port)), host=obj.host.strip() or "127.0.0.1")
    if isinstance(obj, ExportSettings):
        ranges = {"cue_chars": (10, 200), "cue_lines": (1, 5), "cue_seconds": (1.0, 60.0)}
        return dataclasses.replace(obj, **{k: min(hi, max(lo, getattr(obj, k))) for k, (lo, hi) in ranges.items()})
    if isinstance(obj, Settings):
        lo, hi = SILENCE_MS_RANGE
        return dataclasses.replace(
            obj,
            silence_ms=min(hi, max(lo, obj.silence_ms)),
            source=_source(obj.source),
            version=SCHEMA_VERSION,
        )
    return obj


def _speaker_label(value: str, default: str) -> str:
    """A speaker label trimmed and kept short, or ``default`` when empty."""
    return " ".join(str(value).split())[:SPEAKER_LABEL_MAX] or default


def _speaker_color(value: str, default: str) -> str:
    """A ``#rrggbb`` colour, or ``default`` when it is anything else."""
    return str(value).lower() if _HEX_COLOR.match(str(value)) else default


SOURCES = ("mic", "system", "both")
"""The sources the settings can choose; "both" is meeting mode (``mic+system`` is read as it too)."""


def _source(source: str) -> str:
    source = source.strip().lower()
    if source == "mic+system":
        return "both"
    return source if source in SOURCES else "mic"


def merge(base: Settings, theirs: Settings, ours: Settings) -> Settings:
    """Three-way merge: take every field ``theirs`` changed since ``base``, keep ``ours`` elsewhere.

    The settings panel edits a copy; meanwhile the overlay may have moved or the tray may have
    toggled click-through. A stale copy must not undo those.
    """

    def merge(b: Any, t: Any, o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type) and type(b) is type(t) is type(o):
            changes = {
                f.name: merge(getattr(b, f.name), getattr(t, f.name), getattr(o, f.name)) for f in dataclasses.fields(o)
            }
            return dataclasses.replace(o, **changes)
        return t if t != b else o

    result: Settings = merge(base, theirs, ours)
    return result


# -- files ---------------------------------------------------------------------------------------


def settings_path() -> Path:
    return paths.config_dir() / "settings.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class Loaded:
    """What :func:`load_checked` read: the settings, and what to tell the user once ('' when all was well; its
    first sentence says it in short)."""

    settings: Settings
    problem: str = ""
    backup: Path | None = None
    """Where a file that could not be used was kept."""


def load(path: Path | None = None) -> Settings:
    """The saved settings, or defaults (see :func:`load_checked`)."""
    return load_checked(path).settings


def load_checked(path: Path | None = None) -> Loaded:
    """The saved settings; defaults when the file is damaged, truncated or from a newer version of Captioner.

    Such a file is kept aside as ``settings.json.bad-<time>`` (a newer version's as
    ``settings.json.v<N>-<time>``), never overwritten, and :attr:`Loaded.problem` says so in plain words.
    """
    p = path or settings_path()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return Loaded(settings=Settings())
    except OSError as exc:
        log.warning("cannot read settings %s: %s; using defaults", p, exc)
        return Loaded(settings=Settings(), problem=f"Captioner cannot read its settings ({exc}); it uses defaults.")
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except ValueError as exc:  # also a UnicodeDecodeError
        why = "it is not text" if isinstance(exc, UnicodeDecodeError) else str(exc)[:80]
        return _set_aside(p, "bad", "the settings file was damaged", why)
    version = data.get("version", 1)
    if isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION:
        shown = str(version) if version < 10**6 else "newer"  # a huge number would make the name too long
        return _set_aside(p, f"v{shown}", "the settings were saved by a newer version of Captioner", f"version {shown}")
    return Loaded(settings=from_dict(Settings, _without_secrets(migrate(data, SCHEMA_VERSION))))


def _set_aside(p: Path, tag: str, what: str, why: str) -> Loaded:
    """Keep ``p`` as ``<name>.<tag>-<time>`` (never over an earlier one) and start from defaults, saying so."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = p.with_name(f"{p.name}.{tag}-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = p.with_name(f"{p.name}.{tag}-{stamp}-{n}")
    said = f"{what[:1].upper()}{what[1:]}; Captioner started with default settings. ({why}.)"
    try:
        os.replace(p, backup)
    except OSError as exc:
        log.warning("%s (%s); cannot keep it aside (%s)", what, why, exc)
        return Loaded(settings=Settings(), problem=f"{said} The file could not be kept aside ({exc}).")
    log.warning("%s (%s); starting from defaults; the file is kept as %s", what, why, backup)
    return Loaded(settings=Settings(), problem=f"{said} The old file is kept as {backup}.", backup=backup)


def _without_secrets(data: Any, where: str = "") -> Any:
    """``data`` without the entries :func:`save` would refuse (secret-looking names), each dropped with a warning,
    so that settings loaded from a hand-edited file can always be saved again."""
    if not isinstance(data, dict):
        return data
    kept = {}
    for k, v in data.items():
        if any(h in str(k).lower() for h in _SECRET_HINTS):
            log.warning("settings: ignoring %s%r (secrets belong in the keyring, not the settings file)", where, k)
            continue
        kept[k] = _without_secrets(v, f"{where}{k}.")
    return kept


def _check_no_secrets(data: Any, where: str = "") -> None:
    if isinstance(data, dict):
        for k, v in data.items():
            if any(h in str(k).lower() for h in _SECRET_HINTS):
                raise ValueError(f"refusing to write a secret-looking setting {where}{k!r} to the settings file")
            _check_no_secrets(v, f"{where}{k}.")


def save(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename)."""
    p = path or settings_path()
    data = to_dict(clamp(settings))
    _check_no_secrets(data)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return p
