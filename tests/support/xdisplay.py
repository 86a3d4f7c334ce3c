"""A real X display for tests where the window manager matters: Xvfb, a window manager, xcompmgr, X tools.

:func:`x_display` starts Xvfb on a free display number (``-displayfd``), then a window manager — openbox, or
xfwm4 (Xfce's, in a D-Bus session of its own, its compositor off) — waiting until it has claimed the screen,
and the xcompmgr compositor; :func:`xvfb_wm` is the same as a module-scoped pytest fixture (openbox), and
:func:`any_wm` runs a test module under each window manager. :class:`XDisplay` runs ``xdotool``,
``xwininfo`` and ``xprop`` against it and starts ``xev`` windows that record the clicks they get. Everything
started here is ended here, by its process id.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TOOLS = ("Xvfb", "xcompmgr", "xdotool", "xev", "xwininfo", "xprop")
WINDOW_MANAGERS = {
    "openbox": ["openbox", "--sm-disable"],
    "xfwm4": ["dbus-run-session", "--", "xfwm4", "--compositor=off"],
}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def wait_for(cond: object, timeout: float = 10.0, step: float = 0.05) -> bool:
    """Poll ``cond()`` until it is true or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(step)
    return bool(cond())  # type: ignore[operator]


@dataclass
class ClickRecorder:
    """An ``xev`` window that logs the button presses it receives."""

    proc: subprocess.Popen[bytes]
    log: Path
    window: int

    def presses(self) -> list[tuple[int, int]]:
        """Root coordinates of every ButtonPress so far."""
        text = self.log.read_text(errors="replace")
        return [
            (int(m.group(1)), int(m.group(2)))
            for m in re.finditer(r"ButtonPress event.*?root:\((-?\d+),(-?\d+)\)", text, re.S)
        ]


@dataclass
class XDisplay:
    """A running X display with a window manager and a compositor."""

    name: str
    width: int
    height: int
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="captioner-x-")))

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ, DISPLAY=self.name, QT_QPA_PLATFORM="xcb")
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def run(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=30)
        if check and out.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {out.stderr.strip()}")
        return out.stdout

    def xdotool(self, *args: str) -> str:
        return self.run("xdotool", *args)

    def find_window(self, name: str, timeout: float = 20.0) -> int:
        """The id of the visible window titled ``name`` (waiting for it)."""
        found: list[int] = []

        def look() -> bool:
            out = self.run("xdotool", "search", "--onlyvisible", "--name", f"^{re.escape(name)}$", check=False)
            found[:] = [int(w) for w in out.split()]
            return bool(found)

        if not wait_for(look, timeout):
            raise AssertionError(f"no window named {name!r} appeared")
        return found[0]

    def frame_of(self, window: int) -> int:
        """The top-level window holding ``window``: the window manager's frame (or ``window`` itself)."""
        current = window
        while True:
            info = self.run("xwininfo", "-children", "-id", str(current))
            parent = int(re.search(r"Parent window id: (0x[0-9a-f]+)", info).group(1), 16)  # type: ignore[union-attr]
            root = int(re.search(r"Root window id: (0x[0-9a-f]+)", info).group(1), 16)  # type: ignore[union-attr]
            if parent == root:
                return current
            current = parent

    def window_under_pointer(self) -> int:
        """The top-level window that gets the pointer's events where it is now (input shapes included)."""
        out = self.xdotool("getmouselocation", "--shell")
        return int(re.search(r"WINDOW=(\d+)", out).group(1))  # type: ignore[union-attr]

    def geometry(self, window: int) -> tuple[int, int, int, int]:
        info = self.run("xwininfo", "-id", str(window))

        def num(label: str) -> int:
            return int(re.search(rf"{label}:\s+(-?\d+)", info).group(1))  # type: ignore[union-attr]

        return num("Absolute upper-left X"), num("Absolute upper-left Y"), num("Width"), num("Height")

    def stacking(self) -> list[int]:
        """Managed windows, bottom to top (``_NET_CLIENT_LIST_STACKING``)."""
        out = self.run("xprop", "-root", "_NET_CLIENT_LIST_STACKING")
        return [int(w, 16) for w in re.findall(r"0x[0-9a-f]+", out)]

    def click_recorder(
        self, x: int = 0, y: int = 0, width: int | None = None, height: int | None = None
    ) -> ClickRecorder:
        """An ``xev`` window at (x, y) that records clicks (default: the whole screen)."""
        w, h = width or self.width, height or self.height
        log = self._tmp / f"xev-{len(self._procs)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                ["xev", "-geometry", f"{w}x{h}+{x}+{y}", "-event", "button"],
                env=self.env,
                stdout=out,
                stderr=subprocess.DEVNULL,
            )
        self._procs.append(proc)
        return ClickRecorder(proc, log, self.find_window("Event Tester"))

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        _stop(proc)


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb with the Composite extension on a free display number: the process and the display name, once
    the server accepts connections."""
    rfd, wfd = os.pipe()
    server = ["Xvfb", "-displayfd", str(wfd), "-screen", "0", f"{width}x{height}x24"]
    xvfb = subprocess.Popen(
        [*server, "-nolisten", "tcp", "+extension", "Composite"],
        pass_fds=(wfd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(wfd)
    with os.fdopen(rfd) as f:
        number = f.readline().strip()  # written once the server accepts connections
    return xvfb, f":{number}"


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process started here (by its id), waiting for it."""
    _stop(proc)


@contextlib.contextmanager
def x_display(width: int = 1280, height: int = 720, wm: str = "openbox") -> Iterator[XDisplay]:
    """Xvfb (with Composite) + the window manager ``wm`` + xcompmgr, ready for windows."""
    missing = [t for t in (*TOOLS, WINDOW_MANAGERS[wm][0], WINDOW_MANAGERS[wm][-2]) if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} needed (scripts/setup --dev installs them)")
    xvfb, name = start_xvfb(width, height)
    d = XDisplay(name, width, height)
    procs = [xvfb]
    try:
        manager = subprocess.Popen(WINDOW_MANAGERS[wm], env=d.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(manager)
        if not wait_for(lambda: "window id" in d.run("xprop", "-root", "_NET_SUPPORTING_WM_CHECK", check=False), 30):
            raise RuntimeError(f"{wm} did not start")
        comp = subprocess.Popen(["xcompmgr"], env=d.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(comp)
        yield d
    finally:
        for p in d._procs:
            _stop(p)
        for p in reversed(procs):
            _stop(p)
        shutil.rmtree(d._tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def xvfb_wm() -> Iterator[XDisplay]:
    """A display with a real window manager (openbox) and compositor (xcompmgr), shared by a test module."""
    with x_display() as d:
        yield d


@pytest.fixture(scope="module", params=sorted(WINDOW_MANAGERS))
def any_wm(request: pytest.FixtureRequest) -> Iterator[XDisplay]:
    """Like :func:`xvfb_wm`, once with each window manager."""
    with x_display(wm=request.param) as d:
        yield d
