"""Add Jobdesk to a freedesktop (Linux/BSD) application menu, and take it out again.

`install_desktop` copies the .desktop entry (with `Exec` pointing at this install), the AppStream
metainfo and the icons below `$XDG_DATA_HOME`; `uninstall_desktop` removes exactly those files.
Both are idempotent and touch nothing outside the data home they are given.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from jobs.integration import APP_ID
from jobs.integration.launcher import launcher_command
from jobs.integration.resources import resource_path

DESKTOP_NAME = f"{APP_ID}.desktop"
METAINFO_NAME = f"{APP_ID}.metainfo.xml"
# PNGs rendered by packaging/render_icons.py, e.g. resources/icons/png/jobdesk-48.png.
_PNG_NAME = re.compile(r"jobdesk-(\d+)\.png")

# Desktop Entry spec, "The Exec key": an argument containing one of these must be quoted.
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


def default_data_home() -> Path:
    """`$XDG_DATA_HOME`, or `~/.local/share` when it is unset or not absolute (as the spec says)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def exec_value(argv: Sequence[str]) -> str:
    """The `Exec=` value that runs `argv`, quoted and escaped per the Desktop Entry spec.

    Two layers: the Exec quoting (double quotes; `"`, `` ` ``, `$`, `\\` backslash-escaped inside
    them), then the string escaping of every value (each backslash doubled again). A literal `%`
    is a field code unless doubled.
    """
    words = []
    for arg in argv:
        if arg and not _EXEC_RESERVED.intersection(arg):
            word = arg
        else:
            word = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
        words.append(word.replace("%", "%%"))
    return " ".join(words).replace("\\", "\\\\")


def desktop_entry_text(argv: Sequence[str]) -> str:
    """The bundled .desktop entry with its `Exec=` line replaced by one that runs `argv`."""
    template = resource_path("linux", DESKTOP_NAME).read_text(encoding="utf-8")
    lines = [f"Exec={exec_value(argv)}" if line.startswith("Exec=") else line for line in template.splitlines()]
    return "\n".join(lines) + "\n"


def _rendered_pngs() -> dict[int, Path]:
    """Pre-rendered app icon PNGs by pixel size; empty in a source checkout that never built them."""
    folder = resource_path("icons", "png")
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        match = _PNG_NAME.fullmatch(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def _launcher_argv(exec_path: str | Sequence[str] | None) -> list[str]:
    if exec_path is None:
        return launcher_command(gui=True)
    if isinstance(exec_path, str):
        return [exec_path]
    return list(exec_path)


def install_desktop(data_home: Path | None = None, exec_path: str | Sequence[str] | None = None) -> list[Path]:
    """Install the menu entry, metainfo and icons; returns the files written.

    Args:
        data_home: the XDG data home to write below (default: `default_data_home()`).
        exec_path: the program the entry starts (one path), or a whole argv; default
            `launcher_command(gui=True)`: the bundle's executable, the `jobdesk-gui` script,
            or `python main.py`.

    Writes `applications/<id>.desktop`, `metainfo/<id>.metainfo.xml`,
    `icons/hicolor/scalable/apps/<id>.svg` and, when `resources/icons/png/` holds rendered
    PNGs (the bundle does), `icons/hicolor/<N>x<N>/apps/<id>.png`. Running it again overwrites
    the same files.
    """
    home = data_home if data_home is not None else default_data_home()
    written: list[Path] = []

    desktop = home / "applications" / DESKTOP_NAME
    desktop.parent.mkdir(parents=True, exist_ok=True)
    desktop.write_text(desktop_entry_text(_launcher_argv(exec_path)), encoding="utf-8")
    written.append(desktop)

    copies = [
        (resource_path("linux", METAINFO_NAME), home / "metainfo" / METAINFO_NAME),
        (resource_path("icons", "jobdesk.svg"), home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"),
    ]
    copies += [
        (png, home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png")
        for size, png in sorted(_rendered_pngs().items())
    ]
    for source, target in copies:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        written.append(target)

    # GTK ignores an icon-theme.cache older than its theme folder; bumping the folder's mtime
    # makes it look at the new icon without running gtk-update-icon-cache.
    os.utime(home / "icons" / "hicolor")
    return written


def installed_files(data_home: Path | None = None) -> list[Path]:
    """The files of ours currently present under `data_home` (what uninstall would remove)."""
    home = data_home if data_home is not None else default_data_home()
    candidates = [home / "applications" / DESKTOP_NAME, home / "metainfo" / METAINFO_NAME]
    hicolor = home / "icons" / "hicolor"
    if hicolor.is_dir():
        candidates += sorted(hicolor.glob(f"*/apps/{APP_ID}.svg"))
        candidates += sorted(hicolor.glob(f"*/apps/{APP_ID}.png"))
    return [path for path in candidates if path.is_file()]


def uninstall_desktop(data_home: Path | None = None) -> list[Path]:
    """Remove what `install_desktop` wrote; returns the files removed (empty if none were there).

    Only files named after Jobdesk's id are removed, in any icon size (so PNGs from an older
    install go too); folders left empty by that are removed up to, not including, `data_home`.
    """
    home = data_home if data_home is not None else default_data_home()
    removed = installed_files(home)
    for path in removed:
        path.unlink()
    for path in removed:
        _prune_empty_parents(path.parent, stop=home)
    return removed


def _prune_empty_parents(folder: Path, stop: Path) -> None:
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()  # fails (and stops the walk) as soon as a folder holds anything else
        except OSError:
            return
        folder = folder.parent
