"""Run with: interpreters found on disk and jobs run with one, through the `jobdesk` command.

A real virtualenv is made in the test's folder (`python -m venv --without-pip`); discovery must
find it, and a job that runs with it must print that venv's `sys.executable`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobs.codec import JobValidationError, job_from_dict, job_to_dict
from jobs.interpreters import CONDA, PYENV, VENV, discover
from jobs.model import CronSpec, JobSpec
from jobs.transfer import export_text, parse_import
from tests.jobs.test_cli_subprocess import ENV, jobdesk

PRINT_EXE = "import sys; print('EXE', sys.executable)\n"


def make_venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=60)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert python.exists()
    return python


@pytest.fixture
def home(tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def jobdesk_at_home(data_dir, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**ENV, "HOME": str(home), "PATH": os.environ.get("PATH", ""), "PYENV_ROOT": str(home / ".pyenv")}
    env.pop("CONDA_EXE", None)
    argv = [sys.executable, str(Path(__file__).resolve().parents[2] / "main.py"), "--data-dir", str(data_dir.root), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)


def test_discovery_finds_venvs_pyenv_and_conda_folders_with_their_versions(home, tmp_path):
    sales = make_venv(home / ".virtualenvs" / "sales")
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    beside = make_venv(project / ".venv")
    pyenv_python = home / ".pyenv" / "versions" / "3.12.1" / "bin" / "python"
    conda_env = home / "miniconda3" / "envs" / "stats"
    for python in (pyenv_python, conda_env / "bin" / "python"):
        python.parent.mkdir(parents=True)
        python.write_text("#!/bin/sh\n")
        python.chmod(0o755)
    (conda_env / "conda-meta").mkdir()
    (conda_env / "conda-meta" / "python-3.11.9-h1234_0.json").write_text("{}")
    (home / ".virtualenvs" / "not-an-env").mkdir()  # a folder without a python: not listed

    environ = {"HOME": str(home), "PATH": os.environ.get("PATH", "")}
    found = {i.path: i for i in discover([project / "report.py"], environ=environ)}
    version = f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}"
    assert (found[str(sales)].name, found[str(sales)].kind, found[str(sales)].version) == ("sales", VENV, version)
    assert (found[str(beside)].name, found[str(beside)].kind) == ("project/.venv", VENV)
    assert (found[str(pyenv_python)].kind, found[str(pyenv_python)].version) == (PYENV, "3.12.1")
    stats = found[str(conda_env / "bin" / "python")]
    assert (stats.name, stats.kind, stats.version) == ("stats", CONDA, "3.11.9")
    assert not any("not-an-env" in path for path in found)


def test_conda_env_list_is_asked_with_a_timeout(home, tmp_path):
    """A conda that hangs costs at most the timeout; one that answers adds its environments."""
    env_dir = tmp_path / "elsewhere" / "envs" / "geo"
    make_venv(env_dir)
    fake = tmp_path / "bin" / "conda"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho '{{\"envs\": [\"{env_dir}\"]}}'\n")
    fake.chmod(0o755)
    environ = {"HOME": str(home), "PATH": f"{fake.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    assert any(i.name == "geo" and i.kind == CONDA for i in discover(environ=environ))
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    started = time.monotonic()
    discover(environ=environ, conda_timeout=0.5)
    assert time.monotonic() - started < 5


def test_a_job_run_with_a_venv_prints_that_venvs_executable(data_dir, home, tmp_path):
    python = make_venv(home / ".venvs" / "reports")
    listed = jobdesk_at_home(data_dir, home, "interpreters", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {"name": "reports", "path": str(python), "kind": "venv"}.items() <= next(
        i for i in json.loads(listed.stdout) if i["path"] == str(python)).items()
    text = jobdesk_at_home(data_dir, home, "interpreters")
    assert "reports" in text.stdout and str(python) in text.stdout

    script = tmp_path / "report.py"
    script.write_text(PRINT_EXE)
    added = jobdesk(data_dir, "add", "--name", "report", "--every", "1h", "--paused", "--run-with", str(python), "--", str(script))
    assert added.returncode == 0, added.stderr
    job_id = added.stdout.strip()
    shown = jobdesk(data_dir, "show", job_id)
    assert f"run with:  {python}" in shown.stdout
    ran = jobdesk(data_dir, "run", job_id, "--wait")
    assert ran.returncode == 0, ran.stderr
    history = json.loads(jobdesk(data_dir, "history", "--json", "--limit", "1").stdout)
    run = history[0] if isinstance(history, list) else history["runs"][0]
    assert run["command"] == [str(python), str(script)]  # what was run, interpreter first
    assert run["cwd"] == str(tmp_path)  # the script's folder, as without an interpreter
    output = jobdesk(data_dir, "log", str(run["id"]))
    assert output.stdout.strip() == f"EXE {python}"

    back = jobdesk(data_dir, "edit", job_id, "--as-written")
    assert back.returncode == 0 and "as written" in back.stdout, back.stderr
    assert "run with" not in jobdesk(data_dir, "show", job_id).stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--run-with", "/no/such/python", "--", "report.py"], "jobdesk add: --run-with: /no/such/python does not exist"),
        (["--run-with", "{plain}", "--", "report.py"], "jobdesk add: --run-with: {plain} is not executable"),
        (["--run-with", sys.executable, "--", "python3", "report.py"],
         "jobdesk add: command: starts with the interpreter 'python3'; with run_with give only the script"),
        (["--run-with", sys.executable, "--shell", "--", "report.py"], "jobdesk add: --run-with: cannot be combined with shell"),
    ],
)
def test_a_bad_interpreter_is_refused_with_the_option_named(data_dir, tmp_path, args, message):
    plain = tmp_path / "notes.txt"  # a file without an execute bit
    plain.write_text("x")
    args, message = [a.replace("{plain}", str(plain)) for a in args], message.replace("{plain}", str(plain))
    result = jobdesk(data_dir, "add", "--name", "x", "--every", "1h", *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_edit_refuses_a_bad_interpreter_and_keeps_the_job(data_dir):
    job_id = jobdesk(data_dir, "add", "--name", "x", "--every", "1h", "--paused", "--", "report.py").stdout.strip()
    result = jobdesk(data_dir, "edit", job_id, "--run-with", "/no/such/python")
    assert result.returncode == 2 and "--run-with: /no/such/python does not exist" in result.stderr
    assert "run with" not in jobdesk(data_dir, "show", job_id).stdout
    ok = jobdesk(data_dir, "edit", "x", "--run-with", sys.executable)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(jobdesk(data_dir, "show", job_id, "--json").stdout)["definition"]["run_with"] == sys.executable


def test_run_with_round_trips_through_toml_and_is_checked_on_import(tmp_path):
    spec = JobSpec(name="r", command=("report.py",), trigger=CronSpec("0 7 * * *", "UTC"), run_with=sys.executable)
    assert job_to_dict(spec)["run_with"] == sys.executable
    assert parse_import(export_text([spec]), "x.toml")[0].run_with == sys.executable
    data = {**job_to_dict(spec), "run_with": str(tmp_path / "gone")}
    with pytest.raises(JobValidationError, match="run_with: .*gone does not exist"):
        job_from_dict(data)
    assert job_from_dict(data, validate=False).run_with == str(tmp_path / "gone")  # stored rows still load
