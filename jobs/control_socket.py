"""Where the control socket lives, and who may be at the other end of it (NOTES item 40).

A socket name in /tmp can be taken by any local user who listens first; the command line then
hands its requests (environment secrets included) to that user's process and prints its answers
(issue 9, item 1). So:

- The socket lives where only this user can create files: `<data dir>/jobdesk.sock` (the data
  directory is 0700). Unix socket paths are short (107 bytes on Linux, 103 on macOS); for a
  longer data directory the socket is `jobdesk-<uid>/<hash of the data dir>.sock` under
  `$XDG_RUNTIME_DIR` (used only if it is ours and 0700, as the XDG spec requires), else under
  the temp directory. That directory is created 0700; if one is there already and is not ours,
  or is a symbolic link, we stop rather than use it.
- Both ends check the other. The command line checks the socket file's owner and that its
  directory is writable by this user only before connecting, then the peer's uid
  (SO_PEERCRED, Linux) before sending a byte. The server drops connections from other uids.
- Windows has named pipes, not paths: the pipe keeps the old per-user name and Qt's
  UserAccessOption restricts its ACL (not verified on Windows by us).
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import struct
import sys
import tempfile
from pathlib import Path
from typing import Callable

from jobs.paths import DataDir

SOCKET_NAME = "jobdesk.sock"
# sockaddr_un.sun_path is 108 bytes on Linux and 104 on the BSDs and macOS, NUL included.
SUN_PATH_MAX = 107 if sys.platform.startswith("linux") else 103


class InstanceUnreachable(RuntimeError):
    """No running Jobdesk could be asked (nothing was sent unless the subclass says so)."""


class UnsafeSocket(InstanceUnreachable):
    """The socket's place or the process behind it belongs to someone else: never talk to it."""


def _uid() -> int:
    return os.geteuid()


def _who(uid: int) -> str:
    try:
        import pwd

        return f"user {pwd.getpwuid(uid).pw_name!r} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _digest(data_dir: DataDir) -> str:
    return hashlib.sha256(str(data_dir.root).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def pipe_name(data_dir: DataDir) -> str:
    """Windows only: a named pipe (there is no socket file to place)."""
    user = os.environ.get("USERNAME") or os.environ.get("USER") or "user"
    return f"jobdesk-{user}-{_digest(data_dir)}"


def fits(path: Path) -> bool:
    return len(os.fsencode(path)) <= SUN_PATH_MAX


def primary_path(data_dir: DataDir) -> Path | None:
    """`<data dir>/jobdesk.sock`, or None when that path is too long for a Unix socket."""
    path = data_dir.root / SOCKET_NAME
    return path if fits(path) else None


def fallback_dir() -> Path:
    """The per-user directory for sockets of data directories with long paths."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    base = Path(tempfile.gettempdir())
    if runtime and os.path.isabs(runtime):
        try:
            info = os.stat(runtime)
        except OSError:
            info = None
        if info is not None and stat.S_ISDIR(info.st_mode) and info.st_uid == _uid() and not info.st_mode & 0o077:
            base = Path(runtime)
    return base / f"jobdesk-{_uid()}"


def fallback_path(data_dir: DataDir) -> Path:
    return fallback_dir() / f"{_digest(data_dir)}.sock"


def candidates(data_dir: DataDir) -> list[Path]:
    """Where a client looks, in order (the server listens on the first place that works)."""
    primary = primary_path(data_dir)
    return ([primary] if primary is not None else []) + [fallback_path(data_dir)]


# --- the server's side -------------------------------------------------------------------------


def choose_place(data_dir: DataDir, try_listen: Callable[[Path], str | None]) -> Path:
    """Listen (through `try_listen`, which returns None or why it failed) on the first place
    that works: the data directory, else the private fallback directory. Raises UnsafeSocket
    saying why neither worked; the fallback directory is only made when it is needed."""
    problems = []
    primary = primary_path(data_dir)
    if primary is None:
        problems.append(f"{data_dir.root / SOCKET_NAME} is longer than a Unix socket path may be ({SUN_PATH_MAX} bytes)")
    else:
        problem = _private_dir_problem(data_dir.root, follow=True) or try_listen(primary)
        if problem is None:
            return primary
        problems.append(problem)
    try:
        prepare_private_dir(fallback_dir())
        fallback = fallback_path(data_dir)
        problem = try_listen(fallback) if fits(fallback) else f"{fallback} is too long for a Unix socket"
    except UnsafeSocket as exc:
        problem = str(exc)
    if problem is None:
        return fallback
    problems.append(problem)
    raise UnsafeSocket("; ".join(problems))


def prepare_private_dir(path: Path) -> None:
    """Create `path` 0700, or check that the one already there is ours and not a symlink."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise UnsafeSocket(f"cannot create {path} for the control socket: {exc.strerror or exc}") from None
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
        raise UnsafeSocket(f"{path} is not a plain directory (a symbolic link or a file); remove it")
    if info.st_uid != _uid():
        raise UnsafeSocket(f"{path} belongs to {_who(info.st_uid)}, not to you; remove it or set XDG_RUNTIME_DIR")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)  # ours but loose (an older umask): a planted socket is unlinked before we listen


# --- the client's side -------------------------------------------------------------------------


def _private_dir_problem(path: Path, *, follow: bool) -> str | None:
    """Why other users could create files in `path`, or None if they cannot."""
    try:
        info = os.stat(path) if follow else os.lstat(path)
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{path} is not a directory"
    if info.st_uid != _uid():
        return f"{path} belongs to {_who(info.st_uid)}"
    if info.st_mode & 0o022:
        return f"{path} is writable by other users (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def socket_ready(path: Path, data_dir: DataDir) -> bool:
    """Whether to connect to `path`: False if nothing is there; raises UnsafeSocket if it is
    not ours, or lies in a directory where someone else could have put it."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise UnsafeSocket(f"cannot check the control socket {path}: {exc.strerror or exc}") from None
    if not stat.S_ISSOCK(info.st_mode):
        raise UnsafeSocket(f"refusing to use {path}: it is not a socket")
    if info.st_uid != _uid():
        raise UnsafeSocket(f"refusing to talk to {path}: it belongs to {_who(info.st_uid)}, not to you")
    problem = _private_dir_problem(path.parent, follow=path.parent == data_dir.root)
    if problem is not None:
        raise UnsafeSocket(f"refusing to talk to {path}: {problem}")
    return True


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a connected Unix socket; None where the OS
    gives no way to ask (then the file and directory checks above are all we have)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid)


def peer_uid_of_fd(fd: int) -> int | None:
    """`peer_uid` for a descriptor owned by someone else (Qt): asks through a duplicate."""
    dup = socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        return peer_uid(dup)
    finally:
        dup.close()


def check_peer(sock: socket.socket, path: Path) -> None:
    uid = peer_uid(sock)
    if uid is not None and uid != _uid():
        raise UnsafeSocket(f"refusing to talk to {path}: the process listening there runs as {_who(uid)}, not as you")
