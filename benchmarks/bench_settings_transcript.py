"""Benchmarks of the settings panel and the transcript window (offscreen Qt); prints figures.

    .venv/bin/python benchmarks/bench_settings_transcript.py [--lines 5000] [--screenshots DIR]

Figures: time to build and show the settings dialog (cold = first, warm = again),
cost of one edit (settings() recomputed from every page), preview repaint, and
for the transcript window: cost per committed line (live on_change), a search
over all lines, and exporting all lines in each format. ``--screenshots`` saves
PNGs of the settings panel (Captions and Appearance tabs) into DIR.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--screenshots", type=Path)
    args = ap.parse_args()

    # Keep the user's real config and keyring out of it.
    tmp = Path(tempfile.mkdtemp(prefix="captioner-bench-"))
    for var, sub in (("CAPTIONER_DATA_DIR", "data"), ("CAPTIONER_CONFIG_DIR", "config"), ("CAPTIONER_LOG_DIR", "log")):
        os.environ[var] = str(tmp / sub)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])

    from captioner.captions.events import Final
    from captioner.captions.export import EXPORTERS
    from captioner.captions.transcript import Transcript
    from captioner.settings import Settings
    from captioner.ui.settings.dialog import SettingsDialog
    from captioner.ui.transcript_window import TranscriptWindow

    print(f"Python {sys.version.split()[0]}, Qt platform {QApplication.platformName()}, {os.cpu_count()} CPUs")

    # -- settings dialog ------------------------------------------------------------------------
    settings = Settings(engine="assemblyai", word_boost=tuple(f"term {i}" for i in range(50)))
    opened = []
    for _ in range(4):
        t0 = time.perf_counter()
        d = SettingsDialog(settings)
        d.show()
        app.processEvents()
        opened.append(time.perf_counter() - t0)
        d.close()
        d.deleteLater()
        app.processEvents()
    print(f"settings dialog build+show: cold {ms(opened[0])}, warm median {ms(statistics.median(opened[1:]))}")

    d = SettingsDialog(settings)
    d.show()
    app.processEvents()
    edits = []
    for v in range(100, 5000, 50):
        d.captions_page.silence.setValue(v)
        t0 = time.perf_counter()
        d.settings()
        edits.append(time.perf_counter() - t0)
    print(f"one edit -> settings() recomputed: median {ms(statistics.median(edits))}, p95 {ms(pct(edits, 0.95))}")

    d.tabs.setCurrentWidget(d.appearance_page)
    app.processEvents()
    paints = []
    preview = d.appearance_page.preview
    for i in range(50):
        d.appearance_page.opacity.setValue(i * 2)
        t0 = time.perf_counter()
        preview.repaint()
        paints.append(time.perf_counter() - t0)
    print(f"appearance preview repaint ({preview.width()}x{preview.height()}): median {ms(statistics.median(paints))}")

    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
        shot = SettingsDialog(
            Settings(
                engine="assemblyai",
                word_boost=("Captioner", "PySide6", "qasync", "AssemblyAI", "Kubernetes", "Dr. Nguyen"),
                silence_ms=800,
            )
        )
        shot.resize(680, 640)
        shot.show()
        shot.tabs.setCurrentWidget(shot.captions_page)
        app.processEvents()
        shot.grab().save(str(args.screenshots / "settings.png"))
        shot.tabs.setCurrentWidget(shot.appearance_page)
        app.processEvents()
        shot.grab().save(str(args.screenshots / "settings-appearance.png"))
        shot.tabs.setCurrentWidget(shot.engine_page)
        app.processEvents()
        shot.grab().save(str(args.screenshots / "settings-engine.png"))
        print(f"screenshots saved in {args.screenshots}")
        shot.close()

    # -- transcript window ----------------------------------------------------------------------
    transcript = Transcript(max_lines=args.lines)
    w = TranscriptWindow(transcript)
    w.resize(760, 520)
    w.show()
    app.processEvents()
    transcript.subscribe(w.on_change)
    per_line = []
    sentence = "it was the best of times it was the worst of times it was the age of wisdom"
    words = sentence.split(" ")
    for i in range(args.lines):
        text = " ".join(words[(i + k) % len(words)] for k in range(10)) + f" {i}"
        t0 = time.perf_counter()
        transcript.apply(Final(line_id=f"1-{i}", text=text, engine="local", start=i * 2.0, end=i * 2.0 + 1.8))
        per_line.append(time.perf_counter() - t0)
        if i % 200 == 0:
            app.processEvents()
    app.processEvents()
    print(
        f"transcript window, live commit (transcript + window) over {args.lines} lines: "
        f"median {ms(statistics.median(per_line))}, p95 {ms(pct(per_line, 0.95))}, max {ms(max(per_line))}"
    )

    for needle in ("wisdom", "4999", "no such words"):
        w.search.setText(needle)
        t0 = time.perf_counter()
        w.apply_search()
        app.processEvents()
        dt = time.perf_counter() - t0
        print(f"search {needle!r} over {args.lines} lines: {ms(dt)} ({len(w.matches())} matches)")
    w.search.clear()
    w.apply_search()

    out = tmp / "export"
    for fmt in EXPORTERS:
        t0 = time.perf_counter()
        w.export_to(out.with_suffix(f".{fmt}"), fmt)
        print(f"export {args.lines} lines to {fmt}: {ms(time.perf_counter() - t0)}")

    try:
        import resource

        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    except ImportError:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
