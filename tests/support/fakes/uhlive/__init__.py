"""Faithful local fakes of the Uhlive services, on 127.0.0.1.

* :class:`FakeTokenServer` (:mod:`.token`): the OIDC token endpoint (client-credentials and
  password grants), a tiny HTTP server.
* :class:`FakeConversationServer` (:mod:`.conversation`): Stream Conversation (Phoenix v2 arrays,
  binary push frames).
* :class:`FakeH2BServer` (:mod:`.h2b`): Stream H2B (7-key event envelope, the session state
  machine, ``confidence_threshold``).

Both websocket fakes "recognise" pure tones (:mod:`.tones`), take a network ``latency`` (a round
trip) and an ``idle_timeout`` (:mod:`.base`). Timers and times are counted in received audio
(bytes), not wall-clock, so tests are deterministic. The fakes are checked against the ``uhlive``
SDK's own builders and parsers in ``tests/uhlive/test_fakes.py``. Protocol facts:
``docs/protocols/uhlive.md``.
"""

from tests.support.fakes.uhlive.base import IDLE_CLOSE, ConnStats
from tests.support.fakes.uhlive.conversation import FakeConversationServer, decode_push
from tests.support.fakes.uhlive.h2b import FakeH2BServer, H2BStats, h2b_event
from tests.support.fakes.uhlive.token import FakeTokenServer
from tests.support.fakes.uhlive.tones import PHRASES, RATE, ToneASR, burst_times, tone_wav

__all__ = [
    "IDLE_CLOSE",
    "PHRASES",
    "RATE",
    "ConnStats",
    "FakeConversationServer",
    "FakeH2BServer",
    "FakeTokenServer",
    "H2BStats",
    "ToneASR",
    "burst_times",
    "decode_push",
    "h2b_event",
    "tone_wav",
]
