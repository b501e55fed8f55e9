"""The control socket cannot be taken over (issue 9, item 1): where it lives, who may use it.

Real `serve` and `jobdesk` processes. The cross-user cases need root: they create a throw-away
local user, run a squatting listener as that user (`setpriv`), and remove the user again; they
are skipped otherwise. Same-user strays, the long-path fallback and the refusal to run deaf
need nothing special.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from jobs import control_socket
from jobs.instance import InstanceLock
from jobs.paths import DataDir
from tests.jobs.serve_process import MAIN, child_env, jobdesk, ping, start_serve, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="socket files are POSIX; Windows has pipes")]

SYSTEM_PYTHON = "/usr/bin/python3"  # the squatter runs as another user, who cannot reach our venv

# A listener that answers every line like a Jobdesk would and writes what it received to a file.
SQUATTER = r"""
import json, os, socket, sys
path, received = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
os.chmod(path, 0o777)
srv.listen(50)
open(received + ".ready", "w").close()
while True:
    conn, _ = srv.accept()
    data = b""
    conn.settimeout(2)
    try:
        while not data.endswith(b"\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    with open(received, "ab") as out:
        out.write(data)
    conn.sendall(json.dumps({"ok": True, "result": {"id": "impostor", "jobs": [], "pid": 1, "mode": "serve"}}).encode() + b"\n")
    conn.close()
"""


def long_data_dir(tmp_path: Path) -> DataDir:
    root = tmp_path / ("long-" + "d" * 110) / "data"
    assert len(os.fsencode(root / "jobdesk.sock")) > 108
    return DataDir(root)


def digest(data_dir: DataDir) -> str:
    return hashlib.sha256(str(data_dir.root).encode()).hexdigest()[:16]


@pytest.fixture
def runtime_dir(tmp_path, monkeypatch) -> Path:
    """A private $XDG_RUNTIME_DIR for this test and its children."""
    path = tmp_path / "run"
    path.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(path))
    return path


# --- same user --------------------------------------------------------------------------------


def needs_short_path(data_dir: DataDir) -> None:
    if control_socket.primary_path(data_dir) is None:  # e.g. macOS, whose temp dir is long
        pytest.skip("this machine's temp directory is too long for a socket path in the data dir")


def test_the_socket_lives_in_the_private_data_dir(data_dir):
    needs_short_path(data_dir)
    serve = start_serve(data_dir)
    try:
        info = os.lstat(data_dir.root / "jobdesk.sock")
        assert stat.S_ISSOCK(info.st_mode) and info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o600
        assert stat.S_IMODE(os.stat(data_dir.root).st_mode) == 0o700
        old_name = Path(tempfile.gettempdir()) / f"jobdesk-{os.environ.get('USER') or 'user'}-{digest(data_dir)}"
        assert not old_name.exists()
    finally:
        stop(serve)
    assert not (data_dir.root / "jobdesk.sock").exists()  # removed on a clean stop


@pytest.mark.parametrize("stray", ["listening socket", "dead socket", "plain file"])
def test_a_stray_file_of_the_same_user_at_the_socket_path_is_replaced(data_dir, stray):
    needs_short_path(data_dir)
    data_dir.root.mkdir(parents=True, mode=0o700)
    path = data_dir.root / "jobdesk.sock"
    squatter = None
    if stray == "plain file":
        path.write_text("not a socket")
    else:
        squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        squatter.bind(str(path))
        if stray == "listening socket":
            squatter.listen(5)
        else:
            squatter.close()
    serve = start_serve(data_dir)  # waits for serve's own pid in the ping answer
    try:
        added = jobdesk(data_dir, "add", "--name", "mine", "--every", "1h", "--env", "TOKEN=s3cret", "--", "true")
        assert added.returncode == 0, added.stderr
        listed = json.loads(jobdesk(data_dir, "list", "--json").stdout)
        assert [job["id"] for job in listed] == [added.stdout.strip()]
        if stray == "listening socket":  # only this test's own readiness pings ever reached it
            squatter.setblocking(False)
            received = b""
            while True:
                try:
                    conn, _ = squatter.accept()
                except BlockingIOError:
                    break
                conn.settimeout(1)
                received += conn.recv(65536)
                conn.close()
            assert b"s3cret" not in received and b'"add"' not in received and b'"list"' not in received
    finally:
        stop(serve)
        if squatter is not None:
            squatter.close()


def test_a_long_data_dir_path_gets_a_private_socket_in_the_runtime_dir(tmp_path, runtime_dir):
    data_dir = long_data_dir(tmp_path)
    serve = start_serve(data_dir)
    try:
        added = jobdesk(data_dir, "add", "--name", "far", "--every", "1h", "--", "true")
        assert added.returncode == 0, added.stderr
        assert json.loads(jobdesk(data_dir, "list", "--json").stdout)[0]["id"] == added.stdout.strip()
        folder = runtime_dir / f"jobdesk-{os.geteuid()}"
        assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700 and os.lstat(folder).st_uid == os.geteuid()
        info = os.lstat(folder / f"{digest(data_dir)}.sock")
        assert stat.S_ISSOCK(info.st_mode) and info.st_uid == os.geteuid()
        assert not (data_dir.root / "jobdesk.sock").exists()
    finally:
        stop(serve)


def test_serve_refuses_to_start_without_its_socket(tmp_path, runtime_dir):
    """A symlink where the private socket directory should be: no socket, so no scheduling."""
    data_dir = long_data_dir(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (runtime_dir / f"jobdesk-{os.geteuid()}").symlink_to(elsewhere)
    added = jobdesk(data_dir, "add", "--name", "due", "--every", "1m", "--", "true")
    assert added.returncode == 0, added.stderr
    started = time.monotonic()
    result = subprocess.run([sys.executable, MAIN, "--data-dir", str(data_dir.root), "serve"], capture_output=True,
                            text=True, timeout=30, env=child_env())  # fmt: skip
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert "not a plain directory" in line and "not scheduling" in line, line
    assert time.monotonic() - started < 25
    lock = InstanceLock(data_dir)
    assert lock.try_acquire()  # released on the way out
    lock.release()
    assert json.loads(jobdesk(data_dir, "history", "--json").stdout) == []  # nothing ran
    assert list(elsewhere.iterdir()) == []


# --- another local user (root only) -----------------------------------------------------------


def make_user() -> tuple[str, int, int]:
    import pwd

    name = f"jdsq{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    entry = pwd.getpwnam(name)
    return name, entry.pw_uid, entry.pw_gid


@pytest.fixture
def other_users():
    """Throw-away local users, made on demand: (name, uid, gid). Root only; removed afterwards."""
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("useradd", "userdel", "setpriv")):
        pytest.skip("needs root with useradd, userdel and setpriv to create other local users")
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.skip(f"needs {SYSTEM_PYTHON} for the other users' processes")
    made: list[tuple[str, int, int]] = []

    def make() -> tuple[str, int, int]:
        made.append(make_user())
        return made[-1]

    yield make
    for name, _uid, _gid in made:
        subprocess.run(["userdel", name], check=False)


@pytest.fixture
def other_user(other_users):
    return other_users()


def as_user(user: tuple[str, int, int], *argv: str) -> list[str]:
    _name, uid, gid = user
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *argv]


@pytest.fixture
def shared_tmp():
    """A world-writable sticky directory, as /tmp is (tmp_path is inside a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="jobdesk-shared-", dir="/tmp"))
    path.chmod(0o1777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Squatter:
    def __init__(self, user: tuple[str, int, int], path: Path, workdir: Path) -> None:
        self.received = workdir / f"received-{uuid.uuid4().hex[:6]}"
        self.proc = subprocess.Popen(as_user(user, SYSTEM_PYTHON, "-c", SQUATTER, str(path), str(self.received)),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        ready = Path(str(self.received) + ".ready")
        wait_for(lambda: ready.exists() or self.proc.poll() is not None, timeout=10)
        assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""

    def got(self) -> bytes:
        return self.received.read_bytes() if self.received.exists() else b""

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()


def jobdesk_as(user: tuple[str, int, int], data_root: Path, *args: str) -> list[str]:
    """argv running this checkout's `jobdesk` as `user`, through the system Python and our
    venv's packages (the venv's own interpreter lives under /root, out of the user's reach)."""
    return as_user(user, "env", "-i", "PATH=/usr/bin:/bin", f"HOME={data_root.parent}", f"USER={user[0]}",
                   "QT_QPA_PLATFORM=offscreen", f"PYTHONPATH={sysconfig.get_paths()['purelib']}",
                   SYSTEM_PYTHON, MAIN, "--data-dir", str(data_root), *args)  # fmt: skip


def test_another_user_listening_first_on_the_old_name_gets_nothing(other_users, shared_tmp):
    """The attack of issue 9: Mallory listens on /tmp/jobdesk-alice-<hash> before Alice's `serve`;
    Alice's `serve` then ran deaf and her `add` (a secret in --env) went to Mallory."""
    version = subprocess.run([SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                             text=True).stdout.strip()  # fmt: skip
    if version != str(sys.version_info[:2]):
        pytest.skip(f"{SYSTEM_PYTHON} is {version}, our packages are built for {sys.version_info[:2]}")
    alice, mallory = other_users(), other_users()
    home = shared_tmp / "alice"
    home.mkdir(mode=0o700)
    os.chown(home, alice[1], alice[2])
    data_dir = DataDir(home / "data")
    old_name = Path("/tmp") / f"jobdesk-{alice[0]}-{digest(data_dir)}"
    workdir = shared_tmp / "mallory"
    workdir.mkdir()
    os.chown(workdir, mallory[1], mallory[2])
    squatter = Squatter(mallory, old_name, workdir)
    serve = subprocess.Popen(jobdesk_as(alice, data_dir.root, "serve"), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        lines = [serve.stderr.readline()]  # "scheduling 0 job(s) ..." once it is ready (or why not)
        while lines[-1] and "scheduling" not in lines[-1]:
            lines.append(serve.stderr.readline())
        assert "scheduling" in lines[-1], lines
        added = subprocess.run(jobdesk_as(alice, data_dir.root, "add", "--name", "secret", "--env", "TOKEN=s3cret",
                                          "--every", "1h", "--", "true"), capture_output=True, text=True, timeout=60)
        assert added.returncode == 0, added.stderr
        assert added.stdout.strip() != "impostor"
        listed = subprocess.run(jobdesk_as(alice, data_dir.root, "list", "--json"), capture_output=True, text=True,
                                timeout=60)  # fmt: skip
        assert [job["id"] for job in json.loads(listed.stdout)] == [added.stdout.strip()]
        assert squatter.got() == b""
    finally:
        squatter.stop()
        serve.kill()
        serve.communicate(timeout=30)
        old_name.unlink(missing_ok=True)


def test_a_socket_dir_made_by_another_user_stops_serve_and_the_cli(tmp_path, other_user, shared_tmp, monkeypatch):
    """Long data-dir path, no $XDG_RUNTIME_DIR: the fallback is in the (shared) temp dir, where
    another user has made `jobdesk-<uid>` first and listens inside it."""
    data_dir = long_data_dir(tmp_path)
    data_dir.root.mkdir(parents=True, mode=0o700)
    env = {"XDG_RUNTIME_DIR": None, "TMPDIR": str(shared_tmp)}
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    planted = shared_tmp / f"jobdesk-{os.geteuid()}"
    subprocess.run(as_user(other_user, "mkdir", "-m", "0777", str(planted)), check=True)
    squatter = Squatter(other_user, planted / f"{digest(data_dir)}.sock", planted)
    try:
        result = subprocess.run([sys.executable, MAIN, "--data-dir", str(data_dir.root), "serve"], capture_output=True,
                                text=True, timeout=30, env=child_env(env))  # fmt: skip
        assert result.returncode == 1, result.stderr
        [line] = result.stderr.strip().splitlines()
        assert f"belongs to user {other_user[0]!r}" in line and "not scheduling" in line, line
        lock = InstanceLock(data_dir)  # someone holds the data dir: the CLI looks for its socket
        assert lock.try_acquire()
        try:
            asked = jobdesk(data_dir, "add", "--name", "x", "--env", "TOKEN=s3cret", "--every", "1h", "--", "true", env=env)
        finally:
            lock.release()
        assert asked.returncode == 1 and "refusing to talk to" in asked.stderr and other_user[0] in asked.stderr
        assert squatter.got() == b""
    finally:
        squatter.stop()


def test_a_listener_of_another_user_behind_a_file_that_looks_ours_is_refused(other_user, shared_tmp):
    """File checks pass (our socket file, our 0700 directory) but the listener is another
    user's: the peer check (SO_PEERCRED) refuses before sending a byte."""
    if not hasattr(socket, "SO_PEERCRED"):
        pytest.skip("no SO_PEERCRED on this OS")
    data_dir = DataDir(shared_tmp / "data")  # where the other user can reach
    data_dir.root.mkdir()
    data_dir.root.chmod(0o777)
    path = data_dir.root / "jobdesk.sock"
    squatter = Squatter(other_user, path, shared_tmp)
    os.chown(path, os.geteuid(), os.getegid())
    data_dir.root.chmod(0o700)
    lock = InstanceLock(data_dir)
    assert lock.try_acquire()
    try:
        asked = jobdesk(data_dir, "list")
        assert asked.returncode == 1, asked.stderr
        assert f"runs as user {other_user[0]!r}" in asked.stderr and len(asked.stderr.strip().splitlines()) == 1
        assert squatter.got() == b""
    finally:
        lock.release()
        squatter.stop()


def test_serve_drops_connections_from_another_user(other_user, shared_tmp):
    data_dir = DataDir(shared_tmp / "data")  # where the other user can reach
    serve = start_serve(data_dir)
    try:
        data_dir.root.chmod(0o711)  # loosened by hand: the server's own check still holds
        (data_dir.root / "jobdesk.sock").chmod(0o777)
        client = ("import socket, sys\n"
                  "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(10)\n"
                  "s.connect(sys.argv[1])\n"
                  "data = b''\n"
                  "try:\n"
                  "    s.sendall(b'{\"op\": \"list\"}\\n')\n"
                  "    while chunk := s.recv(65536): data += chunk\n"
                  "except OSError: pass\n"
                  "print(repr(data))\n")  # fmt: skip
        result = subprocess.run(as_user(other_user, SYSTEM_PYTHON, "-c", client, str(data_dir.root / "jobdesk.sock")),
                                capture_output=True, text=True, timeout=30)  # fmt: skip
        assert result.stdout.strip() == "b''", result
        assert ping(data_dir)["pid"] == serve.pid  # we are still served
        dropped = f"dropped a connection to the control socket from uid {other_user[1]}"  # (written by the log's thread)
        wait_for(lambda: dropped in (data_dir.root / "jobdesk.log").read_text(), timeout=10)
    finally:
        data_dir.root.chmod(0o700)
        stop(serve)
