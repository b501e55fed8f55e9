"""The control socket's protocol under bad input and load (issue 9, items 11 and 14).

Malformed requests get exit code 2 and one clear line, whatever field is wrong; a request that
cannot be parsed (deep nesting, an endless line, bad bytes) gets an error answer and the server
goes on; 200 clients at once connect without retries; an import has one size limit with or
without a running instance. Fast cases use an in-process `IpcServer` (a real QLocalServer on a
real socket, driven by this thread's Qt event loop); the rest run a real `serve`.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest
from hypothesis import given, settings, strategies as st
from PySide6.QtCore import QEventLoop

from jobs import control_socket, wire
from jobs.control import ControlError, execute
from jobs.ipc import IpcServer
from jobs.ipc_client import request
from jobs.paths import DataDir
from jobs.service import JobService
from tests.jobs.serve_process import jobdesk, start_serve, stop

posix_only = pytest.mark.skipif(os.name != "posix", reason="raw Unix sockets; Windows has pipes")


# --- pure: framing and bounds -----------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_any_import_within_the_limit_fits_in_one_line(text):
    """JSON escaping at most sextuples a string, which MAX_LINE_BYTES is derived from."""
    envelope = {"op": "import", "toml": "", "source": "jobs.toml", "request_id": "0" * 32}
    line = wire.encode({**envelope, "toml": text})
    assert len(line) <= 6 * len(text.encode("utf-8", "surrogatepass")) + len(wire.encode(envelope))
    assert wire.MAX_LINE_BYTES >= 6 * wire.MAX_IMPORT_BYTES + len(wire.encode(envelope))
    assert wire.decode(line[:-1])["toml"] == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=12), st.lists(st.integers(1, 30), min_size=1, max_size=8))
def test_lines_come_out_the_same_however_the_bytes_are_split(pieces, cuts):
    stream = b"\n".join(piece.replace(b"\n", b"") for piece in pieces) + b"\n"
    buffer = wire.LineBuffer(limit=10_000)
    got, position, index = [], 0, 0
    while position < len(stream):
        size = cuts[index % len(cuts)]
        got += buffer.feed(stream[position:position + size])
        position += size
        index += 1
    assert got == stream.split(b"\n")[:-1]


def test_a_line_over_the_limit_is_refused_even_without_a_newline():
    buffer = wire.LineBuffer(limit=100)
    assert buffer.feed(b"x" * 60) == []
    with pytest.raises(wire.LineTooLong, match="over 0.0 MiB|request too large"):
        buffer.feed(b"x" * 60)


# --- in-process: every malformed field is exit code 2 -----------------------------------------


@pytest.fixture
def service(data_dir, qapp):
    svc = JobService(data_dir)
    yield svc
    svc.shutdown()


@pytest.mark.parametrize(
    "req, message",
    [
        ({"op": "history", "limit": "abc"}, 'history: limit: expected a whole number or null, got "abc"'),
        ({"op": "history", "limit": True}, "history: limit: expected a whole number or null, got true"),
        ({"op": "history", "limit": 10**30}, "history: limit: 1000000000000000000000000000000 is out of range"),
        ({"op": "history", "limit": -1}, "--limit: -1 must be between 1 and 1000000"),
        ({"op": "history", "job": ["x"]}, 'history: job: expected a string or null, got ["x"]'),
        ({"op": "history", "status": 3}, "history: status: expected a string or null, got 3"),
        ({"op": "show"}, "show: malformed request: missing field 'id'"),
        ({"op": "show", "id": "nope"}, "no job with id or name 'nope'"),
        ({"op": "add"}, "add: malformed request: missing field 'job'"),
        ({"op": "add", "job": "x"}, 'add: job: expected an object, got "x"'),
        ({"op": "import", "toml": 7}, "import: toml: expected a string, got 7"),
        ({"op": "run", "id": "x", "wait": "yes"}, 'run: wait: expected true or false or null, got "yes"'),
        ({"op": "settings", "name": {}}, "settings: name: expected a string or null, got {}"),
        ({"op": "add", "job": {}, "request_id": "../../x"}, "request_id: '../../x' is not 8-64 letters"),
        ({"op": ["list"]}, 'unknown operation ["list"]'),
        ({"op": None}, "unknown operation null"),
        ({}, "unknown operation null"),
    ],
)
def test_a_malformed_field_of_any_request_is_exit_2_with_one_line(service, req, message):
    with pytest.raises(ControlError) as caught:
        execute(service, req)
    assert caught.value.exit_code == 2
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert service.jobs.all() == []


# --- in-process server ------------------------------------------------------------------------


@pytest.fixture
def make_server(service, data_dir):
    servers = []

    def make(**options):
        server = IpcServer(service, data_dir, mode="serve", **options)
        server.listen()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def in_thread(qapp, work, *, hold_loop: float = 0.0, timeout: float = 30.0):
    """Run `work` on a plain thread while this thread runs Qt's loop (after `hold_loop` s)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(hold_loop)
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        qapp.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    thread.join(1)
    assert not thread.is_alive(), "client thread hung"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def raw_exchange(path: str, payload: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(20)
        sock.connect(path)
        try:
            sock.sendall(payload)
        except OSError:
            pass  # refused mid-way: the answer is still there to read
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        return data


@posix_only
@pytest.mark.parametrize(
    "payload, message",
    [
        (b"[" * 100_000 + b"\n", "bad request: nested too deeply"),
        (b'{"op": "list", "x": ' + b"[" * 100_000 + b"\n", "bad request: nested too deeply"),
        (b'{"op": "history", "limit": NaN}\n', "bad request: NaN is not allowed"),
        (b'{"op": "list"\n', "bad request: not JSON"),
        (b"\xff\xfe{}\n", "bad request: not UTF-8 (byte 0)"),
        (b"[1, 2]\n", "bad request: expected a JSON object, got list"),
        (b'{"op": "history", "limit": "abc"}\n', "history: limit: expected a whole number"),
        (b"x" * (3 * 1024 * 1024), "request too large: over 1 MiB in one line (imports may be 64 MiB)"),
    ],
)
def test_unparseable_requests_get_an_error_answer_and_the_server_goes_on(qapp, make_server, payload, message):
    server = make_server(max_line_bytes=1024 * 1024)
    answer = json.loads(in_thread(qapp, lambda: raw_exchange(server.path, payload)))
    assert answer["ok"] is False and answer["exit_code"] == 2 and message in answer["error"], answer
    assert in_thread(qapp, lambda: raw_exchange(server.path, b'{"op": "ping"}\n')).startswith(b'{"ok":true')


@posix_only
def test_clients_retry_with_backoff_while_the_listen_queue_is_full(qapp, make_server, data_dir):
    """A queue of 1 and a server busy for half a second: clients retry and all get through."""
    make_server(backlog=1)
    retries = []
    answers = []

    def clients():
        def one():
            answers.append(request(data_dir, {"op": "ping"}, timeout=20, connect_timeout=15,
                                   on_retry=lambda: retries.append(1)))  # fmt: skip

        threads = [threading.Thread(target=one) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    in_thread(qapp, clients, hold_loop=0.5)
    assert len(answers) == 20 and all(answer["ok"] for answer in answers)
    assert len(retries) > 0


# --- a real serve -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def serve_dir(tmp_path_factory):
    data_dir = DataDir(tmp_path_factory.mktemp("protocol") / "data")
    proc = start_serve(data_dir)
    yield data_dir
    stop(proc)


@pytest.mark.slow
@posix_only
def test_a_real_serve_answers_malformed_and_deeply_nested_requests(serve_dir):
    [path] = [str(p) for p in control_socket.candidates(serve_dir) if p.exists()]
    answer = json.loads(raw_exchange(path, b'{"op": "history", "limit": "abc"}\n'))
    assert answer == {"ok": False, "error": 'history: limit: expected a whole number or null, got "abc"', "exit_code": 2}
    answer = json.loads(raw_exchange(path, b"[" * 100_000 + b"\n"))
    assert answer["exit_code"] == 2 and "nested too deeply" in answer["error"]
    assert request(serve_dir, {"op": "list"})["ok"]


@pytest.mark.slow
def test_200_clients_at_once_all_connect_first_time(serve_dir):
    retries, answers, errors = [], [], []
    start = threading.Barrier(200)

    def one():
        start.wait()
        try:
            answers.append(request(serve_dir, {"op": "list"}, timeout=60, connect_timeout=30,
                                   on_retry=lambda: retries.append(1)))  # fmt: skip
        except Exception as exc:  # collected and shown below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(answers) == 200 and all(answer["ok"] for answer in answers)
    with open("/proc/sys/net/core/somaxconn") if os.path.exists("/proc/sys/net/core/somaxconn") else open(os.devnull) as f:
        somaxconn = int(f.read() or 0)
    if somaxconn >= 200:  # the kernel caps the backlog at somaxconn
        assert retries == []


def big_import(jobs: int, description_bytes: int) -> str:
    parts = ["format = 1\n"]
    for index in range(jobs):
        parts.append(f'\n[[job]]\nname = "job {index}"\ncommand = ["true"]\ndescription = "{"d" * description_bytes}"\n'
                     '[job.trigger]\ntype = "interval"\namount = 1\nunit = "hours"\ntimezone = "UTC"\n')  # fmt: skip
    return "".join(parts)


@pytest.mark.slow
def test_a_22_mb_import_goes_through_a_running_serve(serve_dir, tmp_path):
    text = big_import(200, 113_000)
    assert len(text) > 22_600_000
    path = tmp_path / "big.toml"
    path.write_text(text)
    result = jobdesk(serve_dir, "import", str(path), timeout=180)
    assert result.returncode == 0, result.stderr
    assert "imported 200 job(s)" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("with_serve", [True, False])
def test_an_import_over_the_limit_is_exit_2_with_or_without_serve(tmp_path, with_serve):
    data_dir = DataDir(tmp_path / "data")
    proc = start_serve(data_dir) if with_serve else None
    try:
        text = "# " + "x" * (wire.MAX_IMPORT_BYTES + 10) + "\n"
        result = jobdesk(data_dir, "import", "-", input=text, timeout=120)
    finally:
        if proc is not None:
            stop(proc)
    assert result.returncode == 2
    assert result.stderr.strip() == "jobdesk: <stdin>: 64.0 MiB of job definitions is over the import limit of 64 MiB"
