"""SVG icons from resources/icons, loaded once each: the one place the window gets icons from.

`icon("run-now")` returns a cached QIcon, or an empty QIcon when the file does not exist (a
missing icon must never stop the window from opening). Files are found through
`jobs.integration.resources.resource_path`, which knows the PyInstaller bundle's layout.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QIcon

from jobs.integration.resources import resource_path

log = logging.getLogger(__name__)


def icon_path(name: str) -> Path:
    """Where the SVG file of icon `name` (a stem such as "tray-idle") lives or would live."""
    return resource_path("icons", f"{name}.svg")


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    """The icon called `name`; an empty QIcon (and one debug line) when its file is missing."""
    path = icon_path(name)
    if not path.is_file():
        log.debug("icon %s not found at %s", name, path)
        return QIcon()
    return QIcon(str(path))


def clear_cache() -> None:
    """Forget loaded icons (tests that add icon files, a theme change)."""
    icon.cache_clear()
