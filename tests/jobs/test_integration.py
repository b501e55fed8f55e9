"""Desktop integration: resources, launcher, menu entry (XDG) and autostart on every platform.

Everything runs against temporary folders; nothing touches the real home. The Windows registry
is only written (with a throwaway value name) on Windows itself.
"""

from __future__ import annotations

import argparse
import json
import ast
import os
import plistlib
import shutil
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import jobs
from jobs.integration import APP_ID, autostart, launcher, platform_calls, resources, xdg
from jobs.integration.autostart import autostart_enabled, autostart_entry, set_autostart
from jobs.integration.commands import integration_command
from jobs.integration.resources import resource_path
from jobs.integration.xdg import exec_value, install_desktop, installed_files, uninstall_desktop

ICONS = [
    "jobdesk", "tray-idle", "tray-running", "tray-failed",
    "status-succeeded", "status-failed", "status-running", "status-queued", "status-missed",
    "status-skipped", "status-timed-out", "status-killed", "status-interrupted", "status-paused",
    "new", "edit", "duplicate", "delete", "run-now", "pause", "resume", "pause-all", "resume-all",
    "import", "export", "open-log", "copy", "folder", "file",
]  # fmt: skip
SPACED_EXE = "/opt/My Apps/jobdesk-gui"


def validator(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    return path


def run_validator(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


# --- resources ------------------------------------------------------------------------------


def test_resource_path_finds_the_source_tree():
    assert resource_path("icons", "jobdesk.svg").is_file()
    assert resource_path("linux", f"{APP_ID}.desktop").is_file()


def test_resource_path_inside_a_pyinstaller_bundle(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resource_path("icons", "x.svg") == tmp_path / "resources" / "icons" / "x.svg"


@pytest.mark.parametrize("name", ICONS)
def test_every_icon_is_a_clean_svg(name):
    root = ET.parse(resource_path("icons", f"{name}.svg")).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == ("0 0 256 256" if name == "jobdesk" else "0 0 24 24")
    # Explicit colours only: currentColor would follow the text colour and vanish in the tray.
    assert "currentColor" not in resource_path("icons", f"{name}.svg").read_text()


def test_integration_package_never_imports_qt():
    root = Path(xdg.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            assert not [name for name in names if name.startswith(("PySide6", "desktop"))], path


# --- launcher --------------------------------------------------------------------------------


def test_launcher_inside_a_bundle_is_the_bundle_executable(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    if sys.platform == "win32":
        pytest.skip("on Windows the GUI launcher prefers jobdesk-gui.exe beside it")
    assert launcher.launcher_command(gui=True) == [str(Path(sys.executable).absolute())]


def test_launcher_prefers_the_installed_script(monkeypatch):
    monkeypatch.setattr(launcher, "find_script", lambda name: f"/venv/bin/{name}")
    assert launcher.launcher_command(gui=True) == ["/venv/bin/jobdesk-gui"]
    assert launcher.launcher_command(gui=False) == ["/venv/bin/jobdesk"]


def test_launcher_falls_back_to_python_running_main_py(monkeypatch):
    monkeypatch.setattr(launcher, "find_script", lambda name: None)
    python, main = launcher.launcher_command(gui=False)
    assert Path(python) == Path(sys.executable).absolute()
    assert Path(main).is_absolute() and Path(main).name == "main.py"
    assert Path(main) == Path(jobs.__file__).resolve().parents[1] / "main.py"


# --- menu entry (XDG) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/usr/bin/jobdesk-gui"], "/usr/bin/jobdesk-gui"),
        ([SPACED_EXE, "--minimized"], '"/opt/My Apps/jobdesk-gui" --minimized'),
        (["/x/100%", "$HOME"], '/x/100%% "\\\\$HOME"'),
        (['C:\\a "b"'], '"C:\\\\\\\\a \\\\"b\\\\""'),
    ],
)
def test_exec_value_quotes_per_the_desktop_entry_spec(argv, expected):
    assert exec_value(argv) == expected


def test_install_writes_entry_metainfo_and_icon(tmp_path):
    home = tmp_path / "share"
    written = install_desktop(home, exec_path=SPACED_EXE)

    desktop = home / "applications" / f"{APP_ID}.desktop"
    svg = home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    metainfo = home / "metainfo" / f"{APP_ID}.metainfo.xml"
    assert sorted(written) == sorted([desktop, svg, metainfo]) == files_under(home)
    lines = desktop.read_text().splitlines()
    assert 'Exec="/opt/My Apps/jobdesk-gui"' in lines
    assert f"Icon={APP_ID}" in lines
    assert svg.read_bytes() == resource_path("icons", "jobdesk.svg").read_bytes()


def test_install_uses_the_detected_launcher_by_default(monkeypatch, tmp_path):
    monkeypatch.setattr(xdg, "launcher_command", lambda gui: ["/usr/bin/python3", "/src/jobdesk/main.py"])
    install_desktop(tmp_path)
    assert "Exec=/usr/bin/python3 /src/jobdesk/main.py" in (tmp_path / "applications" / f"{APP_ID}.desktop").read_text()


def test_install_adds_rendered_pngs_when_present(monkeypatch, tmp_path):
    pngs = {}
    for size in (16, 48, 256):
        pngs[size] = tmp_path / "png" / f"jobdesk-{size}.png"
        pngs[size].parent.mkdir(exist_ok=True)
        pngs[size].write_bytes(b"png %d" % size)
    monkeypatch.setattr(xdg, "_rendered_pngs", lambda: pngs)
    home = tmp_path / "share"
    written = install_desktop(home, exec_path="jobdesk-gui")
    for size in pngs:
        target = home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert target in written and target.read_bytes() == b"png %d" % size
    assert len(written) == 3 + len(pngs)
    uninstall_desktop(home)
    assert files_under(home) == []


def test_install_twice_gives_the_same_files(tmp_path):
    first = install_desktop(tmp_path, exec_path="/a/jobdesk-gui")
    contents = {path: path.read_bytes() for path in first}
    assert install_desktop(tmp_path, exec_path="/a/jobdesk-gui") == first
    assert {path: path.read_bytes() for path in files_under(tmp_path)} == contents


def test_uninstall_removes_exactly_what_install_wrote(tmp_path):
    home = tmp_path / "share"
    neighbour = home / "applications" / "other.desktop"
    neighbour.parent.mkdir(parents=True)
    neighbour.write_text("[Desktop Entry]\n")

    written = install_desktop(home, exec_path="jobdesk-gui")
    assert sorted(uninstall_desktop(home)) == sorted(written)
    assert files_under(home) == [neighbour]
    assert [path for path in home.rglob("*") if path.is_dir()] == [neighbour.parent]  # empty folders pruned
    assert uninstall_desktop(home) == [] and installed_files(home) == []


def test_default_data_home_follows_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert xdg.default_data_home() == tmp_path
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    assert xdg.default_data_home() == Path.home() / ".local" / "share"


def test_installed_entry_passes_desktop_file_validate(tmp_path):
    tool = validator("desktop-file-validate")
    install_desktop(tmp_path, exec_path=[SPACED_EXE, "--data-dir", "/tmp/a b/100%"])
    run_validator(tool, str(tmp_path / "applications" / f"{APP_ID}.desktop"))


def test_bundled_entry_passes_desktop_file_validate():
    run_validator(validator("desktop-file-validate"), str(resource_path("linux", f"{APP_ID}.desktop")))


def test_metainfo_passes_appstreamcli():
    run_validator(validator("appstreamcli"), "validate", "--no-net", str(resource_path("linux", f"{APP_ID}.metainfo.xml")))


def test_metainfo_release_is_the_package_version():
    root = ET.parse(resource_path("linux", f"{APP_ID}.metainfo.xml")).getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"
    newest = root.find("releases/release")
    assert newest is not None and newest.get("version") == jobs.__version__, "add a <release> for the new version"


# --- autostart -------------------------------------------------------------------------------


def test_autostart_on_and_off_on_linux(tmp_path):
    config = tmp_path / "config"
    assert not autostart_enabled(platform="linux", config_home=config)

    plan = set_autostart(True, platform="linux", config_home=config, launcher=[SPACED_EXE])
    entry = config / "autostart" / f"{APP_ID}.desktop"
    assert plan.path == entry and entry.read_text() == plan.text
    lines = entry.read_text().splitlines()
    assert 'Exec="/opt/My Apps/jobdesk-gui" --minimized' in lines
    assert "X-GNOME-Autostart-enabled=true" in lines
    assert autostart_enabled(platform="linux", config_home=config)

    set_autostart(True, platform="linux", config_home=config, launcher=[SPACED_EXE])  # idempotent
    assert files_under(config) == [entry]

    set_autostart(False, platform="linux", config_home=config)
    set_autostart(False, platform="linux", config_home=config)  # already off: no error
    assert files_under(config) == [] and not autostart_enabled(platform="linux", config_home=config)


def test_autostart_switched_off_by_the_desktop_counts_as_off(tmp_path):
    plan = set_autostart(True, platform="linux", config_home=tmp_path, launcher=["jobdesk-gui"])
    assert plan.path is not None
    plan.path.write_text(plan.path.read_text().replace("enabled=true", "enabled=false"))
    assert not autostart_enabled(platform="linux", config_home=tmp_path)


def test_autostart_entry_passes_desktop_file_validate(tmp_path):
    tool = validator("desktop-file-validate")
    plan = set_autostart(True, platform="linux", config_home=tmp_path, launcher=[SPACED_EXE])
    run_validator(tool, str(plan.path))


def test_autostart_default_config_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert autostart_entry("freebsd14", ["jobdesk-gui"]).path == tmp_path / "autostart" / f"{APP_ID}.desktop"


def test_windows_plan_is_a_run_key_value():
    plan = autostart_entry("win32", ["C:\\Program Files\\Jobdesk\\jobdesk-gui.exe", "--data-dir", "D:\\my jobs"])
    assert plan.platform == "win32" and plan.path is None and plan.text is None
    assert plan.registry_key == "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"
    assert plan.value_name == "Jobdesk"
    assert plan.value_data == '"C:\\Program Files\\Jobdesk\\jobdesk-gui.exe" --data-dir "D:\\my jobs" --minimized'
    assert autostart_entry("win32", ["C:\\J\\jobdesk-gui.exe"]).value_data == '"C:\\J\\jobdesk-gui.exe" --minimized'


def test_windows_set_autostart_goes_through_platform_calls(monkeypatch):
    registry: dict[str, str] = {}
    monkeypatch.setattr(platform_calls, "set_run_value", registry.__setitem__)
    monkeypatch.setattr(platform_calls, "delete_run_value", lambda name: registry.pop(name, None) is not None)
    monkeypatch.setattr(platform_calls, "read_run_value", registry.get)

    set_autostart(True, platform="win32", launcher=["C:\\J\\jobdesk-gui.exe"])
    assert registry == {"Jobdesk": '"C:\\J\\jobdesk-gui.exe" --minimized'}
    assert autostart_enabled(platform="win32")
    set_autostart(False, platform="win32")
    assert registry == {} and not autostart_enabled(platform="win32")


@pytest.mark.skipif(sys.platform != "win32", reason="the real registry exists on Windows only")
def test_windows_registry_round_trip():
    name = f"JobdeskTest-{uuid.uuid4().hex[:8]}"  # never the real "Jobdesk" value
    try:
        assert platform_calls.read_run_value(name) is None
        platform_calls.set_run_value(name, '"C:\\nonexistent\\jobdesk-test.exe" --minimized')
        assert platform_calls.read_run_value(name) == '"C:\\nonexistent\\jobdesk-test.exe" --minimized'
    finally:
        platform_calls.delete_run_value(name)
    assert platform_calls.read_run_value(name) is None
    assert platform_calls.delete_run_value(name) is False


def test_macos_plan_is_a_launch_agent(tmp_path):
    plan = autostart_entry("darwin", ["/Applications/Jobdesk.app/Contents/MacOS/jobdesk"], home=tmp_path)
    assert plan.path == tmp_path / "Library" / "LaunchAgents" / f"{APP_ID}.plist"
    assert plan.text is not None
    agent = plistlib.loads(plan.text.encode())
    assert agent["Label"] == APP_ID
    assert agent["ProgramArguments"] == ["/Applications/Jobdesk.app/Contents/MacOS/jobdesk", "--minimized"]
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] is False


def test_macos_autostart_on_and_off(tmp_path):
    plan = set_autostart(True, platform="darwin", home=tmp_path, launcher=["/A/jobdesk"])
    assert plan.path is not None and plistlib.loads(plan.path.read_bytes())["RunAtLoad"] is True
    assert autostart_enabled(platform="darwin", home=tmp_path)
    set_autostart(False, platform="darwin", home=tmp_path)
    assert not plan.path.exists()
    assert not autostart_enabled(platform="darwin", home=tmp_path)


# --- CLI commands ----------------------------------------------------------------------------

linux_only = pytest.mark.skipif(autostart.normalize_platform(sys.platform) != "linux", reason="XDG desktops only")


@linux_only
def test_cli_install_and_uninstall_desktop(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert integration_command(argparse.Namespace(command="install-desktop", data_dir=None)) == 0
    assert (tmp_path / "applications" / f"{APP_ID}.desktop").is_file()
    assert integration_command(argparse.Namespace(command="uninstall-desktop", data_dir=None)) == 0
    assert files_under(tmp_path) == []
    assert integration_command(argparse.Namespace(command="uninstall-desktop", data_dir=None)) == 0
    assert "nothing to remove" in capsys.readouterr().out


@linux_only
def test_cli_autostart_keeps_an_explicit_data_dir(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(launcher, "find_script", lambda name: f"/venv/bin/{name}")

    def cli(state: str) -> str:
        assert integration_command(argparse.Namespace(command="autostart", state=state, data_dir="/data/b")) == 0
        return capsys.readouterr().out.strip()

    assert cli("status") == "off"
    cli("on")
    entry = tmp_path / "autostart" / f"{APP_ID}.desktop"
    assert "Exec=/venv/bin/jobdesk-gui --data-dir /data/b --minimized" in entry.read_text().splitlines()
    assert cli("status") == "on"
    cli("off")
    assert cli("status") == "off" and not entry.exists()


# --- the PyInstaller bundle ------------------------------------------------------------------


@pytest.mark.bundle
@pytest.mark.timeout(1800)
def test_bundle_builds_starts_and_carries_its_resources(tmp_path):
    """`python packaging/build.py` on this OS: the bundle starts, has resources, no Qt ballast."""
    pytest.importorskip("PyInstaller")
    root = Path(jobs.__file__).resolve().parents[1]
    subprocess.run([sys.executable, str(root / "packaging" / "build.py")], cwd=root, check=True, timeout=1700)

    bundle = root / "dist" / "jobdesk"
    exe = bundle / ("jobdesk.exe" if sys.platform == "win32" else "jobdesk")
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120, check=True)
    assert version.stdout.strip() == f"jobdesk {jobs.__version__}"
    if sys.platform == "win32":
        assert (bundle / "jobdesk-gui.exe").is_file()

    internal = bundle / "_internal"
    assert (internal / "resources" / "icons" / "tray-idle.svg").is_file()
    assert (internal / "resources" / "icons" / "png" / "jobdesk-256.png").is_file()
    shipped = [path.relative_to(internal).as_posix() for path in internal.rglob("*")]
    assert not [name for name in shipped if "/translations/" in name and name.startswith("PySide6/")]
    assert not [name for name in shipped if "Qt6Qml" in name or "QtQml" in name or "Qt6Quick" in name]

    if autostart.normalize_platform(sys.platform) == "linux":
        env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
        subprocess.run([str(exe), "install-desktop"], env=env, check=True, timeout=120, capture_output=True)
        entry = (tmp_path / "applications" / f"{APP_ID}.desktop").read_text()
        assert f"Exec={exec_value([str(exe)])}" in entry.splitlines()
        assert (tmp_path / "icons" / "hicolor" / "48x48" / "apps" / f"{APP_ID}.png").is_file()

    _bundle_serves_and_records_a_run(exe, tmp_path / "bundle-data")


def _bundle_serves_and_records_a_run(exe: Path, data: Path) -> None:
    """The bundled program schedules: `serve` runs a job, `history --json` (also bundled) shows it."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    cli = [str(exe), "--data-dir", str(data)]
    added = subprocess.run([*cli, "add", "--name", "bundled", "--every", "1s", "--allow-sub-10s", "--", sys.executable, "-c", "print('from bundle')"],
                           env=env, capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    serve = subprocess.Popen([*cli, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        runs: list[dict] = []
        while time.monotonic() < deadline and not any(r["status"] == "succeeded" for r in runs):
            time.sleep(1)
            result = subprocess.run([*cli, "history", "--json"], env=env, capture_output=True, text=True, timeout=60)
            runs = json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else []
    finally:
        serve.terminate()
        _, err = serve.communicate(timeout=30)
    done = [r for r in runs if r["status"] == "succeeded"]
    assert done, f"no successful run from the bundle's serve; stderr: {err[-2000:]}"
    assert done[0]["cause"] == "scheduled" and Path(done[0]["log_path"]).read_text().strip() == "from bundle"
