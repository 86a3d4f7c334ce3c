"""AssemblyAI Universal-Streaming (v3): sans-IO protocol modules (config, request, turns, errors, audio) and the
websocket runner (:mod:`~captioner.engines.assemblyai.connection`, :mod:`~captioner.engines.assemblyai.engine`).
Protocol facts: ``docs/protocols/assemblyai-v3.md``."""
