"""The cloud wire layer: what every websocket engine does the same way between its protocol and the socket.

Owns the parts of a cloud engine that are not the vendor's protocol:
:mod:`~captioner.engines.wire.framer` (PCM16 chunks → fixed-size frames that
know where their audio sits on the source timeline), :mod:`~captioner.engines.wire.pacer`
(never faster than real time, by the vendor's rule), :mod:`~captioner.engines.wire.connect`
(opening the websocket, the heartbeat that notices a dead link; HTTP statuses and close codes → ``EngineFailure`` by
one retry policy, with per-vendor close-code tables) and
:mod:`~captioner.engines.wire.logging` (secrets kept out of logs and messages).
The vendors' sans-IO protocol code (AssemblyAI's ``config``/``request``/``turns``/``errors``,
Uhlive's ``uhlive`` SDK) and the engines' runners use it; it knows no vendor.
Protocol facts: ``docs/protocols/assemblyai-v3.md`` and ``docs/protocols/uhlive.md``.
"""
