"""What meeting mode writes: text lines prefixed with the speaker, a ``speaker`` field in JSON lines (captions,
status and errors), the speaker in the autosave; bad usage of ``--source both`` is a clear message."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from captioner import cli
from captioner.captions.events import EngineError, EngineState, Final, Interim, Status
from captioner.captions.transcript import Transcript, load_autosave
from captioner.captions.writers import TextWriter, event_record
from captioner.exit_codes import EXIT_USAGE


def test_text_lines_start_with_the_speaker() -> None:
    out = io.StringIO()
    transcript = Transcript(many_runs=True)
    transcript.subscribe(TextWriter(out, live=False).change)  # the writer names a speaker when it changes
    transcript.apply(Interim(line_id="r1.1-0", text="Ever", engine="moonshine", speaker="You"))
    transcript.apply(Final(line_id="r1.1-0", text="Ever tried.", engine="moonshine", speaker="You"))
    transcript.apply(Final(line_id="r2.1-0", text="It was the best of times.", engine="moonshine", speaker="Others"))
    transcript.apply(Final(line_id="r2.1-1", text="", engine="moonshine", speaker="Others"))
    assert out.getvalue() == "You: Ever tried.\nOthers: It was the best of times.\n"
    assert [line.text for line in transcript.finals] == ["Ever tried.", "It was the best of times."]


def test_json_lines_carry_the_speaker_when_there_is_one() -> None:
    final = event_record(Final(line_id="r1.1-0", text="Ever tried.", engine="moonshine", speaker="You"))
    assert final is not None and final["speaker"] == "You" and final["type"] == "final"
    interim = event_record(Interim(line_id="r2.1-0", text="It was", engine="moonshine", speaker="Others"))
    assert interim is not None and interim["speaker"] == "Others"
    error = event_record(EngineError(engine="moonshine", message="gone", retryable=False, speaker="You"))
    assert error is not None and error["speaker"] == "You" and error["type"] == "error"
    status = event_record(Status(engine="moonshine", state=EngineState.LISTENING, speaker="Others"))
    assert status is not None and status["speaker"] == "Others"
    plain = event_record(Final(line_id="1-0", text="x", engine="moonshine"))
    assert plain is not None and "speaker" not in plain
    json.dumps([final, interim, error, status])


def test_the_autosave_keeps_who_spoke(tmp_path: Path) -> None:
    path = tmp_path / "autosave.jsonl"
    transcript = Transcript(autosave=path, many_runs=True)
    transcript.apply(Final(line_id="r1.1-0", text="Ever tried.", engine="moonshine", speaker="You", start=1.0))
    transcript.apply(Final(line_id="r2.1-0", text="It was.", engine="moonshine", speaker="Others", start=1.2))
    transcript.close()
    assert [(line.speaker, line.text) for line in load_autosave(path)] == [
        ("You", "Ever tried."),
        ("Others", "It was."),
    ]


@pytest.fixture
def root_logging() -> Iterator[None]:
    """``cli.main`` points the root logger at this test's stderr: give the next tests theirs back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_source_both_with_an_unknown_engine_is_a_usage_error(capsys: object, root_logging: None) -> None:
    for source in ("both", "mic+system"):
        code = cli.main(["caption", "--source", source, "--engine", "nope", "--no-autosave"])
        err = capsys.readouterr().err  # type: ignore[attr-defined]
        assert code == EXIT_USAGE
        assert err.startswith("captioner: ") and "nope" in err and "Traceback" not in err
