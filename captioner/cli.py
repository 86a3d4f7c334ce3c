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

from captioner import paths, secrets, settings
from captioner.audio.base import AudioError
from captioner.captions.cues import CueLimits
from captioner.captions.events import AudioLevel, CaptionEvent, EngineError, Notice, Status
from captioner.captions.profanity import mask_change, mask_event, mask_line, mask_lines
from captioner.captions.progress import ProgressLine
from captioner.captions.transcript import Change, Transcript
from captioner.captions.writers import make_writer, render_transcript
from captioner.cli_args import build_parser
from captioner.engines.base import EngineFailure, EngineOptions
from captioner.engines.wire.logging import redact
from captioner.exit_codes import EXIT_ERROR, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from captioner.feed.security import new_token, parse_address
from captioner.feed.server import FeedError, FeedServer
from captioner.listings import cmd_devices, cmd_engines
from captioner.session.build import LIVE_SOURCES, SessionRequest, SetupError, prepare
from captioner.session.meeting import Meeting, is_meeting, prepare_meeting
from captioner.session.session import Session

log = logging.getLogger("captioner")


class UsageError(Exception):
    """Bad usage or bad input: exit status 2."""


# -- engines / devices ------------------------------------------------------------------------


def _parse_options(items: Sequence[str]) -> dict[str, str]:
    extra: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--option takes KEY=VALUE, got {item!r}")
        extra[key.strip()] = value.strip()
    return extra


def _api_key(args: argparse.Namespace, err: TextIO) -> str | None:
    """The key of ``--api-key-file`` (a file, or ``-`` for standard input), or of ``--api-key`` with a warning."""
    if args.api_key is not None and args.api_key_file is not None:
        raise UsageError("give --api-key or --api-key-file, not both")
    if args.api_key_file is not None:
        try:
            key = secrets.read_key_file(args.api_key_file, sys.stdin)
        except secrets.KeyFileError as exc:
            raise UsageError(str(exc)) from None
        secrets.remember(key)
        return key
    secrets.remember(args.api_key)
    if args.api_key:
        err.write(
            "captioner: warning: a key given with --api-key is visible to other users of this computer "
            "(in the process list); use --api-key-file PATH, or --api-key-file - to read it from standard input\n"
        )
    return args.api_key or None


def _check_args(args: argparse.Namespace) -> None:
    """Values argparse cannot check by their type alone: each bad one is a usage error naming its option."""
    if args.silence_ms is not None and not (0 <= args.silence_ms <= 60_000):
        raise UsageError("--silence-ms must be between 0 and 60000")
    if args.max_retries is not None and args.max_retries < 0:
        raise UsageError(f"--max-retries must be 0 or more, not {args.max_retries}")
    if not args.source.strip():
        raise UsageError("--source takes mic, system, both or the path of a WAV file, not an empty value")
    if args.device is not None and args.source.strip().lower() not in LIVE_SOURCES:
        raise UsageError("--device chooses a microphone or a system-audio device; a WAV file source takes none")
    if args.language is not None and not args.language.strip():
        raise UsageError("--language takes a language code such as en or fr, not an empty value")
    if any(not term.strip() for term in args.word_boost):
        raise UsageError("--word-boost takes a word or a phrase, not an empty value")


async def _caption(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    _check_args(args)
    try:
        limits = CueLimits(max_chars=args.cue_chars, max_lines=args.cue_lines, max_seconds=args.cue_seconds).check()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    api_key = _api_key(args, err)
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
        api_key=api_key,
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
            f.write(redact(traceback.format_exc(), secrets.known()) + "\n")
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
            f"captioner: internal error: {exc.__class__.__name__}: {redact(str(exc), secrets.known())}"
            + (f" (details in {where})" if where else "")
            + "\n"
        )
        return EXIT_ERROR
    return EXIT_OK
