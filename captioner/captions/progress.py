"""A progress line on the terminal's standard error, for long first-use steps (preparing the speech model).

On a terminal the line is redrawn in place as a bar with its percentage and ends with a newline at 100 %; into
a file or a pipe only whole steps are written, one line each, so logs stay readable.
"""

from __future__ import annotations

from typing import TextIO

BAR_WIDTH = 24


class ProgressLine:
    """Shows ``(message, fraction)`` updates on ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = ""
        self._open = False

    def show(self, message: str, fraction: float) -> None:
        fraction = min(1.0, max(0.0, fraction))
        if self._tty:
            filled = round(fraction * BAR_WIDTH)
            bar = "█" * filled + "·" * (BAR_WIDTH - filled)
            self.stream.write(f"\r\x1b[2Kcaptioner: [{bar}] {message}")
            self._open = fraction < 1.0
            if not self._open:
                self.stream.write("\n")
        else:
            step = message.split(" (")[0]
            if step != self._last or fraction >= 1.0:
                self.stream.write(f"captioner: {message}\n")
            self._last = step
        self.stream.flush()

    def close(self) -> None:
        """End an unfinished bar (e.g. the step failed) so that the next message starts on its own line."""
        if self._open:
            self.stream.write("\n")
            self._open = False
