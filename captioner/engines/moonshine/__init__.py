"""The neural offline engine: Moonshine base English on ONNX Runtime."""
