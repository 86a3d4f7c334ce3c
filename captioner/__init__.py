"""Captioner: live captions of your microphone or of what your computer plays."""

__version__ = "0.1.0"
