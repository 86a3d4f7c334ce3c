"""The command line's grammar: the ``argparse`` parser of ``captioner`` and of each of its subcommands.

Owns every option, its type, default and help; :mod:`captioner.cli` runs what it parses. A bad value is a usage
error (exit status 2, one line on stderr), never a traceback. The tests derive their list of options to try with
bad values from :func:`build_parser`, so a new option is tried as soon as it is added here.
"""

from __future__ import annotations

import argparse

from captioner import __version__
from captioner.captions.cues import CueLimits
from captioner.captions.writers import FORMATS
from captioner.engines import registry
from captioner.exit_codes import EXIT_USAGE

API_KEY_FILE_HELP = (
    "read the API key (or CLIENT_ID:CLIENT_SECRET) from this file, or from standard input with -: "
    "the safe way, since --api-key shows the key to every user of this computer in the process list"
)


class Parser(argparse.ArgumentParser):
    """Usage errors exit with status 2 (:data:`~captioner.exit_codes.EXIT_USAGE`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="captioner", description="Live captions of your microphone or of what your computer plays.")
    p.add_argument("--version", action="version", version=f"captioner {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    p.add_argument(
        "--self-test",
        action="store_true",
        help="start the app offscreen, caption a bundled sample with the local engine, print it and exit",
    )
    p.add_argument("--minimized", action="store_true", help="desktop app: start in the tray, captions hidden")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    c = sub.add_parser("caption", help="caption audio headless, to stdout (and optionally a file)")
    c.add_argument("--engine", default=registry.DEFAULT_ENGINE, help="engine id (see `captioner engines`)")
    c.add_argument(
        "--source",
        default="mic",
        help="mic, system, both (also mic+system: you and the others, labelled), or the path of a WAV file "
        "(default: mic)",
    )
    c.add_argument("--device", help="input device id or name (see `captioner devices`)")
    c.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    c.add_argument("--word-boost", action="append", default=[], metavar="TERM", help="boost a word (repeatable)")
    c.add_argument("--silence-ms", type=int, metavar="N", help="silence (ms) that ends a caption line")
    c.add_argument("--language", metavar="CODE", help="language code, e.g. en, fr")
    c.add_argument("--endpoint", metavar="URL", help="override the engine's server (region, proxy, tests)")
    c.add_argument("--auth-endpoint", metavar="URL", help="override the token endpoint (Uhlive)")
    c.add_argument(
        "--api-key",
        metavar="KEY",
        help="API key (else the keyring, else the engine's env variable); visible to other users in the process "
        "list: prefer --api-key-file",
    )
    c.add_argument("--api-key-file", metavar="PATH", help=API_KEY_FILE_HELP)
    c.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="engine-specific option, e.g. speech_model=universal-streaming-multilingual (repeatable)",
    )
    c.add_argument("--output", metavar="PATH", help="also write the captions to this file, in --format")
    limits = CueLimits()
    for flag, kind, meta, value, what in (
        ("--cue-chars", int, "N", limits.max_chars, "characters per cue line"),
        ("--cue-lines", int, "N", limits.max_lines, "lines per cue"),
        ("--cue-seconds", float, "S", limits.max_seconds, "longest time a cue is shown"),
    ):
        c.add_argument(flag, type=kind, default=value, metavar=meta, help=f"srt/vtt: {what} (default {value:g})")
    c.add_argument(
        "--realtime",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="pace a file at 1x speed (default) or as fast as the engine allows; cloud engines always pace at 1x",
    )
    c.add_argument("--no-autosave", action="store_true", help="do not keep an autosave copy of the transcript")
    c.add_argument(
        "--serve",
        metavar="[HOST:]PORT",
        help="also serve the captions to other apps: a page for OBS or a browser, and a WebSocket feed "
        "(on 127.0.0.1 unless HOST is given; see docs/caption-feed.md)",
    )
    c.add_argument(
        "--filter-profanity",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="mask swear words and slurs in the output, f*** (default: on; the autosave keeps the raw text)",
    )
    c.add_argument(
        "--max-retries",
        type=int,
        default=None,
        metavar="N",
        help="give up after N failed reconnects in a row (default: forever for live sources, 5 for files)",
    )

    d = sub.add_parser("devices", help="list microphones and system-audio sources, with ids for --device")
    d.add_argument("--json", action="store_true", help="machine-readable output")

    e = sub.add_parser("engines", help="list engines, whether each is usable here, and why not")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    return p
