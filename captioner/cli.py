"""The ``captioner`` command: the desktop app, or headless captioning and listings.

Exit status: 0 when the source ended normally (or the user stopped it), 2 for
bad usage or bad input, 3 when the engine refused (e.g. bad credentials),
1 for anything else. Errors are one line on stderr; tracebacks go to the log
file only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from captioner import __version__, paths, settings
from captioner.audio.base import AudioError
from captioner.captions.cues import CueLimits
from captioner.captions.events import AudioLevel, CaptionEvent, EngineError, Notice, Status
from captioner.captions.profanity import mask_change, mask_event, mask_line, mask_lines
from captioner.captions.progress import ProgressLine
from captioner.captions.transcript import Change, Transcript
from captioner.captions.writers import FORMATS, make_writer, render_transcript
from captioner.engines import registry
from captioner.engines.base import EngineFailure, EngineOptions
from captioner.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from captioner.feed.security import new_token, parse_address
from captioner.feed.server import FeedError, FeedServer
from captioner.listings import cmd_devices, cmd_engines
from captioner.session.build import SessionRequest, SetupError, prepare
from captioner.session.meeting import Meeting, is_meeting, prepare_meeting
from captioner.session.session import Session

log = logging.getLogger("captioner")


class UsageError(Exception):
    """Bad usage or bad input: exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="captioner", description="Live captions of your microphone or of what your computer plays.")
    p.add_argument("--version", action="version", version=f"captioner {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    p.add_argument(
        "--self-test",
        action="store_true",
        help="start the app offscreen, caption a bundled sample with the local engine, print it and exit",
    )
    p.add_argument("--minimized", action="store_true", help="desktop app: start in the tray, captions hidden")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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
    c.add_argument("--api-key", metavar="KEY", help="API key (else the keyring, else the engine's env variable)")
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


# -- engines / devices ------------------------------------------------------------------------


def _parse_options(items: Sequence[str]) -> dict[str, str]:
    extra: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--option takes KEY=VALUE, got {item!r}")
        extra[key.strip()] = value.strip()
    return extra


async def _caption(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.silence_ms is not None and not (0 <= args.silence_ms <= 60_000):
        raise UsageError("--silence-ms must be between 0 and 60000")
    try:
        limits = CueLimits(max_chars=args.cue_chars, max_lines=args.cue_lines, max_seconds=args.cue_seconds).check()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    extra = _parse_options(args.option)
    if args.auth_endpoint:
        extra["auth_endpoint"] = args.auth_endpoint
    options = EngineOptions(
        language=args.language,
        word_boost=tuple(args.word_boost),
        silence_ms=args.silence_ms,
        endpoint=args.endpoint,
        extra=extra,
    )
    meeting = is_meeting(args.source)
    request = SessionRequest(
        engine=args.engine,
        source="both" if meeting else args.source,
        device=args.device,
        options=options,
        api_key=args.api_key,
        realtime=True if args.realtime is None else args.realtime,
        max_retries=args.max_retries,
    )
    try:
        if meeting:
            meeting_plan = prepare_meeting(request, audience="cli")
            mic, system = meeting_plan.open_sources()
        else:
            plan = prepare(request, audience="cli")
            source = plan.open_source()
    except SetupError as exc:
        raise UsageError(exc.message) from None

    autosave = None if args.no_autosave else paths.new_autosave_path()
    transcript = Transcript(autosave=autosave, many_runs=meeting)
    clean = bool(args.filter_profanity)
    feed = None if args.serve is None else await _start_feed(args.serve, transcript, err, clean)
    writers = [make_writer(args.format, out, limits=limits)]
    out_file: TextIO | None = None
    if args.output:
        try:
            out_file = open(args.output, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        writers.append(make_writer(args.format, out_file, live=False, limits=limits))

    def on_change(change: Change) -> None:
        shown = mask_change(change) if clean else change
        for w in writers:
            w.change(shown)
        if feed is not None:
            feed.change(shown)

    transcript.subscribe(on_change)

    dropped_seen: dict[str | None, int] = {}  # per source (meeting mode has two)
    progress = ProgressLine(err)

    def say(message: str) -> None:
        """A line on stderr, which shares the terminal with the live caption line."""
        with contextlib.ExitStack() as stack:
            for w in writers:
                stack.enter_context(w.aside())
            err.write(message)
            err.flush()

    transcript.on_autosave_error = lambda message: say(f"captioner: warning: {message}\n")

    def on_event(event: CaptionEvent) -> None:
        if isinstance(event, AudioLevel):
            seen = dropped_seen.get(event.speaker, 0)
            if event.dropped_blocks > seen:
                source = f" ({event.speaker})" if meeting and event.speaker else ""
                say(f"captioner: warning: {event.dropped_blocks - seen} audio block(s) dropped{source}\n")
                dropped_seen[event.speaker] = event.dropped_blocks
            return
        shown = mask_event(event) if clean else event
        for w in writers:
            w.event(shown)
        if feed is not None:
            feed.event(shown)
        if isinstance(event, Status) and event.progress is not None:
            progress.show(event.message, event.progress)
            return
        progress.close()
        who = f"{event.speaker}: " if meeting and isinstance(event, Notice | EngineError) and event.speaker else ""
        if isinstance(event, Notice):
            say(f"captioner: warning: {who}{event.message}\n")
        elif isinstance(event, EngineError) and event.retryable:
            say(f"captioner: {who or event.engine + ': '}{event.message} (retrying)\n")
        elif isinstance(event, EngineError) and who:
            say(f"captioner: {who}{event.message}\n")

    session: Session | Meeting
    if meeting:
        session = meeting_plan.meeting(mic, system, transcript=transcript, on_event=on_event)
    else:
        session = plan.session(source, transcript=transcript, on_event=on_event)

    loop = asyncio.get_running_loop()
    stops = 0
    stop_tasks: set[asyncio.Task[None]] = set()

    def request_stop() -> None:
        nonlocal stops
        stops += 1
        if stops == 1:
            say("\ncaptioner: stopping (finishing the last caption; Ctrl-C again to quit now)\n")
            stop_tasks.add(loop.create_task(session.stop()))
        else:
            for task in asyncio.all_tasks(loop):
                task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, request_stop)
    code = EXIT_OK
    try:
        await session.run()
    except EngineFailure as exc:
        err.write(f"captioner: {exc.message}\n")
        code = EXIT_REFUSED if exc.refused else EXIT_ERROR
    except AudioError as exc:
        err.write(f"captioner: {exc}\n")
        code = EXIT_USAGE
    except asyncio.CancelledError:
        code = EXIT_OK
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        progress.close()
        for w in writers:
            w.close(transcript)
        if out_file is not None:
            finals = mask_lines(transcript.finals) if clean else transcript.finals
            full = render_transcript(args.format, finals, limits)
            if full is not None:
                out_file.seek(0)
                out_file.truncate()
                out_file.write(full)
            out_file.close()
        transcript.close()
        if feed is not None:
            await feed.stop()
    return code


async def _start_feed(spec: str, transcript: Transcript, err: TextIO, clean: bool) -> FeedServer:
    """Start the caption feed of ``--serve`` and say where it is; bad addresses are usage errors."""
    try:
        address = parse_address(spec)
    except ValueError as exc:
        raise UsageError(f"--serve: {exc}") from None
    token = None if address.loopback else os.environ.get("CAPTIONER_FEED_TOKEN") or new_token()
    loaded = settings.load_checked()  # a file that could not be used was kept aside: say so in one line
    if loaded.problem:
        err.write(f"captioner: warning: {loaded.problem}\n")
    feed = FeedServer(
        address,
        transcript=transcript,
        token=token,
        style=loaded.settings.appearance,
        present=mask_line if clean else None,
    )
    try:
        await feed.start()
    except FeedError as exc:
        raise UsageError(str(exc)) from None
    err.write(f"captioner: caption feed: {feed.url('/')} (transcript page: {feed.url('/transcript')})\n")
    if not address.loopback:
        elsewhere = " (from another device, put this computer's address in it)" if address.wildcard else ""
        err.write(
            "captioner: warning: the caption feed is open beyond this computer: anyone on the network "
            f"who has the link can read the captions{elsewhere}\n"
        )
    return feed


# -- entry ---------------------------------------------------------------------------------------


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("captioner: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def _log_crash() -> Path | None:
    try:
        d = paths.log_dir()
        d.mkdir(parents=True, exist_ok=True)
        path = d / "crash.log"
        with open(path, "a", encoding="utf-8") as f:
            f.write(traceback.format_exc() + "\n")
        return path
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    out, err = sys.stdout, sys.stderr
    try:
        if args.self_test:
            from captioner.ui.selftest import run_self_test

            return run_self_test(out, err)
        if args.command is None:
            try:
                from captioner.app import main as app_main
            except ImportError as exc:
                err.write(f"captioner: the desktop app cannot start here: {exc}\n")
                return EXIT_USAGE
            return int(app_main(["--minimized"] if args.minimized else []) or 0)
        if args.command == "engines":
            return cmd_engines(args, out)
        if args.command == "devices":
            return cmd_devices(args, out)
        if args.command == "caption":
            return asyncio.run(_caption(args, out, err))
        parser.error(f"unknown command {args.command}")
    except UsageError as exc:
        err.write(f"captioner: {exc}\n")
        return EXIT_USAGE
    except AudioError as exc:
        err.write(f"captioner: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            sys.stdout = open("/dev/null", "w")  # noqa: SIM115 - silence the flush at exit
        return EXIT_OK
    except Exception as exc:
        where = _log_crash()
        err.write(
            f"captioner: internal error: {exc.__class__.__name__}: {exc}"
            + (f" (details in {where})" if where else "")
            + "\n"
        )
        return EXIT_ERROR
    return EXIT_OK
