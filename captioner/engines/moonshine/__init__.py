"""The neural offline engine ``moonshine``: Moonshine base English on ONNX Runtime.

:mod:`.engine` is the engine (``MoonshineEngine``); :mod:`.recognizer` turns PCM into caption events with
:mod:`.vad` (Silero), :mod:`.segmenter`, :mod:`.decoder`, :mod:`.tokenizer` and :mod:`.biasing` (word boost);
:mod:`.settings` parses its options; :mod:`.model` (with :mod:`.convert`, :mod:`.download`, :mod:`.cache`)
prepares the model files. Importing this package loads neither ONNX Runtime nor the model.
"""
