"""Desktop app figures: launch → overlay visible, caption event → overlay repaint, CPU and RSS idle / captioning.

    .venv/bin/python benchmarks/bench_ui.py            # all
    .venv/bin/python benchmarks/bench_ui.py --quick    # fewer repetitions

Targets (the README's performance table): start ≤ 1.0 s, event→paint p95 ≤ 16 ms, idle CPU ≈ 0.
Start-up and repaint are measured on the offscreen platform and, when Xvfb and xcompmgr are installed,
on a real X server with a compositor. CPU/RSS: the real app (``python -m captioner.app``) captioning a
speech WAV at 1× speed with the default engine (Moonshine) and with PocketSphinx, and the same app idle.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SPEECH = (
    "it was the best of times it was the worst of times it was the age of wisdom it was the age of foolishness "
    "it was the epoch of belief it was the epoch of incredulity it was the season of light it was the season of "
    "darkness it was the spring of hope it was the winter of despair"
)
TEXT = SPEECH.split()


# -- children ------------------------------------------------------------------------------------------------


def child_startup() -> None:
    """Start the app as `captioner` does (settings, QApplication, qasync, DesktopApp) and exit at first paint."""
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    from captioner import settings as settings_store
    from captioner.ui.desktop import DesktopApp

    settings = settings_store.load().with_changes(autostart_captions=False)
    qapp = QApplication([sys.argv[0]])
    qapp.setQuitOnLastWindowClosed(False)

    async def run() -> None:
        app = DesktopApp(settings, persist=False)
        painted = asyncio.Event()
        app.overlay.paint_hook = painted.set
        app.start()
        await painted.wait()
        print(f"painted {time.time():.6f}", flush=True)
        await app.shutdown()

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
        runner.run(run())


def child_repaint(n: int) -> None:
    """Event → paint latency of the overlay, in ms, for ``n`` caption changes (interim updates and commits)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop
    from PySide6.QtWidgets import QApplication

    from captioner.captions.transcript import Change, Line
    from captioner.settings import Appearance, OverlaySettings
    from captioner.ui.overlay import CaptionOverlay

    app = QApplication([sys.argv[0]])
    ov = CaptionOverlay(Appearance(lines=2, clear_after_s=0), OverlaySettings())
    ov.place()
    ov.show()
    deadline = time.monotonic() + 10
    while not (ov.windowHandle() and ov.windowHandle().isExposed()) and time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
    painted = [0.0]

    def hook() -> None:
        painted[0] = time.perf_counter()

    ov.paint_hook = hook
    lat: list[float] = []
    line, words = 0, []
    for i in range(n):
        words.append(TEXT[i % len(TEXT)])
        final = len(words) >= 9
        text = " ".join(words)
        change = Change(
            kind="commit" if final else "interim", line=Line(line_id=str(line), text=text, final=final, engine="bench")
        )
        painted[0] = 0.0
        t0 = time.perf_counter()
        ov.on_change(change)
        while painted[0] == 0.0:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
            if time.perf_counter() - t0 > 2:
                break
        lat.append((painted[0] - t0) * 1000 if painted[0] else 2000.0)
        if final:
            line, words = line + 1, []
    print(json.dumps(lat))


# -- parent --------------------------------------------------------------------------------------------------


def _env(tmp: Path, platform: str, display: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM=platform,
        CAPTIONER_CONFIG_DIR=str(tmp / "config"),
        CAPTIONER_DATA_DIR=str(tmp / "data"),
        CAPTIONER_LOG_DIR=str(tmp / "log"),
        PYTHONPATH=str(REPO),
    )
    if display:
        env["DISPLAY"] = display
    return env


def startup(tmp: Path, platform: str, display: str | None, reps: int) -> list[float]:
    times = []
    for _ in range(reps):
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, __file__, "--child-startup"],
            env=_env(tmp, platform, display),
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        stamp = [ln for ln in out.splitlines() if ln.startswith("painted ")]
        if stamp:
            times.append(float(stamp[0].split()[1]) - t0)
    return times


def repaint(tmp: Path, platform: str, display: str | None, n: int) -> list[float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child-repaint", str(n)],
        env=_env(tmp, platform, display),
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return list(json.loads(out.strip().splitlines()[-1]))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def app_usage(tmp: Path, args: list[str], settle: float, window: float) -> tuple[float, float]:
    """(CPU % of one core, RSS MB) of the real app over ``window`` seconds after ``settle`` seconds."""
    env = _env(tmp, "offscreen")
    proc = subprocess.Popen(
        [sys.executable, "-m", "captioner.app", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(settle)  # a benchmark measuring a time window, not a test waiting for a condition
        c0, t0 = _cpu_seconds(proc.pid), time.monotonic()
        time.sleep(window)
        c1, t1 = _cpu_seconds(proc.pid), time.monotonic()
        rss = _rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return 100 * (c1 - c0) / (t1 - t0), rss


def _xserver() -> tuple[str, list[subprocess.Popen[bytes]]] | None:
    if not (shutil.which("Xvfb") and shutil.which("xcompmgr")):
        return None
    rfd, wfd = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(wfd), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=(wfd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(wfd)
    with os.fdopen(rfd) as f:
        display = ":" + f.readline().strip()
    comp = subprocess.Popen(["xcompmgr", "-d", display], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return display, [comp, xvfb]


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> None:
    quick = "--quick" in sys.argv
    reps, n = (3, 200) if quick else (7, 600)
    from tests.support.speech import speech_wav

    wav = speech_wav("two_cities.wav")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, {os.uname().machine}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        x = _xserver()
        platforms: list[tuple[str, str | None]] = [("offscreen", None)]
        if x:
            platforms.append(("xcb", x[0]))
        try:
            for platform, display in platforms:
                label = platform + (" (Xvfb + xcompmgr)" if display else "")
                st = startup(tmp, platform, display, reps)
                if st:
                    print(
                        f"launch → overlay painted [{label}]: median {statistics.median(st):.3f} s, "
                        f"max {max(st):.3f} s (n={len(st)})"
                    )
                lat = repaint(tmp, platform, display, n)
                print(
                    f"caption event → overlay repaint [{label}]: p50 {pct(lat, 0.5):.2f} ms, "
                    f"p95 {pct(lat, 0.95):.2f} ms, max {max(lat):.2f} ms (n={len(lat)})"
                )
        finally:
            if x:
                for p in x[1]:
                    p.terminate()
                    p.wait(10)
        settings_dir = tmp / "config"
        settings_dir.mkdir(exist_ok=True)
        (settings_dir / "settings.json").write_text(json.dumps({"version": 3, "autostart_captions": False}))
        cpu, rss = app_usage(tmp, [], settle=3.0, window=10.0)
        print(f"idle app (captions stopped, offscreen): CPU {cpu:.2f} % of one core, RSS {rss:.0f} MB")
        for engine in ("moonshine", "local"):  # the default neural engine, side by side with the light one
            settings = {"version": 3, "engine": engine, "autostart_captions": True}
            (settings_dir / "settings.json").write_text(json.dumps(settings))
            cpu, rss = app_usage(tmp, ["--source", str(wav)], settle=5.0, window=20.0)
            print(
                f"captioning ({engine} engine, speech WAV at 1x, offscreen): "
                f"CPU {cpu:.1f} % of one core, RSS {rss:.0f} MB"
            )


if __name__ == "__main__":
    if "--child-startup" in sys.argv:
        child_startup()
    elif "--child-repaint" in sys.argv:
        child_repaint(int(sys.argv[sys.argv.index("--child-repaint") + 1]))
    else:
        main()
