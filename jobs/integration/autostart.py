"""Start Jobdesk (minimized to the tray) when the user logs in, on Linux, Windows and macOS.

`autostart_entry` only describes what would be written (pure, testable anywhere);
`set_autostart` applies it and `autostart_enabled` reads it back:

- Linux and other XDG desktops: `$XDG_CONFIG_HOME/autostart/<id>.desktop`;
- Windows: the value `Jobdesk` under `HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`;
- macOS: the launch agent `~/Library/LaunchAgents/<id>.plist`.
"""

from __future__ import annotations

import os
import plistlib
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jobs.integration import APP_ID, platform_calls
from jobs.integration.launcher import launcher_command
from jobs.integration.xdg import exec_value

MINIMIZED = "--minimized"
RUN_KEY = "HKCU\\" + platform_calls.RUN_KEY
RUN_VALUE_NAME = "Jobdesk"


@dataclass(frozen=True)
class AutostartPlan:
    """What enabling autostart writes on one platform.

    Attributes:
        platform: "linux" (any XDG desktop), "win32" or "darwin".
        command: the full argv started at login, `--minimized` included.
        path: the file written (Linux, macOS); None on Windows.
        text: that file's content (Linux, macOS); None on Windows.
        registry_key: the key holding the value (Windows), e.g. "HKCU\\Software\\...\\Run".
        value_name: the registry value's name (Windows).
        value_data: the registry value's data, a quoted command line (Windows).
    """

    platform: str
    command: tuple[str, ...]
    path: Path | None = None
    text: str | None = None
    registry_key: str | None = None
    value_name: str | None = None
    value_data: str | None = None


def normalize_platform(platform: str) -> str:
    """"win32", "darwin", or "linux" for every other (XDG) platform such as "freebsd14"."""
    if platform.startswith("win"):
        return "win32"
    if platform == "darwin":
        return "darwin"
    return "linux"


def default_config_home() -> Path:
    """`$XDG_CONFIG_HOME`, or `~/.config` when it is unset or not absolute."""
    value = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".config"


def windows_command_line(argv: Sequence[str]) -> str:
    """A Windows command line for `argv` with the program always in quotes.

    The Run key is parsed like CreateProcess's command line: an unquoted path with spaces
    ("C:\\Program Files\\...") would start the wrong program, so the program is always quoted.
    """
    program, *rest = argv
    return f'"{program}"' + ("" if not rest else " " + subprocess.list2cmdline(rest))


def autostart_entry(
    platform: str,
    launcher: Sequence[str],
    *,
    config_home: Path | None = None,
    home: Path | None = None,
) -> AutostartPlan:
    """Describe the autostart entry for `platform` that runs `launcher` plus `--minimized`.

    Args:
        platform: a `sys.platform` value.
        launcher: the argv that starts the window, usually `launcher_command(gui=True)`.
        config_home: XDG config home for Linux (default `default_config_home()`).
        home: the user's home for macOS (default `Path.home()`).

    Nothing is written; `set_autostart` applies the plan.
    """
    command = (*launcher, MINIMIZED)
    kind = normalize_platform(platform)
    if kind == "win32":
        return AutostartPlan(
            platform=kind,
            command=command,
            registry_key=RUN_KEY,
            value_name=RUN_VALUE_NAME,
            value_data=windows_command_line(command),
        )
    if kind == "darwin":
        agents = (home if home is not None else Path.home()) / "Library" / "LaunchAgents"
        plist = {
            "Label": APP_ID,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            # Started once at login; quitting Jobdesk must not make launchd restart it.
            "KeepAlive": False,
            # Scheduled like an app the user opened, not as a throttled background job.
            "ProcessType": "Interactive",
        }
        return AutostartPlan(
            platform=kind,
            command=command,
            path=agents / f"{APP_ID}.plist",
            text=plistlib.dumps(plist).decode("utf-8"),
        )
    folder = (config_home if config_home is not None else default_config_home()) / "autostart"
    text = "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=Jobdesk",
            "Comment=Start Jobdesk in the tray at login",
            f"Exec={exec_value(command)}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )
    return AutostartPlan(platform=kind, command=command, path=folder / f"{APP_ID}.desktop", text=text)


def set_autostart(
    enabled: bool,
    *,
    platform: str = sys.platform,
    config_home: Path | None = None,
    home: Path | None = None,
    launcher: Sequence[str] | None = None,
) -> AutostartPlan:
    """Switch autostart on or off; returns the plan that was applied (or removed).

    Args:
        enabled: write the entry (True) or remove it (False; no error if it is absent).
        platform, config_home, home: as for `autostart_entry` (tests pass temp folders).
        launcher: the argv to start (default `launcher_command(gui=True)`), e.g. with
            `--data-dir` appended for a second profile.

    Idempotent. On Windows this writes the registry through `platform_calls`.
    """
    plan = autostart_entry(
        platform,
        launcher if launcher is not None else launcher_command(gui=True),
        config_home=config_home,
        home=home,
    )
    if plan.platform == "win32":
        assert plan.value_name is not None and plan.value_data is not None
        if enabled:
            platform_calls.set_run_value(plan.value_name, plan.value_data)
        else:
            platform_calls.delete_run_value(plan.value_name)
        return plan
    assert plan.path is not None and plan.text is not None
    if enabled:
        plan.path.parent.mkdir(parents=True, exist_ok=True)
        plan.path.write_text(plan.text, encoding="utf-8")
    else:
        plan.path.unlink(missing_ok=True)
    return plan


def autostart_enabled(
    *,
    platform: str = sys.platform,
    config_home: Path | None = None,
    home: Path | None = None,
) -> bool:
    """Whether an autostart entry of Jobdesk exists (whatever command it runs).

    On Linux an entry the desktop's own settings switched off (`Hidden=true` or
    `X-GNOME-Autostart-enabled=false`) counts as off.
    """
    plan = autostart_entry(platform, ["jobdesk"], config_home=config_home, home=home)
    if plan.platform == "win32":
        assert plan.value_name is not None
        return platform_calls.read_run_value(plan.value_name) is not None
    assert plan.path is not None
    if not plan.path.is_file():
        return False
    if plan.platform == "darwin":
        return True
    lines = {line.strip().lower() for line in plan.path.read_text(encoding="utf-8", errors="replace").splitlines()}
    return not ({"hidden=true", "x-gnome-autostart-enabled=false"} & lines)
