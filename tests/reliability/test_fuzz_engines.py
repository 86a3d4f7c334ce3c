"""Fuzzing what the cloud engines read from the network and from their options.

AssemblyAI: :class:`~captioner.engines.assemblyai.turns.TurnTracker` gets any sequence of server messages (any
bytes, any JSON, the real message types with any value in any field) and must only return caption events; the
config builder gets any options and may only raise ``ValueError`` (a user-facing message), and a config it builds
always makes a connection URL. Uhlive: server messages go through the ``uhlive`` SDK's own parsers, as the engines
take them (:func:`~captioner.engines.uhlive.conversation_protocol.decode` and
:func:`~captioner.engines.uhlive.h2b_protocol.parse_event`); only the SDK's ``UhliveError`` (Conversation) and
:class:`~captioner.engines.base.EngineFailure` (an H2B result that refuses) may come out.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st
from uhlive.stream.conversation import Conversation
from uhlive.stream.conversation.error import UhliveError
from uhlive.stream.recognition import CompletionCause, RecognitionComplete, Recognizer
from uhlive.stream.recognition.events import EVENT_MAP as H2B_EVENTS

from captioner.captions.events import EngineEvent, Final, Interim
from captioner.engines.assemblyai.config import KNOWN_EXTRA, parse_config
from captioner.engines.assemblyai.request import build_url, update_configuration_message
from captioner.engines.assemblyai.turns import TurnTracker
from captioner.engines.base import EngineFailure, EngineOptions
from captioner.engines.uhlive import conversation_protocol as conversation
from captioner.engines.uhlive.h2b_protocol import SessionState, parse_event, recognition_final
from tests.support.fuzz import counted

SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**1100),
    st.floats(),
    st.text(max_size=10),
)
ANY = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
TIME_MS = st.one_of(st.integers(-1000, 10**7), st.sampled_from([10**400, -(10**400), 2**63, 1e308]), SCALAR)


def _fields(draw: st.DrawFn, shape: dict[str, object]) -> dict[str, object]:
    """``shape`` with some fields dropped and some given any value."""
    out = {}
    for key, value in shape.items():
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue
        out[key] = draw(ANY) if choice == 1 else value
    return out


@st.composite
def word(draw: st.DrawFn) -> dict[str, object]:
    start = draw(TIME_MS)
    shape = {
        "text": draw(st.text(max_size=8)),
        "start": start,
        "end": draw(TIME_MS),
        "word_is_final": draw(st.booleans()),
    }
    return _fields(draw, shape)


@st.composite
def assemblyai_message(draw: st.DrawFn) -> str | bytes:
    kind = draw(
        st.sampled_from(
            [
                "Turn",
                "Turn",
                "Turn",
                "Begin",
                "Termination",
                "SpeechStarted",
                "SpeakerRevision",
                "Error",
                "Warning",
                "raw",
                "json",
            ]
        )
    )
    if kind == "raw":
        return draw(st.one_of(st.binary(max_size=40), st.text(max_size=40)))
    if kind == "json":
        return json.dumps(draw(ANY))
    shape: dict[str, object] = {"type": kind}
    if kind == "Turn":
        shape |= {
            "turn_order": draw(st.integers(0, 4)),
            "end_of_turn": draw(st.booleans()),
            "turn_is_formatted": draw(st.booleans()),
            "transcript": draw(st.text(max_size=20)),
            "utterance": draw(st.sampled_from(["", "[Silence]", "hello", "[a] b"])),
            "words": draw(st.lists(word(), max_size=4)),
            "speaker_label": draw(st.sampled_from(["A", "B", "UNKNOWN", None])),
            "language_code": draw(st.sampled_from(["en", "fr", ""])),
        }
    elif kind == "Begin":
        shape |= {
            "id": draw(st.text(max_size=8)),
            "expires_at": draw(
                st.one_of(
                    SCALAR, st.sampled_from(["2026-01-01T00:00:00Z", "9999-12-31T23:59:59", "0001-01-01T00:00:00"])
                )
            ),
        }
    elif kind == "Termination":
        shape |= {"audio_duration_seconds": draw(SCALAR), "session_duration_seconds": draw(SCALAR)}
    elif kind == "SpeechStarted":
        shape |= {"timestamp": draw(TIME_MS)}
    elif kind == "SpeakerRevision":
        shape |= {
            "revisions": draw(
                st.lists(
                    st.fixed_dictionaries(
                        {"turn_order": st.integers(0, 4), "speaker_label": st.sampled_from(["A", "C"])}
                    )
                    | ANY,
                    max_size=3,
                )
            )
        }
    else:
        shape |= {"error": draw(SCALAR), "error_code": draw(SCALAR), "warning": draw(SCALAR)}
    return json.dumps(_fields(draw, shape) | {"type": kind})


def _check_events(events: list[EngineEvent]) -> None:
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, EngineEvent), event
        if isinstance(event, Interim | Final):
            assert isinstance(event.text, str) and isinstance(event.line_id, str)


def test_assemblyai_turns_never_raise() -> None:
    captions: list[Final] = []
    with counted("assemblyai turns") as tick:

        @given(st.lists(assemblyai_message(), max_size=12), st.booleans(), st.booleans())
        def run(messages: list[str | bytes], finals_only: bool, timeline: bool) -> None:
            tick()
            tracker = TurnTracker(prefix="p", finals_only=finals_only)
            if timeline:
                tracker.timeline.extend([(0.0, 5.0), (30.0, 5.0)])
            for raw in messages:
                events = tracker.receive(raw)
                _check_events(events)
                captions.extend(e for e in events if isinstance(e, Final))
            for final in tracker.committed_finals():
                assert final.text, "a committed line without text"

        run()
    assert captions, "no message made a caption line: the strategy misses the protocol"


EXTRA_KEYS = st.one_of(st.sampled_from(sorted(KNOWN_EXTRA)), st.text(max_size=8))
EXTRA_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "true",
            "false",
            "0",
            "-1",
            "1e400",
            "nan",
            "inf",
            "50",
            "99999999999",
            "universal-streaming-english",
            "u3-rt-pro",
            "whisper-rt",
            "https://keys.example/",
            " ",
        ]
    ),
)


@st.composite
def engine_options(draw: st.DrawFn) -> EngineOptions:
    return EngineOptions(
        language=draw(
            st.one_of(st.none(), st.sampled_from(["en", "fr", "en-US", "pt_BR", "zz", ""]), st.text(max_size=6))
        ),
        word_boost=tuple(draw(st.lists(st.text(max_size=60), max_size=4))),
        silence_ms=draw(st.one_of(st.none(), st.integers(-10, 100_000))),
        endpoint=draw(
            st.one_of(
                st.none(),
                st.sampled_from(
                    [
                        "wss://streaming.eu.assemblyai.com",
                        "ws://127.0.0.1:1/x",
                        "http://x",
                        "host:99999",
                        "[::1",
                        "ws://:80",
                    ]
                ),
                st.text(max_size=20),
            )
        ),
        extra=draw(st.dictionaries(EXTRA_KEYS, EXTRA_VALUES, max_size=6)),
    )


def test_assemblyai_config_raises_only_value_error() -> None:
    with counted("assemblyai config") as tick:

        @given(engine_options(), engine_options())
        def run(options: EngineOptions, other: EngineOptions) -> None:
            tick()
            try:
                config = parse_config(options)
            except ValueError as exc:
                assert str(exc) and "\n" not in str(exc)
                return
            url = urlsplit(build_url(config, token="t"))
            assert url.scheme in ("ws", "wss") and url.hostname
            try:
                old = parse_config(other)
            except ValueError:
                return
            update = config.live_update(old)
            if update is not None:
                assert json.loads(update_configuration_message(update))["type"] == "UpdateConfiguration"

        run()


TOPIC_NAMES = [
    *["audio_words_decoded", "audio_segment_decoded", "audio_segment_normalized"] * 3,
    "speaker_joined",
    "speaker_left",
    "phx_reply",
    "phx_close",
    "phx_error",
    "entity_x_recognized",
    "relation_y_recognized",
    "tags_set",
    "other",
]


@st.composite
def uhlive_message(draw: st.DrawFn, topic: str) -> str | bytes:
    kind = draw(st.integers(0, 6))
    if kind == 0:
        return draw(st.one_of(st.binary(max_size=30), st.text(max_size=30)))
    if kind == 1:
        return json.dumps(draw(ANY))
    payload = {
        "speaker": draw(st.sampled_from(["me", "me", "other"])),
        "value": draw(st.text(max_size=12)),
        "id": draw(st.one_of(st.integers(0, 3), SCALAR)),
        "length": draw(TIME_MS),
        "components": draw(st.one_of(st.just([]), ANY)),
        "start": draw(TIME_MS),
        "end": draw(TIME_MS),
        "lang": "fr",
        "country": "fr",
        "confidence": draw(SCALAR),
        "status": draw(st.sampled_from(["ok", "error"])),
        "response": draw(st.one_of(st.fixed_dictionaries({"reason": st.text(max_size=5)}), ANY)),
        "annotation": draw(ANY),
        "timestamp": draw(TIME_MS),
    }
    ref = draw(st.sampled_from(["1", "2", None]))
    msg = [
        draw(st.sampled_from(["1", None])),
        ref,
        draw(st.sampled_from([topic, topic, "phoenix"])),
        draw(st.sampled_from(TOPIC_NAMES)),
        _fields(draw, payload),
    ]
    return json.dumps(msg if draw(st.integers(0, 5)) else draw(ANY))


def test_uhlive_conversation_events_through_the_sdk() -> None:
    captions: list[Interim | Final] = []
    with counted("uhlive conversation") as tick:
        topic = Conversation("id", "conv", "me").topic

        @given(st.data())
        def run(data: st.DataObject) -> None:
            tick()
            conv = Conversation("id", "conv", "me")
            conv.join(
                model="fr",
                country="fr",
                readonly=False,
                interim_results=True,
                rescoring=True,
                origin=0,
                audio_codec="linear",
            )
            timeline = conversation.Timeline(origin_ms=data.draw(st.integers(-(10**13), 10**13)))
            timeline.sent.extend([(0.0, 60.0)])
            for raw in data.draw(st.lists(uhlive_message(topic), max_size=10)):
                try:
                    decoded = conversation.decode(raw, conv)
                except UhliveError:
                    continue
                if decoded is None:
                    continue
                line = conversation.line(decoded[1], timeline, speaker="me", engine_id="uhlive")
                assert line is None or isinstance(line, Interim | Final)
                captions.extend([line] if line is not None else [])

        run()
    assert captions, "no message made a caption line: the strategy misses the protocol"


@st.composite
def h2b_message(draw: st.DrawFn) -> str | bytes:
    kind = draw(st.integers(0, 5))
    if kind == 0:
        return draw(st.one_of(st.binary(max_size=30), st.text(max_size=30)))
    if kind == 1:
        return json.dumps(draw(ANY))
    causes = [c.value for c in CompletionCause]
    shape = {
        "event": draw(st.just("RECOGNITION-COMPLETE") | st.sampled_from(sorted(H2B_EVENTS))),
        "request_id": draw(st.integers(0, 9)),
        "channel_id": draw(st.text(max_size=4)),
        "headers": draw(st.one_of(st.just({}), ANY)),
        "completion_cause": draw(st.just("Success") | st.sampled_from(causes) | SCALAR),
        "completion_reason": draw(SCALAR),
        "body": draw(
            st.one_of(
                st.fixed_dictionaries(
                    {
                        "asr": st.fixed_dictionaries(
                            {
                                "transcript": st.text(max_size=10),
                                "confidence": st.floats(0, 1) | SCALAR,
                                "start": st.integers(1_700_000_000_000, 1_700_000_100_000) | TIME_MS,
                                "end": st.integers(1_700_000_000_000, 1_700_000_100_000) | TIME_MS,
                            }
                        ),
                        "nlu": st.none(),
                        "grammar_uri": st.just("x"),
                        "version": st.just("1"),
                    }
                ),
                ANY,
            )
        ),
    }
    return json.dumps(_fields(draw, shape) | {"event": shape["event"]})


WELL_FORMED_RESULT = st.builds(
    lambda text, start: json.dumps(
        {
            "event": "RECOGNITION-COMPLETE",
            "request_id": 1,
            "channel_id": "c",
            "headers": {},
            "completion_cause": "Success",
            "completion_reason": None,
            "body": {
                "asr": {"transcript": text, "confidence": 0.9, "start": start, "end": start + 800},
                "nlu": None,
                "grammar_uri": "builtin:speech/transcribe",
                "version": "1.0",
            },
        }
    ),
    st.from_regex(r"[a-z]{1,8}( [a-z]{1,8}){0,3}", fullmatch=True),
    st.integers(1_700_000_000_000, 1_700_000_030_000),
)


def test_uhlive_h2b_events_through_the_sdk() -> None:
    captions: list[Final] = []
    with counted("uhlive h2b") as tick:

        @given(
            st.lists(h2b_message(), max_size=8),
            st.booleans(),
            st.floats(-10, 1e6),
            WELL_FORMED_RESULT,
            st.integers(0, 8),
        )
        def run(messages: list[str | bytes], audio: bool, lo: float, result: str, at: int) -> None:
            tick()
            messages.insert(at, result)  # among the mangled ones, one result as the service sends it
            recognizer = Recognizer()
            state = SessionState()
            if audio:
                state.audio_start, state.wall_start, state.sent_until = 0.0, 1_700_000_000.0, 30.0
                state.timeline.extend([(0.0, 30.0)])
            for raw in messages:
                event = parse_event(recognizer, raw)
                if not isinstance(event, RecognitionComplete):
                    continue
                try:
                    final = recognition_final(event, raw, state, lo, None, next_id="n", engine_id="uhlive-h2b")
                except EngineFailure as exc:
                    assert exc.message
                    continue
                assert final is None or isinstance(final, Final)
                captions.extend([final] if final is not None and final.text else [])

        run()
    assert captions, "no message made a caption line: the strategy misses the protocol"
