"""Where the files under `resources/` are at run time, from source and inside a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

# jobs/integration/resources.py -> the repository (or site-packages) root.
_SOURCE_ROOT = Path(__file__).resolve().parents[2]


def resources_root() -> Path:
    """The `resources` folder: `<bundle>/resources` when frozen, else the one next to `jobs/`.

    PyInstaller unpacks data files below `sys._MEIPASS` (the `_internal` folder of a one-folder
    bundle, `Contents/Frameworks` in a macOS .app); `packaging/jobdesk.spec` puts `resources/`
    there under the same name.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return _SOURCE_ROOT / "resources"


def resource_path(*parts: str) -> Path:
    """The path of a resource, e.g. `resource_path("icons", "tray-idle.svg")`; it may not exist."""
    return resources_root().joinpath(*parts)
