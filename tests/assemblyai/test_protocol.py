"""The sans-IO AssemblyAI v3 protocol object: no sockets, just messages in and events out."""

from __future__ import annotations

import json
import warnings
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from captioner.captions.events import Final, Interim, Notice, SpeechStarted, Status, Usage
from captioner.engines.assemblyai.audio import MAX_FRAME_BYTES, AudioFramer, mulaw_decode, mulaw_encode
from captioner.engines.assemblyai.config import normalize_endpoint, parse_config, silence_mapping
from captioner.engines.assemblyai.engine import AssemblyAIEngine
from captioner.engines.assemblyai.errors import failure_for_close, failure_for_http
from captioner.engines.assemblyai.request import build_url, redact, token_url, update_configuration_message
from captioner.engines.assemblyai.turns import SessionInfo, TurnTracker
from captioner.engines.base import Credentials, EngineOptions


def turn(order: int, transcript: str, words: list[tuple[str, bool]], *, eot: bool = False, fmt: bool = False) -> str:
    return json.dumps(
        {
            "type": "Turn",
            "turn_order": order,
            "turn_is_formatted": fmt,
            "end_of_turn": eot,
            "transcript": transcript,
            "end_of_turn_confidence": 0.5,
            "words": [
                {"start": 100 * i, "end": 100 * i + 80, "text": t, "confidence": 0.9, "word_is_final": f}
                for i, (t, f) in enumerate(words)
            ],
        }
    )


def test_interim_is_transcript_plus_tentative_tail_never_words_last_appended() -> None:
    tr = TurnTracker(offset=10.0)
    # Early partial: empty transcript, a non-final word: still shown.
    [ev] = tr.receive(turn(0, "", [("hi", False)]))
    assert isinstance(ev, Interim) and (ev.text, ev.tail, ev.line_id) == ("hi", "hi", "0")
    assert ev.start == 10.0 and ev.end == 10.08
    # transcript holds the final words; the last word is final → nothing appended twice.
    [ev] = tr.receive(turn(0, "hi my", [("hi", True), ("my", True)]))
    assert isinstance(ev, Interim) and (ev.text, ev.tail) == ("hi my", "")
    [ev] = tr.receive(turn(0, "hi my", [("hi", True), ("my", True), ("name", False), ("is", False)]))
    assert isinstance(ev, Interim) and (ev.text, ev.tail, ev.stable) == ("hi my name is", "name is", "hi my")


def test_end_of_turn_commits_and_a_second_formatted_message_replaces() -> None:
    tr = TurnTracker(prefix="s1-")
    tr.receive(turn(3, "", [("hello", False)]))
    [f1] = tr.receive(turn(3, "hello world", [("hello", True), ("world", True)], eot=True))
    [f2] = tr.receive(turn(3, "Hello world.", [("hello", True), ("world", True)], eot=True, fmt=True))
    assert isinstance(f1, Final) and isinstance(f2, Final)
    assert (f1.line_id, f1.text, f1.formatted) == ("s1-3", "hello world", False)
    assert (f2.line_id, f2.text, f2.formatted) == ("s1-3", "Hello world.", True)
    # An identical repeat adds nothing; a late partial of a committed turn is ignored.
    assert tr.receive(turn(3, "Hello world.", [("hello", True), ("world", True)], eot=True, fmt=True)) == []
    assert tr.receive(turn(3, "hello", [("hello", True)])) == []
    assert not tr.has_open_turn


def test_finals_only_suppresses_interims() -> None:
    tr = TurnTracker(finals_only=True)
    assert tr.receive(turn(0, "a", [("a", True), ("b", False)])) == []
    assert tr.has_open_turn
    [f] = tr.receive(turn(0, "a b", [("a", True), ("b", True)], eot=True))
    assert isinstance(f, Final) and f.text == "a b"


def test_session_messages() -> None:
    tr = TurnTracker(offset=2.0)
    [st] = tr.receive(json.dumps({"type": "Begin", "id": "abc", "expires_at": 1759796682}))
    assert isinstance(st, Status) and "abc" in st.message and tr.session == SessionInfo("abc", 1759796682.0)
    tr2 = TurnTracker()
    tr2.receive(json.dumps({"type": "Begin", "id": "x", "expires_at": "2025-10-07T00:24:42"}))
    assert tr2.session is not None and tr2.session.expires_at == 1759796682.0
    [sp] = tr.receive(json.dumps({"type": "SpeechStarted", "timestamp": 1216, "confidence": 0.9}))
    assert isinstance(sp, SpeechStarted) and sp.at == 3.216
    [u] = tr.receive(json.dumps({"type": "Termination", "audio_duration_seconds": 12, "session_duration_seconds": 13}))
    assert u == Usage(engine="assemblyai", audio_seconds=12.0, session_seconds=13.0, session_id="abc") and tr.terminated
    [n] = tr.receive(json.dumps({"type": "Warning", "warning_code": 1, "warning": "slow down"}))
    assert isinstance(n, Notice) and "slow down" in n.message
    assert tr.receive(json.dumps({"type": "Error", "error_code": 3005, "error": "boom"})) == []
    assert (tr.server_error, tr.server_error_code) == ("boom", 3005)


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "[]",
        '{"type": "Turn"}',
        '{"type": "Turn", "turn_order": "x", "words": []}',
        '{"type": "Turn", "turn_order": 0, "words": 5}',
        '{"type": "Heartbeat", "total_audio_received_ms": 1}',
        '{"type": "SomethingNew"}',
    ],
)
def test_malformed_or_unknown_messages_are_skipped(raw: str) -> None:
    tr = TurnTracker()
    assert tr.receive(raw) == []
    # …and the tracker keeps working afterwards.
    assert tr.receive(turn(0, "ok", [("ok", True)], eot=True))[0] == Final(
        line_id="0", text="ok", engine="assemblyai", start=0.0, end=0.08, formatted=False
    )


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        (None, "wss://streaming.assemblyai.com/v3/ws"),
        ("eu", "wss://streaming.eu.assemblyai.com/v3/ws"),
        ("US", "wss://streaming.us.assemblyai.com/v3/ws"),
        ("streaming.eu.assemblyai.com", "wss://streaming.eu.assemblyai.com/v3/ws"),
        ("ws://127.0.0.1:8765", "ws://127.0.0.1:8765/v3/ws"),
        ("wss://proxy.example.com/aai/v3/ws/", "wss://proxy.example.com/aai/v3/ws"),
        ("https://proxy.example.com", "wss://proxy.example.com/v3/ws"),
    ],
)
def test_endpoints(endpoint: str | None, url: str) -> None:
    assert normalize_endpoint(endpoint) == url


@pytest.mark.parametrize("bad", ["ftp://x", "ws://", "ws://host:99999", "wss://bad host"])
def test_bad_endpoints(bad: str) -> None:
    with pytest.raises(ValueError, match="AssemblyAI endpoint"):
        normalize_endpoint(bad)


def test_silence_mapping_reproduces_the_vendor_presets() -> None:
    assert silence_mapping(1280) == (400, 1280)  # balanced
    assert silence_mapping(400) == (160, 400)  # aggressive
    assert silence_mapping(100) == (100, 100)
    assert silence_mapping(3600) == (1125, 3600)


def test_url_query() -> None:
    cfg = parse_config(
        EngineOptions(
            language="fr",
            word_boost=("Keanu Reeves", "AssemblyAI"),
            silence_ms=800,
            extra={"end_of_turn_confidence_threshold": "0.7"},
        )
    )
    url = build_url(cfg, token="tok-1")
    q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith("wss://streaming.assemblyai.com/v3/ws?")
    assert q == {
        "sample_rate": "16000",
        "encoding": "pcm_s16le",
        "speech_model": "universal-streaming-multilingual",
        "format_turns": "true",
        "keyterms_prompt": '["Keanu Reeves", "AssemblyAI"]',
        "min_turn_silence": "250",
        "max_turn_silence": "800",
        "end_of_turn_confidence_threshold": "0.7",
        "language_detection": "true",
        "token": "tok-1",
    }
    assert "tok-1" not in redact(url)
    # Live: only what changed, as UpdateConfiguration fields; clearing restores the model's defaults.
    cleared = parse_config(EngineOptions(language="fr"))
    assert cleared.live_update(cfg) == {
        "keyterms_prompt": [],
        "min_turn_silence": 400,
        "max_turn_silence": 1280,
        "end_of_turn_confidence_threshold": 0.4,
    }
    assert json.loads(update_configuration_message({"keyterms_prompt": []})) == {
        "type": "UpdateConfiguration",
        "keyterms_prompt": [],
    }
    assert cfg.live_update(cfg) == {}
    assert parse_config(EngineOptions(language="de")).live_update(cfg) is None  # another language: a new session
    assert token_url(parse_config(EngineOptions(endpoint="ws://127.0.0.1:5"))) == (
        "http://127.0.0.1:5/v3/token?expires_in_seconds=60"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"chunk_ms": "20"}, "chunk_ms must be an integer between 50 and 1000"),
        ({"chunk_ms": "abc"}, "chunk_ms must be a number"),
        ({"encoding": "opus"}, "encoding must be one of pcm_s16le, pcm_mulaw"),
        ({"format_turns": "maybe"}, "format_turns must be true or false"),
        ({"end_of_turn_confidence_threshold": "2"}, "between 0 and 1"),
        ({"min_turn_silence": "900", "max_turn_silence": "500"}, "must not exceed"),
        ({"speech_model": "Bad Model!"}, "speech_model looks wrong"),
    ],
)
def test_bad_options_are_clear_errors(extra: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AssemblyAIEngine(EngineOptions(extra=extra), Credentials(api_key="k"))


def test_unknown_option_is_a_warning() -> None:
    engine = AssemblyAIEngine(EngineOptions(extra={"colour": "red"}), Credentials(api_key="k"))
    assert engine.validate() == ["unknown AssemblyAI option(s) ignored: colour"]


def test_capabilities() -> None:
    caps = AssemblyAIEngine.capabilities
    assert caps.sample_rate == 16000 and caps.interim_results and caps.word_boost and caps.live_update
    assert caps.silence_threshold and caps.needs_credentials and caps.realtime_input
    assert (caps.word_boost_limits.max_terms, caps.word_boost_limits.max_term_chars) == (100, 50)
    assert AssemblyAIEngine.check_available() == (True, "ready (needs an AssemblyAI API key)")


def test_framer_cuts_exact_frames_and_pads_the_last() -> None:
    fr = AudioFramer(16000, 100)
    assert list(fr.push(b"\x01\x00" * 1000, 5.0, 1.0)) == []  # 62.5 ms: not a full frame yet
    [f] = fr.push(b"\x02\x00" * 2000, 5.0625, 2.0)
    assert (len(f.payload), f.start, f.duration, f.captured_at) == (3200, 5.0, 0.1, (1.0, 2.0))
    [rest] = fr.flush()
    assert (len(rest.payload), rest.start) == (2800, 5.1)
    assert list(fr.push(b"\x03\x00" * 100, 9.0)) == []
    [short] = fr.flush()
    assert len(short.payload) == 1600 and short.payload.startswith(b"\x03\x00" * 100)  # padded to 50 ms
    big = AudioFramer(16000, 1000)
    [f] = list(big.push(b"\x00" * 32000, 0.0))
    assert len(f.payload) == 32000 <= MAX_FRAME_BYTES


def test_mulaw_is_bit_exact_with_audioop() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop

    pcm = np.arange(-32768, 32768, dtype="<i2").tobytes()
    assert mulaw_encode(pcm) == audioop.lin2ulaw(pcm, 2)
    assert mulaw_decode(mulaw_encode(pcm)) == audioop.ulaw2lin(audioop.lin2ulaw(pcm, 2), 2)
    fr = AudioFramer(16000, 50, "pcm_mulaw")
    [f] = list(fr.push(b"\x00\x10" * 800, 0.0))
    assert len(f.payload) == 800 and f.duration == 0.05


@pytest.mark.parametrize(
    ("code", "reason", "retryable", "refused", "text"),
    [
        (1000, "", None, None, None),
        (1008, "Unauthorized Connection: Missing Authorization header", False, True, "AssemblyAI rejected the API key"),
        (1008, "Unauthorized Connection: Invalid API key", True, False, "AssemblyAI refused the connection"),
        (1008, "Unauthorized connection: Too many concurrent sessions", True, False, "too many concurrent"),
        (3005, "Session Cancelled: An error occurred", True, False, "AssemblyAI server error"),
        (3006, "Invalid JSON: x", True, False, "a Captioner bug"),
        (3007, "Input duration violation: 20 ms.", True, False, "a Captioner bug"),
        (3008, "Session Expired: Maximum session duration exceeded", True, False, "session expired"),
        (3009, "", True, False, "too many concurrent"),
        (1006, "", True, False, "connection to AssemblyAI lost"),
        (None, "", True, False, "connection to AssemblyAI lost"),
        (1011, "", True, False, "internal error"),
        (4444, "", True, False, "code 4444"),
    ],
)
def test_close_codes(
    code: int | None, reason: str, retryable: bool | None, refused: bool | None, text: str | None
) -> None:
    f = failure_for_close(code, reason)
    if retryable is None:
        assert f is None
        return
    assert text is not None
    assert f is not None and f.retryable is retryable and f.refused is refused and text in f.message


def test_http_rejections() -> None:
    f = failure_for_http(401, '{"error": "Invalid API key"}')
    assert (f.message, f.refused, f.retryable) == ("AssemblyAI rejected the API key: Invalid API key", True, False)
    assert failure_for_http(503).retryable
    assert not failure_for_http(400).retryable


def test_redact_hides_secrets() -> None:
    creds = Credentials(api_key="sekret-key")
    assert redact("x sekret-key y ?token=abc&z=1", creds) == "x *** y ?token=***&z=1"
    assert "sekret" not in repr(creds)


def test_a_committed_turn_carries_its_word_times() -> None:
    tr = TurnTracker(offset=10.0)
    [ev] = tr.receive(turn(0, "Hello world.", [("Hello", True), ("world.", True)], eot=True, fmt=True))
    assert isinstance(ev, Final)
    assert [(w.text, w.start, w.end) for w in ev.words] == [("Hello", 10.0, 10.08), ("world.", 10.1, 10.18)]
