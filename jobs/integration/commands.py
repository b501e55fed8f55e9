"""The `install-desktop`, `uninstall-desktop` and `autostart on|off|status` CLI commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from jobs.integration.autostart import AutostartPlan, autostart_enabled, normalize_platform, set_autostart
from jobs.integration.launcher import launcher_command
from jobs.integration.xdg import install_desktop, uninstall_desktop


def _where(plan: AutostartPlan) -> str:
    if plan.path is not None:
        return str(plan.path)
    return f"{plan.registry_key}\\{plan.value_name}"


def _autostart(state: str, data_dir: str | None) -> int:
    if state == "status":
        print("on" if autostart_enabled() else "off")
        return 0
    launcher = launcher_command(gui=True)
    if data_dir:
        # A second profile started at login must come back with its own data directory.
        launcher += ["--data-dir", str(Path(data_dir).expanduser().absolute())]
    plan = set_autostart(state == "on", launcher=launcher)
    if state == "on":
        print(f"Jobdesk will start at login, in the tray: {_where(plan)}")
    else:
        print(f"Jobdesk will no longer start at login (removed {_where(plan)})")
    return 0


def integration_command(args: argparse.Namespace) -> int:
    """Run one integration command parsed by `jobs.cli`; returns the exit code.

    `args.command` is "install-desktop", "uninstall-desktop" or "autostart" (with `args.state`
    "on", "off" or "status"); `args.data_dir` is the global `--data-dir`, if given.
    """
    try:
        if args.command == "autostart":
            return _autostart(args.state, getattr(args, "data_dir", None))
        if normalize_platform(sys.platform) != "linux":
            print(f"jobdesk: {args.command} is for Linux desktops; on this system the installer or app bundle "
                  "adds Jobdesk to the menu", file=sys.stderr)
            return 2
        if args.command == "install-desktop":
            for path in install_desktop():
                print(f"wrote {path}")
            return 0
        if args.command == "uninstall-desktop":
            removed = uninstall_desktop()
            for path in removed:
                print(f"removed {path}")
            if not removed:
                print("nothing to remove: Jobdesk is not in the application menu")
            return 0
    except OSError as exc:
        print(f"jobdesk: {args.command} failed: {exc}", file=sys.stderr)
        return 1
    raise ValueError(f"not an integration command: {args.command!r}")
