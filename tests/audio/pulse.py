"""A real PulseAudio daemon with null sinks, for the system-audio tests (the fixtures are in conftest.py).

The daemon runs in the foreground of a child process (so that we own its pid),
with its own runtime directory and socket; tests reach it through
``PULSE_SERVER``. Two null sinks: ``captioner_test`` is the default sink (what
"the computer plays"); ``captioner_other`` is silent, and its monitor is made
the default *source*, so a capture that ignores ``PULSE_SOURCE`` records silence
and fails the tests.

If the daemon cannot start, the tests are skipped, except on CI (``CI`` set)
where the system-audio test is mandatory and the fixture fails instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

SINK = "captioner_test"
OTHER_SINK = "captioner_other"


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"PulseAudio test daemon unavailable on CI (this test is mandatory there): {reason}")
    pytest.skip(f"PulseAudio test daemon unavailable: {reason}")


@dataclass
class PulseServer:
    socket: Path
    runtime_dir: Path
    process: subprocess.Popen[bytes]
    sink: str = SINK
    other_sink: str = OTHER_SINK

    @property
    def server(self) -> str:
        return f"unix:{self.socket}"

    @property
    def monitor(self) -> str:
        return f"{self.sink}.monitor"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PULSE_SERVER"] = self.server
        env.pop("PULSE_SOURCE", None)
        env.pop("PULSE_SINK", None)
        return env

    def pactl(self, *args: str) -> str:
        return subprocess.run(
            ["pactl", *args], env=dict(self.env(), LC_ALL="C"), capture_output=True, text=True, check=True, timeout=10
        ).stdout

    def play(self, wav: Path, sink: str | None = None) -> subprocess.Popen[bytes]:
        """Start playing ``wav`` into ``sink`` (default: the test sink) with paplay."""
        return subprocess.Popen(
            ["paplay", "--latency-msec=30", f"--device={sink or self.sink}", str(wav)],
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def recording_streams(self) -> list[str]:
        """Source outputs (recording streams) currently connected, as `pactl list short source-outputs` lines."""
        return [line for line in self.pactl("list", "short", "source-outputs").splitlines() if line.strip()]

    def wait_for_recording(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.recording_streams():
                return
            time.sleep(0.05)  # polling a condition, not waiting for time to pass
        raise AssertionError("no recording stream connected to the PulseAudio server")


@contextlib.contextmanager
def started_pulse_server() -> Iterator[PulseServer]:
    """Start the daemon (or skip/fail, see the module docstring); stop it and remove its directory on exit."""
    for tool in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(tool) is None:
            _unavailable(f"`{tool}` is not installed (Debian: pulseaudio pulseaudio-utils)")
    # Short path: a unix socket path must fit in 108 bytes.
    runtime = Path(tempfile.mkdtemp(prefix="captioner-pulse-"))
    socket = runtime / "native"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HOME=str(runtime), LC_ALL="C")
    for var in ("PULSE_SERVER", "PULSE_SOURCE", "PULSE_SINK", "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(var, None)
    cmd = [
        "pulseaudio",
        "--daemonize=no",
        "--system=false",
        "-n",  # no default script: only the modules below
        "--exit-idle-time=-1",
        "--disallow-exit",
        "--use-pid-file=no",
        "--log-target=stderr",
        f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
        f"--load=module-null-sink sink_name={SINK} rate=48000",
        f"--load=module-null-sink sink_name={OTHER_SINK} rate=48000",
    ]
    log = open(runtime / "pulseaudio.log", "wb")  # noqa: SIM115 - kept open for the daemon's lifetime
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = PulseServer(socket, runtime, proc)
    try:
        deadline = time.monotonic() + 15.0
        ready = False
        while time.monotonic() < deadline and proc.poll() is None:
            if socket.exists():
                try:
                    server.pactl("info")
                    ready = True
                    break
                except subprocess.CalledProcessError:
                    pass
            time.sleep(0.05)  # polling the daemon's readiness
        if not ready:
            tail = (runtime / "pulseaudio.log").read_text(errors="replace")[-600:]
            _unavailable(f"pulseaudio did not come up (exit status {proc.poll()}): {tail}")
        server.pactl("set-default-sink", SINK)
        server.pactl("set-default-source", f"{OTHER_SINK}.monitor")
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()
        shutil.rmtree(runtime, ignore_errors=True)
