"""A failed run's stderr, where a user looks for why (issue 8 item 11): the notification adds its
last lines after "exit code 2 after 0.1 s", the output pane sets stderr apart from stdout (in the
file's tail and live, in a colour that reads on light and dark palettes, with a margin bar and
a tooltip that need no colour), the Jobs table's last-run tooltip says the exit code once, and
the History's Error column says something for every failed run. Driven with clicks and keys."""

from __future__ import annotations

import sys
import time

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QHelpEvent, QPalette, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from desktop.history.history_model import ERROR
from desktop.history.stream_view import STDERR_TIP, stderr_colour
from desktop.joblist.model import LAST_RUN, NAME
from desktop.style import dark_palette
from jobs import triggers
from jobs.model import CronSpec, JobSpec, Notify, RunStatus
from tests.desktop.clicks import click_index

TZ = triggers.local_timezone_name()
FAILING = "import sys\nprint('loading rows')\nprint('Traceback (most recent call last):', file=sys.stderr)\n" \
          "print('ValueError: bad row 7', file=sys.stderr)\nraise SystemExit(2)"  # fmt: skip
# stdout, then stderr, then waits for a file before a last stdout line
LIVE = "import os, sys, time\nprint('step 1', flush=True)\nprint('warning: slow disk', file=sys.stderr, flush=True)\n" \
       "while not os.path.exists(sys.argv[1]):\n    time.sleep(0.05)\nprint('step 2', flush=True)"  # fmt: skip
LONG = "import sys\nfor i in range(6000):\n    print(f'row {i:05d} ' + 'x' * 50)\nsys.stdout.flush()\n" \
       "for i in range(3):\n    print(f'problem {i}', file=sys.stderr, flush=True)\nprint('done', flush=True)\nraise SystemExit(1)"  # fmt: skip


def add(window, qtbot, name: str, code: str, *args: str) -> JobSpec:
    spec = window.service.add_job(JobSpec(name=name, command=(sys.executable, "-c", code, *args),
                                          trigger=CronSpec("0 3 * * *", TZ), notify=Notify.FAILURE))  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_model.row_of(spec.id) is not None, timeout=5000)
    return spec


def shown(window, qtbot) -> None:
    window.resize(1180, 760)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()


def run_by_hand(window, qtbot, spec: JobSpec) -> None:
    """Click the job's row, press Ctrl+R."""
    row = window.jobs_proxy.mapFromSource(window.jobs_model.index(window.jobs_model.row_of(spec.id), NAME))
    click_index(qtbot, window.jobs_table, row)
    qtbot.waitUntil(window.jobs_table.hasFocus, timeout=2000)
    QTest.keyClick(window.jobs_table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)


def last_run(window, spec: JobSpec):
    return window.service.last_runs([spec.id]).get(spec.id)


def hover_text(qtbot, widget, pos: QPoint) -> str:
    QToolTip.hideText()
    qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=3000)
    QApplication.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos)))
    return QToolTip.text() if QToolTip.isVisible() else ""


def assert_stderr_apart(qtbot, view, stderr: list[str], stdout_line: str) -> None:
    """`stderr` lines shown as stderr (colour, bar in the margin, tooltip); `stdout_line` not."""
    assert view.stderr_lines() == stderr
    text = view.toPlainText()
    assert stdout_line in text and all(line in text for line in stderr)
    document = view.document()
    first = document.find(stderr[0])
    plain = document.find(stdout_line)
    assert first.charFormat().foreground().color() == stderr_colour(view.palette())
    assert plain.charFormat().foreground().color() != stderr_colour(view.palette())
    # the non-colour cues: a bar beside the stderr line, none beside the stdout one; the tooltip
    view.setTextCursor(plain)  # the last lines in view (they end the output), as a reader scrolls to them
    view.ensureCursorVisible()
    base = view.palette().color(QPalette.ColorRole.Base)
    seen: list[object] = []

    def bars() -> tuple[bool, bool]:  # (a bar beside the stderr line, a bar beside the stdout line)
        image = view.margin.grab().toImage()
        y_err, y_out = view.cursorRect(first).center().y(), view.cursorRect(plain).center().y()
        seen[:] = [(y_err, y_out, image.height())]
        return image.pixelColor(3, y_err) != base, image.pixelColor(3, y_out) != base

    # the margin repaints after the scroll settles (a fixed 20 ms was too short on a loaded machine)
    try:
        qtbot.waitUntil(lambda: bars() == (True, False), timeout=5000)
    except Exception:
        raise AssertionError(f"margin bars {bars()} at (stderr y, stdout y, margin height) {seen}") from None
    assert hover_text(qtbot, view.viewport(), inside(view, first)) == STDERR_TIP
    assert hover_text(qtbot, view.viewport(), inside(view, plain)) == ""


def inside(view, found) -> QPoint:
    """A point on the second character of the text `found` (a QTextCursor selection)."""
    cursor = QTextCursor(view.document())
    cursor.setPosition(found.selectionStart() + 1)
    return view.cursorRect(cursor).center() + QPoint(3, 0)


def test_a_failure_notification_adds_the_last_lines_of_stderr_and_its_output_sets_them_apart(window, qtbot):
    spec = add(window, qtbot, "Nightly report", FAILING)
    shown(window, qtbot)
    run_by_hand(window, qtbot, spec)
    qtbot.waitUntil(window.banner.isVisible, timeout=10_000)
    text = window.banner.text_label.full_text()
    assert text.startswith("Nightly report failed — exit code 2 after "), text
    assert text.endswith(" s — Traceback (most recent call last): — ValueError: bad row 7"), text
    assert text.count("exit code") == 1
    channel, title, body = window.notifier.last
    assert body.splitlines()[1:] == ["Traceback (most recent call last):", "ValueError: bad row 7"]

    qtbot.mouseClick(window.banner.view_button, Qt.MouseButton.LeftButton)
    view = window.history.output.view
    qtbot.waitUntil(lambda: "ValueError" in view.toPlainText(), timeout=5000)
    assert window.history.output.error_label.isHidden()  # "exit code 2" is in the summary already
    assert_stderr_apart(qtbot, view, ["Traceback (most recent call last):", "ValueError: bad row 7"], "loading rows")

    window.setPalette(dark_palette())  # and in a dark palette: the light red
    qtbot.waitUntil(lambda: view.document().find("ValueError").charFormat().foreground().color()
                    == stderr_colour(dark_palette()), timeout=3000)  # fmt: skip
    assert stderr_colour(dark_palette()).lightness() > 128 > stderr_colour(QApplication.style().standardPalette()).lightness()


def test_live_output_shows_stderr_apart_while_the_run_goes_on(window, qtbot, tmp_path):
    go_on = tmp_path / "go-on"
    spec = add(window, qtbot, "Live", LIVE, str(go_on))
    shown(window, qtbot)
    run_by_hand(window, qtbot, spec)
    qtbot.waitUntil(lambda: (r := last_run(window, spec)) is not None and r.status is RunStatus.RUNNING, timeout=5000)
    QTest.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)  # History
    table = window.history.table
    qtbot.waitUntil(lambda: table.model().rowCount() >= 1, timeout=5000)
    click_index(qtbot, table, table.model().index(0, 0))
    view = window.history.output.view
    qtbot.waitUntil(lambda: view.stderr_lines() == ["warning: slow disk"] and "step 1" in view.toPlainText(), timeout=5000)
    assert last_run(window, spec).status is RunStatus.RUNNING  # seen live
    assert_stderr_apart(qtbot, view, ["warning: slow disk"], "step 1")
    go_on.touch()
    qtbot.waitUntil(lambda: "step 2" in view.toPlainText(), timeout=10_000)
    qtbot.waitUntil(lambda: last_run(window, spec).status.is_final, timeout=10_000)
    time.sleep(0.1)
    qtbot.wait(200)
    assert view.toPlainText().splitlines() == ["step 1", "warning: slow disk", "step 2"]
    assert view.stderr_lines() == ["warning: slow disk"]


def run_and_open_its_output(window, qtbot, name: str, code: str, last_text: str):
    """Add a job, run it by hand, wait for its end, then open its run in History (Ctrl+4, a click
    on the row) until `last_text` shows: the output pane."""
    spec = add(window, qtbot, name, code)
    shown(window, qtbot)
    run_by_hand(window, qtbot, spec)
    qtbot.waitUntil(lambda: (r := last_run(window, spec)) is not None and r.status.is_final, timeout=15_000)
    QTest.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    table = window.history.table
    qtbot.waitUntil(lambda: table.model().rowCount() >= 1, timeout=5000)
    click_index(qtbot, table, table.model().index(0, 0))
    output = window.history.output
    qtbot.waitUntil(lambda: last_text in output.view.toPlainText(), timeout=5000)
    return output


def test_the_tail_of_a_long_log_keeps_stderr_apart(window, qtbot):
    output = run_and_open_its_output(window, qtbot, "Long", LONG, "done")
    assert output.header_label.text().startswith("Showing the last 256 KiB of ")  # the tail only
    assert "row 00000" not in output.view.toPlainText()
    assert output.view.stderr_lines() == ["problem 0", "problem 1", "problem 2"]
    assert_stderr_apart(qtbot, output.view, ["problem 0", "problem 1", "problem 2"], "done")


# a progress line on stdout without its newline, then an error on stderr that starts a new line
PROGRESS = "import sys, time\nsys.stdout.write('copied 50%'); sys.stdout.flush()\ntime.sleep(0.2)\n" \
           "sys.stderr.write('\\nerror: disk full\\n'); sys.stderr.flush()\nraise SystemExit(1)"  # fmt: skip


def test_a_stdout_line_that_stderr_only_ends_gets_no_stderr_bar(window, qtbot):
    view = run_and_open_its_output(window, qtbot, "Copy", PROGRESS, "disk full").view
    assert view.toPlainText().splitlines()[:2] == ["copied 50%", "error: disk full"]
    assert_stderr_apart(qtbot, view, ["error: disk full"], "copied 50%")


def test_the_jobs_tooltip_says_the_exit_code_once_with_the_last_stderr_line(window, qtbot):
    spec = add(window, qtbot, "Nightly report", FAILING)
    shown(window, qtbot)
    run_by_hand(window, qtbot, spec)
    qtbot.waitUntil(lambda: (r := window.jobs_model.last_run(spec.id)) is not None and r.status.is_final, timeout=10_000)
    table = window.jobs_table
    cell = window.jobs_proxy.mapFromSource(window.jobs_model.index(window.jobs_model.row_of(spec.id), LAST_RUN))
    text = hover_text(qtbot, table.viewport(), table.visualRect(cell).center())
    assert text.count("exit code 2") == 1, text
    assert text.splitlines()[-1] == "stderr: ValueError: bad row 7"


@pytest.fixture
def old_runs(data_dir):
    """Runs written before every failure had an error text (error NULL), before the window opens."""
    from sqlalchemy import text

    from jobs.db import open_database
    from jobs.paths import ensure_private_dir

    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    now = time.time()
    with engine.begin() as conn:
        for exit_code, status in ((3, "failed"), (None, "interrupted"), (0, "succeeded")):
            conn.execute(text("INSERT INTO runs (job_id, job_name, cause, status, scheduled_at, queued_at, started_at, "
                              "ended_at, exit_code, command, shell, truncated, env, output_bytes) VALUES ('old', 'Old job', "
                              "'scheduled', :status, :t, :t, :t, :t, :code, '[\"true\"]', 0, 0, '{}', 0)"),
                         {"status": status, "t": now, "code": exit_code})  # fmt: skip
    engine.dispose()


def test_the_error_column_says_something_for_every_failed_run(old_runs, window, qtbot):
    shown(window, qtbot)
    QTest.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    table = window.history.table
    qtbot.waitUntil(lambda: table.model().rowCount() == 3, timeout=5000)
    words = [table.model().index(row, ERROR).data() for row in range(3)]
    assert words == ["", "Interrupted", "exit code 3"]


class Screen:
    """What a view would show, given the splits (the OutputView's bookkeeping, without Qt)."""

    def __init__(self) -> None:
        self.pieces: list[tuple[str, str]] = []
        self.provisional = 0
        self.redrawn = 0  # characters shown again

    def apply(self, split) -> None:
        if split.replace and self.provisional:
            self.redrawn += self.provisional
            drop = self.provisional
            while drop:
                stream, t = self.pieces.pop()
                if len(t) > drop:
                    self.pieces.append((stream, t[:-drop]))
                    drop = 0
                else:
                    drop -= len(t)
        self.pieces += split.text
        self.provisional = split.provisional

    def streams(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for stream, text in self.pieces:
            if out and out[-1][0] == stream:
                out[-1] = (stream, out[-1][1] + text)
            elif text:
                out.append((stream, text))
        return out


def test_text_the_sidecar_does_not_list_yet_is_shown_again_once_it_does(tmp_path):
    """The runner lists a growing stderr stretch a little after writing it: the newest bytes are
    provisional until the sidecar covers them (or they are old enough), then shown for good."""
    from desktop.history.log_streams import SETTLE_S, LogStreams
    from jobs.runlog import LogSink

    now = [0.0]
    log = tmp_path / "1.log"
    sink = LogSink(log, 1 << 20, decode=True)
    streams, screen = LogStreams(log, 0, clock=lambda: now[0]), Screen()
    sink.feed(b"step 1\n", "stdout")
    sink.feed("caf\u00e9 \u2013 ".encode()[:-2], "stderr")  # a character cut between two reads...
    screen.apply(streams.feed(log.read_bytes(), final=False))
    assert screen.streams() == [("stdout", "step 1\ncaf\u00e9 ")]  # not listed yet: shown, as stdout meanwhile
    assert screen.provisional == len("step 1\ncaf\u00e9 ")  # all of it may still turn out to be stderr
    sink.take_text()  # the runner passes output on: the sidecar lists the stretch
    sink.feed("caf\u00e9 \u2013 ".encode()[-2:] + b"boom\n", "stderr")  # ...completed in the next one
    sink.feed(b"step 2\n", "stdout")  # ends the stretch: listed
    screen.apply(streams.feed(log.read_bytes()[streams.end:], final=False))
    assert screen.streams() == [("stdout", "step 1\n"), ("stderr", "caf\u00e9 \u2013 boom\n"), ("stdout", "step 2\n")]
    assert screen.provisional == len("step 2\n")
    sink.feed(b"step 3\n", "stdout")  # the sidecar is as it was: only the new line is added
    redrawn = screen.redrawn
    screen.apply(split := streams.feed(log.read_bytes()[streams.end:], final=False))
    assert not split.replace and split.text == [("stdout", "step 3\n")] and screen.redrawn == redrawn
    now[0] += SETTLE_S  # old enough: stdout for good
    screen.apply(streams.feed(b"", final=False))
    assert screen.provisional == 0 and screen.streams()[-1] == ("stdout", "step 2\nstep 3\n")
    sink.close([])


def test_a_fast_writer_leaves_little_to_show_again(tmp_path):
    """A program writing megabytes a second: only the last 16 KiB are ever provisional."""
    from desktop.history.log_streams import PROVISIONAL_MAX, LogStreams

    log = tmp_path / "2.log"
    streams = LogStreams(log, 0, clock=lambda: 0.0)
    chunk = (b"y" * 63 + b"\n") * 4096  # 256 KiB in one read, none of it old enough to settle
    split = streams.feed(chunk, final=False)
    assert split.provisional == PROVISIONAL_MAX and sum(len(text) for _, text in split.text) == len(chunk)
    later = streams.feed(chunk, final=False)
    assert not later.replace and later.provisional == PROVISIONAL_MAX  # nothing shown again
