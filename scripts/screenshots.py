#!/usr/bin/env python3
"""Render the README screenshots offscreen into docs/screenshots/ (or the folder given).

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py [OUT_DIR]

Writes main-light/dark.png, history-output-light/dark.png and editor-cron-error-light/dark.png
(plus editor-valid-light.png), outputs-light/dark.png, changed-since-light/dark.png and
digest-card-light.png at a fixed window size, from a throw-away data directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(argv: list[str]) -> int:
    from scripts.shots.window import save_screenshots

    out_dir = Path(argv[0]) if argv else ROOT / "docs" / "screenshots"
    from scripts.shots.outputs import save_outputs_screenshots

    for path in [*save_screenshots(out_dir), *save_outputs_screenshots(out_dir)]:
        print(path)
    sys.stdout.flush()
    os._exit(0)  # PySide6 6.12 may abort in Python's final garbage collection (see main.exit_now)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
