"""The light offline engine ``local``: PocketSphinx with its bundled US-English model (low-power machines, and the
fallback when the neural engine cannot run). :mod:`~captioner.engines.local.engine` is the engine class."""
