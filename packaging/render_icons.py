"""Render the app icon (an SVG) to the PNG sizes, .ico and .icns the installers need, with Qt's QSvgRenderer.

    python packaging/render_icons.py [--svg resources/icons/captioner.svg] [--out build/icons]

Writes ``OUT/hicolor/<N>x<N>/apps/captioner.png`` for each size, ``OUT/captioner.ico`` (PNG-compressed
entries, Windows Vista and later) and ``OUT/captioner.icns`` (PNG entries, macOS 10.7 and later). Needs
only PySide6 (already an app dependency): no Pillow, no rsvg-convert, no ImageMagick.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns entry types holding PNG data, by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def render_png(svg: Path, size: int) -> bytes:
    """The SVG rendered to a ``size``×``size`` PNG (transparent background)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise SystemExit("render_icons: Qt could not encode a PNG")
    buf.close()
    return bytes(data.data())


def make_ico(pngs: dict[int, bytes]) -> bytes:
    """An .ico file whose entries are PNG images."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        dim = 0 if s >= 256 else s  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def make_icns(pngs: dict[int, bytes]) -> bytes:
    """An .icns file whose entries are PNG images."""
    body = b""
    for s, kind in sorted(ICNS_TYPES.items()):
        if s in pngs:
            body += kind + struct.pack(">I", 8 + len(pngs[s])) + pngs[s]
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--svg", type=Path, default=ROOT / "resources" / "icons" / "captioner.svg")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "icons")
    ap.add_argument("--name", default="captioner", help="file name of the icons (without extension)")
    args = ap.parse_args(argv)
    if not args.svg.is_file():
        print(f"render_icons: no such file: {args.svg}", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(["render_icons"])  # noqa: F841 - Qt needs it for fonts
    pngs = {s: render_png(args.svg, s) for s in PNG_SIZES}
    for s, data in pngs.items():
        d = args.out / "hicolor" / f"{s}x{s}" / "apps"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{args.name}.png").write_bytes(data)
    (args.out / f"{args.name}.ico").write_bytes(make_ico({s: pngs[s] for s in ICO_SIZES}))
    (args.out / f"{args.name}.icns").write_bytes(make_icns(pngs))
    print(f"render_icons: wrote {len(pngs)} PNG sizes, {args.name}.ico and {args.name}.icns to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
