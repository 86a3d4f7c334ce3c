"""A faithful fake of AssemblyAI Universal-Streaming v3 on 127.0.0.1 (a real websockets server).

It implements the documented protocol (``docs/protocols/assemblyai-v3.md``), including its error
paths, and is checked against the official ``assemblyai`` SDK in ``tests/assemblyai/test_fake_server.py``:

* ``GET /v3/ws`` upgrade; credentials from the ``Authorization`` header (raw key or temporary
  token) or ``?token=``; bad credentials → upgrade, no Begin, close 1008 ``Unauthorized
  Connection: …`` (or HTTP 401 with ``reject_http=True``); a transient 1008 on demand;
* query parameters recorded and parsed (booleans in any case, JSON lists); parameters only the
  Universal-3 Pro family takes are refused for other models (3006); model-specific defaults;
* ``Begin`` first; binary audio only, each frame 50–1000 ms (else 3007 "Input duration
  violation"), never faster than real time (else 3007 "Audio Transmission Rate Exceeded"), at
  most 128 KB (else 1009);
* text frames: bad JSON / not an object / unknown type → 3006; ``Terminate`` → in-flight turn,
  ``SpeakerRevision`` (with speaker labels), ``Termination``, close 1000; ``ForceEndpoint`` → end
  the current turn; ``KeepAlive``; ``UpdateConfiguration`` applied and recorded;
* scripted turns driven by the audio received, in the shape of the model asked for (see
  :mod:`.models` and :mod:`.turns`): Universal-Streaming in the 2025 style (a second, formatted
  end-of-turn message, optionally late) or the 2026 style (formatted in place); the U3 shape;
  Whisper's ``[Silence]`` and tagged non-speech turns; speaker labels and ``language_code``;
* faults at a given audio time of a given connection: abrupt drop (client sees 1006), ``Error``
  frame + 3005, session expiry 3008 (also ``max_session_s``), an inactivity close, a 1008;
* ``GET /v3/token`` (one-time tokens) and an organisation's token service (``GET /org/token``).

Scripted words live on the *source* timeline. Given ``reference_pcm`` (the PCM16 the client is
expected to send), the fake finds where each connection's frames sit in it (``ConnRecord.runs``),
so a reconnect that replays audio gets the right words with times in *audio received on that
connection*, exactly like the real service, also when the client skipped part of a pause to
catch up (the service only counts what it received; turn silence too).
"""

from tests.support.fakes.assemblyai.records import ConnRecord
from tests.support.fakes.assemblyai.script import Fault, ScriptTurn, Word, make_turn
from tests.support.fakes.assemblyai.server import FakeAssemblyAI

__all__ = ["ConnRecord", "FakeAssemblyAI", "Fault", "ScriptTurn", "Word", "make_turn"]
