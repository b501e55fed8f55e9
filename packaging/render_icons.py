#!/usr/bin/env python3
"""Render the app icon to PNGs (freedesktop sizes), a Windows .ico and a macOS .icns.

    python packaging/render_icons.py [--svg resources/icons/jobdesk.svg] [--out build/icons]

Writes `<out>/jobdesk-<N>.png` for every size, `<out>/jobdesk.ico` and `<out>/jobdesk.icns`.
The build output is never committed: `packaging/build.py` runs this first, the spec bundles the
PNGs as `resources/icons/png/` (which `jobdesk install-desktop` copies into the hicolor theme)
and uses the .ico/.icns as the executable's icon. Uses QtSvg, which is why it lives here and not
in `jobs/` (the core never imports QtGui). Runs headless (offscreen platform).
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)

# .icns element types holding PNG data, by pixel size (2x types reuse the bigger render).
_ICNS_TYPES = {
    16: [b"icp4"],
    32: [b"icp5", b"ic11"],  # 32 px, and 16 pt @2x
    64: [b"icp6", b"ic12"],  # 64 px, and 32 pt @2x
    128: [b"ic07"],
    256: [b"ic08", b"ic13"],  # 256 px, and 128 pt @2x
    512: [b"ic09", b"ic14"],  # 512 px, and 256 pt @2x
}
# An .ico entry stores its size in one byte (0 means 256), so 512 is left out.
_ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def _application() -> object:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a build machine may have no display
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication([sys.argv[0]])


def render_png_icons(svg: Path, out_dir: Path, sizes: Iterable[int] = SIZES) -> dict[int, Path]:
    """Render `svg` as a square transparent PNG per size into `out_dir`; returns {size: path}.

    Files are named `<svg stem>-<size>.png`, the names `jobs.integration.xdg` looks for.
    """
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = _application()  # noqa: F841 -- must stay alive while painting
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"not a valid SVG: {svg}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        target = out_dir / f"{svg.stem}-{size}.png"
        if not image.save(str(target)):  # format from the .png suffix
            raise OSError(f"could not write {target}")
        written[size] = target
    return written


def write_ico(pngs: dict[int, Path], target: Path) -> Path:
    """Pack PNGs into a Windows .ico (PNG-compressed entries, read by Windows Vista and later)."""
    entries = [(size, pngs[size].read_bytes()) for size in _ICO_SIZES if size in pngs]
    header = struct.pack("<HHH", 0, 1, len(entries))
    offset = len(header) + 16 * len(entries)
    directory, payload = b"", b""
    for size, data in entries:
        byte = 0 if size == 256 else size
        directory += struct.pack("<BBBBHHII", byte, byte, 0, 0, 1, 32, len(data), offset + len(payload))
        payload += data
    target.write_bytes(header + directory + payload)
    return target


def write_icns(pngs: dict[int, Path], target: Path) -> Path:
    """Pack PNGs into a macOS .icns (PNG elements, macOS 10.7 and later)."""
    body = b""
    for size, kinds in _ICNS_TYPES.items():
        if size in pngs:
            data = pngs[size].read_bytes()
            for kind in kinds:
                body += kind + struct.pack(">I", 8 + len(data)) + data
    target.write_bytes(b"icns" + struct.pack(">I", 8 + len(body)) + body)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg", type=Path, default=ROOT / "resources" / "icons" / "jobdesk.svg")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "icons")
    args = parser.parse_args(argv)
    pngs = render_png_icons(args.svg, args.out)
    ico = write_ico(pngs, args.out / f"{args.svg.stem}.ico")
    icns = write_icns(pngs, args.out / f"{args.svg.stem}.icns")
    print(f"render_icons: {len(pngs)} PNGs, {ico.name} and {icns.name} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
