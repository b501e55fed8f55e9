"""Interpreters a job can "run with": Python virtualenvs, conda envs, pyenv versions, Rscript, python3.

A job's `run_with` is the path of an interpreter; the run's argv is that path followed by the
job's command tokens (`JobSpec.argv`): `run_with=/home/me/.venvs/sales/bin/python` and command
`report.py --month 11` run `/home/me/.venvs/sales/bin/python report.py --month 11`. So the command
names the script, not the interpreter.

Discovery looks where analysts keep environments: ~/.virtualenvs, ~/venvs, ~/.venvs, ~/.venv, a
`.venv`/`venv` beside a given script, pyenv's versions, conda's environments (the usual
install folders, and `conda env list --json` when conda is on PATH, with a timeout), `Rscript`
and the system `python3`. Versions are read from files (pyvenv.cfg, conda-meta, folder names),
never by starting an interpreter; where no file says, the version is None.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

VENV, CONDA, PYENV, SYSTEM, R = "venv", "conda", "pyenv", "system", "R"
CONDA_TIMEOUT = 5.0  # seconds for `conda env list` (a cold conda takes 1-3 s)
# Folders that hold one virtualenv per subfolder, and single virtualenvs, under home
VENV_HOMES = (".virtualenvs", "venvs", ".venvs")
SINGLE_VENVS = (".venv", "venv")
CONDA_HOMES = ("miniconda3", "anaconda3", "miniforge3", "mambaforge", ".conda", "micromamba")
# A command that starts with one of these already names its interpreter
_INTERPRETER_NAME = re.compile(r"^(python[0-9.]*|pythonw?|py|Rscript|R)(\.exe)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Interpreter:
    name: str  # what the user recognises: the environment's folder name, "python3", "Rscript"
    path: str  # the executable, absolute (not resolved: a venv's python is a symlink)
    kind: str  # VENV, CONDA, PYENV, SYSTEM or R
    version: str | None = None

    @property
    def label(self) -> str:
        version = f" {self.version}" if self.version else ""
        return f"{self.name} ({self.kind}{version})"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def env_python(env_dir: Path) -> Path | None:
    """The Python executable of an environment folder (venv or conda), if it has one."""
    for candidate in (env_dir / "bin" / "python", env_dir / "Scripts" / "python.exe", env_dir / "python.exe"):
        if _executable(candidate):
            return candidate
    return None


def _executable(path: Path) -> bool:
    try:
        return path.is_file() and os.access(path, os.X_OK)
    except OSError:
        return False


def _venv_version(env_dir: Path) -> str | None:
    try:
        text = (env_dir / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("version", "version_info"):
            return value.strip()
    return None


def _conda_version(env_dir: Path) -> str | None:
    try:
        for entry in (env_dir / "conda-meta").glob("python-[0-9]*.json"):
            return entry.name[len("python-"):].split("-")[0]
    except OSError:
        pass
    return None


def _venv_at(env_dir: Path, name: str | None = None) -> Interpreter | None:
    python = env_python(env_dir)
    if python is None:
        return None
    if (env_dir / "conda-meta").is_dir():
        return Interpreter(name or env_dir.name, str(python), CONDA, _conda_version(env_dir))
    return Interpreter(name or env_dir.name, str(python), VENV, _venv_version(env_dir))


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir())
    except OSError:
        return []


def _virtualenvs(home: Path, near: Iterable[Path]) -> list[Interpreter]:
    found: list[Interpreter] = []
    for holder in VENV_HOMES:
        found += [i for i in (_venv_at(d) for d in _subfolders(home / holder)) if i is not None]
    for single in SINGLE_VENVS:
        interpreter = _venv_at(home / single, f"~/{single}")
        if interpreter is not None:
            found.append(interpreter)
    for folder in near:
        for single in SINGLE_VENVS:
            interpreter = _venv_at(folder / single, f"{folder.name}/{single}")
            if interpreter is not None:
                found.append(interpreter)
    return found


def _pyenv(home: Path, environ: Mapping[str, str]) -> list[Interpreter]:
    root = Path(environ.get("PYENV_ROOT") or home / ".pyenv")
    found = []
    for version_dir in _subfolders(root / "versions"):
        python = env_python(version_dir)
        if python is not None:
            found.append(Interpreter(f"pyenv {version_dir.name}", str(python), PYENV, version_dir.name))
    return found


def _conda(home: Path, environ: Mapping[str, str], timeout: float) -> list[Interpreter]:
    env_dirs: list[Path] = []
    for base in CONDA_HOMES:
        root = home / base
        if (root / "conda-meta").is_dir():
            env_dirs.append(root)
        env_dirs += _subfolders(root / "envs")
    conda = environ.get("CONDA_EXE") or shutil.which("conda", path=environ.get("PATH"))
    if conda:
        try:
            done = subprocess.run([conda, "env", "list", "--json"], capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)  # fmt: skip
            env_dirs += [Path(p) for p in json.loads(done.stdout or "{}").get("envs", [])]
        except (OSError, subprocess.SubprocessError, ValueError, AttributeError):
            pass  # a broken or slow conda: the folders above still count
    found = []
    for env_dir in env_dirs:
        python = env_python(env_dir)
        if python is not None:
            name = env_dir.name if env_dir.parent.name == "envs" else f"{env_dir.name} (base)"
            found.append(Interpreter(name, str(python), CONDA, _conda_version(env_dir)))
    return found


def _system(environ: Mapping[str, str]) -> list[Interpreter]:
    found = []
    for program, kind in (("python3", SYSTEM), ("Rscript", R)):
        path = shutil.which(program, path=environ.get("PATH"))
        if path is None:
            continue
        version = None
        if kind == SYSTEM:  # /usr/bin/python3 -> python3.11: the file name says the version
            match = re.search(r"python(\d+\.\d+)", Path(path).resolve().name)
            version = match.group(1) if match else None
        found.append(Interpreter(program, path, kind, version))
    return found


def discover(near: Iterable[str | os.PathLike[str]] = (), *, environ: Mapping[str, str] | None = None,
             conda_timeout: float = CONDA_TIMEOUT) -> list[Interpreter]:  # fmt: skip
    """Every interpreter found, each path once: virtualenvs, pyenv, conda, then Rscript and python3.

    `near`: scripts or folders whose `.venv`/`venv` count too. Reads folders and, when conda is
    installed, waits up to `conda_timeout` for it: call it off the GUI thread.
    """
    env = os.environ if environ is None else environ
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    folders = []
    for item in near:
        path = Path(item).expanduser()
        folders.append(path if path.is_dir() else path.parent)
    found = _virtualenvs(home, folders) + _pyenv(home, env) + _conda(home, env, conda_timeout) + _system(env)
    seen: set[str] = set()
    unique = []
    for interpreter in found:
        if interpreter.path not in seen:
            seen.add(interpreter.path)
            unique.append(interpreter)
    return unique


def run_with_problem(path: str, *, local: bool = True) -> str | None:
    """Why `path` cannot be a job's interpreter, or None. `local=False` (a job for a pool of
    workers): the path is the worker's, so only its form is checked here."""
    if not path.strip():
        return "must not be empty (leave it out to run the command as written)"
    if not os.path.isabs(path):
        return f"{path!r} is not an absolute path"
    if not local:
        return None
    if not os.path.exists(path):
        return f"{path} does not exist"
    if not os.path.isfile(path):
        return f"{path} is not a file"
    if not os.access(path, os.X_OK):
        return f"{path} is not executable"
    return None


def command_problem(command: tuple[str, ...]) -> str | None:
    """With an interpreter the command names the script: "python3 report.py" would run python3
    as a script. Said at save time instead of as a puzzling failure at 07:30."""
    if command and _INTERPRETER_NAME.match(Path(command[0]).name):
        return (f"starts with the interpreter {command[0]!r}; with run_with give only the script "
                "and its arguments (e.g. report.py --month 11)")  # fmt: skip
    return None


def print_interpreters(as_json: bool, near: Iterable[str] = ()) -> int:
    """`jobdesk interpreters [--json]`."""
    found = discover(near)
    if as_json:
        print(json.dumps([i.as_json() for i in found], indent=2))
        return 0
    if not found:
        print("no interpreters found", file=sys.stderr)
        return 0
    width = max(len(i.name) for i in found)
    for interpreter in found:
        print(f"{interpreter.name:<{width}}  {interpreter.kind:<6}  {interpreter.version or '-':<8}  {interpreter.path}")
    return 0
