"""A pseudo-terminal of a fixed size with ``pyte`` as the terminal emulator: what a person would see.

:class:`PtyScreen` opens a pty, gives its size to the kernel (so ``os.get_terminal_size`` on the writer's
side reads it, as on a real terminal), and feeds every byte written to it into a ``pyte`` screen of the
same size. :meth:`PtyScreen.resize` changes both, like a user dragging the window's edge (``pyte`` clips
rows on narrowing, as xterm does). The line discipline is the kernel's, so ``\\n`` arrives as ``\\r\\n``.
"""

from __future__ import annotations

import fcntl
import io
import os
import select
import struct
import termios
from typing import TextIO

import pyte


def set_winsize(fd: int, columns: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


class PtyScreen:
    """A pty (``slave`` is a text stream to write to, a tty) and the screen it shows."""

    def __init__(self, columns: int, rows: int) -> None:
        self.master, slave_fd = os.openpty()
        set_winsize(slave_fd, columns, rows)
        self.slave_fd = slave_fd
        self.slave: TextIO = io.TextIOWrapper(
            io.FileIO(slave_fd, "w", closefd=True), encoding="utf-8", write_through=True
        )
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)

    def pump(self, timeout: float = 0.02) -> None:
        """Feed the screen everything written so far (waiting up to ``timeout`` for the first bytes)."""
        wait = timeout
        while True:
            ready, _, _ = select.select([self.master], [], [], wait)
            if not ready:
                return
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.stream.feed(data)
            wait = 0.002

    def resize(self, columns: int, rows: int) -> None:
        self.pump()
        set_winsize(self.master, columns, rows)
        self.screen.resize(rows, columns)

    def rows(self) -> list[str]:
        """The screen's rows, trailing blanks removed, trailing empty rows dropped."""
        self.pump()
        out = [row.rstrip() for row in self.screen.display]
        while out and not out[-1]:
            out.pop()
        return out

    def raw(self) -> str:
        """Everything on the screen, row after row, blanks kept."""
        self.pump()
        return "".join(self.screen.display)

    def text_rows(self) -> list[str]:
        """The rows that show something."""
        return [r for r in self.rows() if r]

    def close(self) -> None:
        self.slave.close()
        os.close(self.master)


def wrapped(text: str, columns: int) -> list[str]:
    """``text`` as a terminal ``columns`` wide wraps it (one cell per character)."""
    return [text[i : i + columns].rstrip() for i in range(0, len(text), columns)] or [""]
