"""The history panel: paged model, filters, live updates from a real service, the output viewer."""

from __future__ import annotations

import shlex
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QModelIndex, QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication

from desktop.formatting import (
    FAILURE_STATUSES,
    format_relative,
    format_size,
    format_time,
    status_colour,
    status_icon_name,
)
from desktop.history import HistoryFilter, HistoryModel, HistoryPanel, RunOutputPanel
from desktop.history.history_filter import SEARCH_DELAY_MS, HistoryFilterBar
from desktop.history.history_model import COLUMNS, ERROR, RUN_ID_ROLE, SCHEDULED, STATUS, elide_error
from desktop.history.log_tail import TAIL_BYTES, read_tail
from desktop.history.output_view import MAX_LINES, NO_OUTPUT_TEXT, NO_RUN_TEXT
from desktop.joblist.snapshot import SnapshotLoader
from desktop.history.run_text import copyable_command
from desktop.style import dark_palette
from scripts.shots.history import save_history_screenshots
from jobs.db import open_database
from jobs.history import HistoryRepository
from jobs.model import CronSpec, JobSpec, RunCause, RunOutcome, RunRecord, RunStatus
from jobs.paths import DataDir, ensure_private_dir
from jobs.service import JobService
from tests.conftest import py

ALPHA = JobSpec(id="alpha", name="Alpha backup", command=("true",), trigger=CronSpec("0 3 * * *", "UTC"))
BETA = JobSpec(id="beta", name="Beta report", command=("true",), trigger=CronSpec("0 4 * * *", "UTC"))
CYCLE = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.MISSED)
RUN_COLUMNS = "job_id, job_name, cause, status, scheduled_at, queued_at, started_at, ended_at, exit_code, command, shell, truncated, env, output_bytes"


@pytest.fixture
def repo(data_dir: DataDir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    yield HistoryRepository(engine)
    engine.dispose()


@pytest.fixture
def service(data_dir: DataDir):
    svc = JobService(data_dir)
    yield svc
    svc.shutdown()


def fill(repo: HistoryRepository, count: int = 1000) -> None:
    """`count` final rows through the repository: odd ids are Alpha, even Beta; statuses cycle."""
    repo.create_many(
        (ALPHA if n % 2 else BETA, RunCause.SCHEDULED, CYCLE[n % 4], None, "boom" if CYCLE[n % 4].is_failure else None)
        for n in range(1, count + 1)
    )


def show(qtbot, model: HistoryModel, flt: HistoryFilter) -> None:
    """Apply `flt` and wait for its first page (searches and date ranges load in the background)."""
    model.set_filter(flt)
    qtbot.waitUntil(lambda: not model.loading, timeout=3000)


def ids(model: HistoryModel) -> list[int]:
    return [model.record_at(row).id for row in range(model.rowCount())]


def record(run_id: int, status: RunStatus = RunStatus.RUNNING, **kw) -> RunRecord:
    values = dict(job_id="alpha", job_name="Alpha backup", cause=RunCause.MANUAL, status=status,
                  queued_at=datetime.now(timezone.utc))
    values.update(kw)
    return RunRecord(id=run_id, **values)


# --- display helpers ---------------------------------------------------------------------------


def test_formatting_words():
    now = datetime(2026, 11, 30, 7, 30, tzinfo=timezone.utc).astimezone()
    assert format_time(now, now=now).endswith(f"{now:%H:%M}")
    assert format_time(now.replace(year=2024), now=now).split()[3] == "2024"
    assert format_relative(now + timedelta(minutes=3), now=now) == "in 3 min"
    assert format_relative(now - timedelta(hours=2), now=now) == "2 h ago"
    assert format_relative(now + timedelta(seconds=3599), now=now) == "in 1 h"
    assert format_relative(now, now=now) == "now"
    assert format_size(int(48.3 * 1024 * 1024)) == "48.3 MiB" and format_size(TAIL_BYTES) == "256 KiB"
    assert status_icon_name(RunStatus.TIMED_OUT) == "status-timed-out"
    assert set(FAILURE_STATUSES) == {RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.KILLED, RunStatus.INTERRUPTED}
    assert elide_error("first line\nsecond") == "first line …" and len(elide_error("x" * 500)) == 120


# --- the model ---------------------------------------------------------------------------------


def test_model_loads_newest_page_first_then_more(qtbot, repo):
    fill(repo)
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter())
    assert model.rowCount() == 200
    assert ids(model) == list(range(1000, 800, -1))
    assert model.columnCount() == len(COLUMNS)
    assert model.canFetchMore(QModelIndex())
    with qtbot.waitSignal(model.rowsInserted):
        model.fetchMore(QModelIndex())
    assert ids(model)[200:] == list(range(800, 600, -1))
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == 1000 and len(set(ids(model))) == 1000
    assert model.index(0, 0).data(RUN_ID_ROLE) == 1000


def test_model_filters_by_job_status_text_and_date(qtbot, repo):
    fill(repo)
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter(job_id="alpha"))
    assert model.rowCount() == 200 and {model.record_at(r).job_id for r in range(200)} == {"alpha"}
    model.set_filter(HistoryFilter(statuses=FAILURE_STATUSES))
    assert not model.loading  # an index seek: loaded at once
    assert model.rowCount() == 200 and all(model.record_at(r).status.is_failure for r in range(200))
    model.set_filter(HistoryFilter(job_id="alpha", statuses=(RunStatus.MISSED,)))
    assert model.rowCount() == 200 and {(model.record_at(r).job_id, model.record_at(r).status) for r in range(model.rowCount())} == {
        ("alpha", RunStatus.MISSED)
    }
    model.set_filter(HistoryFilter(text="BACKUP"))
    assert model.loading and model.rowCount() == 0 and not model.canFetchMore(QModelIndex())
    qtbot.waitUntil(lambda: not model.loading, timeout=3000)
    assert {model.record_at(r).job_name for r in range(model.rowCount())} == {"Alpha backup"}
    show(qtbot, model, HistoryFilter(text="100%"))  # LIKE wildcards are literal
    assert model.rowCount() == 0 and not model.canFetchMore(QModelIndex())
    today = date.today()
    show(qtbot, model, HistoryFilter(since=today, until=today))
    assert model.rowCount() == 200
    show(qtbot, model, HistoryFilter(since=today + timedelta(days=1)))
    assert model.rowCount() == 0
    show(qtbot, model, HistoryFilter(until=today - timedelta(days=1)))
    assert model.rowCount() == 0


def test_model_display_roles(qtbot, repo):
    repo.create(ALPHA, RunCause.MANUAL, RunStatus.FAILED, error="program not found: 'nope'\nsecond line")
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter())
    assert model.index(0, 0).data() == "Alpha backup"
    assert model.index(0, STATUS).data() == "Failed"
    assert model.index(0, STATUS).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert model.index(0, ERROR).data() == "program not found: 'nope' …"
    assert model.index(0, ERROR).data(Qt.ItemDataRole.ToolTipRole).endswith("second line")
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Job"


def test_live_events_insert_update_and_ignore_stale(qtbot, repo):
    fill(repo, 10)
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter())
    with qtbot.waitSignal(model.rowsInserted):  # "finished" seen before "queued"
        model.on_run_changed(record(11, RunStatus.SUCCEEDED, exit_code=0))
    assert ids(model)[0] == 11
    with qtbot.assertNotEmitted(model.dataChanged):
        model.on_run_changed(record(11, RunStatus.QUEUED))  # late and stale
    assert model.record_at(0).status is RunStatus.SUCCEEDED
    model.on_run_changed(record(12, RunStatus.QUEUED))
    with qtbot.waitSignal(model.dataChanged):
        model.on_run_changed(record(12, RunStatus.RUNNING))
    assert ids(model)[:2] == [12, 11] and model.record_at(0).status is RunStatus.RUNNING
    assert model.rowCount() == 12


def test_live_events_respect_the_filter_and_paging(qtbot, repo):
    fill(repo, 500)
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter(statuses=(RunStatus.RUNNING,)))
    assert model.rowCount() == 0
    model.on_run_changed(record(600))
    assert ids(model) == [600]
    with qtbot.waitSignal(model.rowsRemoved):  # it ended: no longer "running"
        model.on_run_changed(record(600, RunStatus.SUCCEEDED))
    model.on_run_changed(record(600))  # stale after the end: not back
    assert model.rowCount() == 0
    model.set_filter(HistoryFilter())
    model.on_run_changed(record(5, RunStatus.SUCCEEDED))  # older than the loaded page: a later page has it
    assert model.row_of(5) is None and model.rowCount() == 200


# --- the filter bar ----------------------------------------------------------------------------


def test_filter_bar_debounces_search_and_checks_dates(qtbot):
    bar = HistoryFilterBar()
    qtbot.addWidget(bar)
    bar.set_jobs([("beta", "Beta report"), ("alpha", "Alpha backup")])
    assert [bar.job_combo.itemText(i) for i in range(bar.job_combo.count())] == ["All jobs", "Alpha backup", "Beta report"]
    emitted = []
    bar.filter_changed.connect(emitted.append)
    qtbot.keyClicks(bar.search_edit, "alp")
    assert emitted == []  # nothing per keystroke
    qtbot.waitUntil(lambda: len(emitted) == 1, timeout=SEARCH_DELAY_MS * 5)
    assert emitted[0].text == "alp"
    bar.status_combo.setCurrentIndex(bar.status_combo.findText("Failures"))
    assert emitted[-1].statuses == FAILURE_STATUSES
    bar.set_dates(date(2026, 5, 2), date(2026, 5, 1))
    assert bar.message.isVisibleTo(bar) and "after" in bar.message.text()
    assert bar.current.since is None  # the impossible range was not applied
    bar.set_dates(date(2026, 5, 1), date(2026, 5, 2))
    assert not bar.message.isVisibleTo(bar) and bar.current.until == date(2026, 5, 2)
    bar.set_jobs([("beta", "Beta report")])
    bar.set_job("alpha")
    assert bar.current.job_id == "alpha"


# --- the panel with a running service ----------------------------------------------------------


def add_job(service: JobService, name: str, code: str, **kw) -> JobSpec:
    return service.add_job(JobSpec(name=name, command=py(code), trigger=CronSpec("0 3 1 1 *", "UTC"), **kw))


def test_panel_follows_a_real_run(qtbot, service):
    service.start()
    loader = SnapshotLoader(service)
    service.events.jobs_changed.connect(loader.request)
    panel = HistoryPanel(service, jobs=loader)
    qtbot.addWidget(panel)
    assert panel.table.objectName() == "historyTable" and not panel.table.isSortingEnabled()
    assert panel.output.view.objectName() == "runOutput"
    assert panel.output.view.placeholderText() == NO_RUN_TEXT
    spec = add_job(service, "Say hello", "print('hello')")
    qtbot.waitUntil(lambda: panel.filter_bar.job_combo.findData(spec.id) > 0, timeout=2000)
    run_id = service.run_now(spec.id)
    qtbot.waitUntil(lambda: panel.model.row_of(run_id) is not None, timeout=3000)
    qtbot.waitUntil(lambda: panel.model.record_at(panel.model.row_of(run_id)).status is RunStatus.SUCCEEDED, timeout=4000)
    with qtbot.waitSignal(panel.run_selected) as selected:
        assert panel.show_run(run_id)
    assert selected.args[0].id == run_id
    assert panel.table.currentIndex().row() == panel.model.row_of(run_id)
    assert "hello" in panel.output.view.toPlainText()
    assert panel.output.open_button.isEnabled() and "Succeeded" in panel.output.summary_label.full_text()
    loader.close()


def test_live_output_of_the_selected_run_has_no_gaps_or_repeats(qtbot, service):
    service.start()
    panel = HistoryPanel(service)
    qtbot.addWidget(panel)
    spec = add_job(service, "Counter", "import time\nfor i in range(8):\n    print(f'line {i}')\n    time.sleep(0.1)")
    run_id = service.run_now(spec.id)
    qtbot.waitUntil(lambda: "line 1" in (service.data_dir.run_log(spec.id, run_id).read_text()
                                         if service.data_dir.run_log(spec.id, run_id).exists() else ""), timeout=3000)
    panel.show_run(run_id)  # mid-run: tail now, then live
    qtbot.waitUntil(lambda: "line 7" in panel.output.view.toPlainText(), timeout=4000)
    qtbot.waitUntil(lambda: panel.output.record.status is RunStatus.SUCCEEDED, timeout=3000)
    lines = panel.output.view.toPlainText().splitlines()
    assert lines == [f"line {i}" for i in range(8)]


def test_show_run_loads_pages_or_shows_the_run_alone(qtbot, service):
    fill(service.history, 1000)
    panel = HistoryPanel(service)
    qtbot.addWidget(panel)
    assert panel.model.rowCount() == 200
    assert panel.show_run(450)  # on the third page
    assert panel.model.record_at(panel.table.currentIndex().row()).id == 450
    panel.set_job_filter("alpha")
    assert {panel.model.record_at(r).job_id for r in range(panel.model.rowCount())} == {"alpha"}
    assert not panel.show_run(2)  # a Beta run: filtered out, shown alone
    assert panel.output.record.id == 2 and not panel.table.selectionModel().hasSelection()
    panel.set_job_filter(None)
    assert not panel.show_run(99999) and panel.output.record is None


def test_search_keeps_the_selection_and_says_when_nothing_matches(qtbot, service):
    fill(service.history, 10)
    panel = HistoryPanel(service)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.show_run(9)
    panel.filter_bar.set_search("alpha")
    assert panel.empty_label.text() == "Searching…" and panel.empty_label.isVisible()
    qtbot.waitUntil(lambda: not panel.model.loading, timeout=3000)
    assert panel.model.rowCount() == 5 and not panel.empty_label.isVisible()
    assert panel.model.record_at(panel.table.currentIndex().row()).id == 9
    panel.filter_bar.set_search("zzz")
    qtbot.waitUntil(lambda: panel.empty_label.text() == "No runs match these filters", timeout=3000)
    assert panel.output.record.id == 9  # the viewer keeps what it showed


def test_failed_start_shows_its_error(qtbot, service):
    service.start()
    panel = HistoryPanel(service)
    qtbot.addWidget(panel)
    spec = service.add_job(JobSpec(name="Typo", command=("pyhton3-no-such-program",), trigger=CronSpec("0 3 1 1 *", "UTC")))
    run_id = service.run_now(spec.id)
    qtbot.waitUntil(lambda: panel.model.row_of(run_id) is not None
                    and panel.model.record_at(panel.model.row_of(run_id)).status is RunStatus.FAILED, timeout=3000)
    panel.show_run(run_id)
    assert panel.output.error_label.isVisibleTo(panel)
    assert "program not found" in panel.output.error_label.text()
    assert panel.output.error_label.font().bold()
    assert panel.model.index(panel.model.row_of(run_id), 3).data() == "—"  # never started


# --- the output viewer -------------------------------------------------------------------------


def logged_run(repo: HistoryRepository, data_dir: DataDir, content: bytes, **finish) -> RunRecord:
    run_id = repo.create(ALPHA, RunCause.MANUAL, RunStatus.QUEUED)
    path = data_dir.run_log("alpha", run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    now = datetime.now(timezone.utc)
    repo.mark_started(run_id, now, path)
    repo.finish(run_id, RunOutcome(RunStatus.SUCCEEDED, 0, now, now, output_bytes=len(content), **finish))
    return repo.get(run_id)


def test_huge_log_shows_only_the_tail_with_a_header(qtbot, repo, data_dir):
    line = "row {:>8} merged into customers (upsert, 0 conflicts) ééé\n"
    content = "".join(line.format(n) for n in range(330_000)).encode()
    assert len(content) > 20_000_000
    run = logged_run(repo, data_dir, content)
    panel = RunOutputPanel(data_dir)
    qtbot.addWidget(panel)
    started = time.perf_counter()
    panel.show_record(run)
    elapsed = time.perf_counter() - started
    text = panel.view.toPlainText()
    assert len(text.encode()) <= TAIL_BYTES
    assert text.splitlines()[0].startswith("row ") and text.splitlines()[-1] == line.format(329_999).rstrip("\n")
    assert panel.view.document().blockCount() <= MAX_LINES
    assert panel.header_label.isVisibleTo(panel)
    assert panel.header_label.text().startswith(f"Showing the last 256 KiB of {format_size(len(content))} — <a")
    assert "Open log file" in panel.header_label.text() and panel.open_button.isEnabled()
    print(f"tail of a {format_size(len(content))} log shown in {elapsed * 1000:.1f} ms")


class UrlCatcher(QObject):
    """Receives file URLs instead of the desktop (QDesktopServices.setUrlHandler)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open_url(self, url: QUrl) -> None:
        self.urls.append(url)


def test_open_log_file_asks_the_desktop_for_the_file(qtbot, repo, data_dir):
    run = logged_run(repo, data_dir, b"x" * 300_000)
    panel = RunOutputPanel(data_dir)
    qtbot.addWidget(panel)
    panel.show_record(run)
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open_url")
    try:
        qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
        panel.header_label.linkActivated.emit("open")
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert [url.toLocalFile() for url in catcher.urls] == [str(run.log_path)] * 2


def test_truncation_marker_and_empty_output(qtbot, repo, data_dir):
    marker = "[jobdesk] output truncated after 100 bytes; 5000 more bytes were discarded"
    run = logged_run(repo, data_dir, b"x" * 99 + b"\n" + marker.encode() + b"\n", truncated=True)
    panel = RunOutputPanel(data_dir)
    qtbot.addWidget(panel)
    panel.show_record(run)
    assert panel.view.toPlainText().splitlines()[-1] == marker
    assert "kept only its beginning" in panel.header_label.text()
    empty = logged_run(repo, data_dir, b"")
    panel.show_record(empty)
    assert panel.view.toPlainText() == "" and panel.view.placeholderText() == NO_OUTPUT_TEXT
    panel.show_record(None)
    assert panel.view.placeholderText() == NO_RUN_TEXT and not panel.copy_button.isEnabled()
    assert not panel.open_button.isEnabled()


def test_read_tail_is_line_aligned_and_utf8_safe(tmp_path):
    path = tmp_path / "log"
    path.write_bytes(b"one\ntwo\nthr\xc3\xa9\n")
    assert read_tail(path, 9).text == "thré\n"
    assert read_tail(path).text == "one\ntwo\nthré\n" and not read_tail(path).cut
    path.write_bytes(b"abc\n\xc3")  # a character still being written
    tail = read_tail(path)
    assert tail.text == "abc\n" and tail.end_offset == 4
    assert read_tail(tmp_path / "gone").missing


def test_copy_command_puts_the_command_on_the_clipboard(qtbot, repo, data_dir):
    run = replace(
        logged_run(repo, data_dir, b"hi\n"),
        command=(sys.executable, "-c", "print('hi there')"), cwd="/srv/my reports", env=(("A", "1"), ("B", "x y")),
    )
    panel = RunOutputPanel(data_dir)
    qtbot.addWidget(panel)
    panel.show_record(run)
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    expected = f"cd '/srv/my reports' && A=1 B='x y' {shlex.join(run.command)}"
    assert QGuiApplication.clipboard().text() == expected
    shell_run = replace(run, command=("ls | wc -l",), shell=True, cwd=None, env=(("LC_ALL", "C"),))
    assert copyable_command(shell_run) == "LC_ALL=C sh -c 'ls | wc -l'"
    assert copyable_command(replace(shell_run, env=())) == "ls | wc -l"


def test_dark_palette_colours(qtbot, service):
    fill(service.history, 8)
    panel = HistoryPanel(service)
    qtbot.addWidget(panel)
    panel.setPalette(dark_palette())
    colour = panel.model.index(panel.model.row_of(1), STATUS).data(Qt.ItemDataRole.ForegroundRole)
    assert colour == status_colour(RunStatus.FAILED, dark_palette()) and colour.lightness() > 128
    panel.show_run(1)
    assert "#ff7b7b" in panel.output.error_label.styleSheet()


def test_screenshots(qtbot, tmp_path):
    paths = save_history_screenshots(tmp_path)
    assert {p.name for p in paths} >= {"history-light.png", "history-dark.png", "timeline-light.png", "timeline-dark.png"}
    assert all(p.stat().st_size > 1000 for p in paths)


# --- a million rows ----------------------------------------------------------------------------


@pytest.mark.slow
def test_first_page_of_a_million_rows_is_one_indexed_query(qtbot, repo):
    count = 1_000_000
    base = time.time() - count * 60
    rows = (
        (f"job{n % 50}", f"Job number {n % 50}", "scheduled", CYCLE[n % 4].value, base + n * 60, base + n * 60,
         base + n * 60 + 1, base + n * 60 + 3, 0, "[]", 0, 0, "{}", 0)
        for n in range(count)
    )
    with repo._engine.begin() as conn:  # bulk insert (executemany) for the test only
        conn.exec_driver_sql(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES ({', '.join('?' * 14)})", list(rows))
    model = HistoryModel(repo.query)
    timings = {}
    for name, flt in {
        "no filter": HistoryFilter(), "one job": HistoryFilter(job_id="job7"),
        "failures": HistoryFilter(statuses=FAILURE_STATUSES),
    }.items():
        started = time.perf_counter()
        model.set_filter(flt)
        timings[name] = (time.perf_counter() - started) * 1000
        assert model.rowCount() == 200
    for name, flt in {  # in the background: the GUI thread is blocked only while starting it
        "search": HistoryFilter(text="number 7"), "search matching nothing": HistoryFilter(text="no such job"),
        "old date range": HistoryFilter(until=date(2001, 1, 1)),
    }.items():
        started = time.perf_counter()
        model.set_filter(flt)
        blocked = (time.perf_counter() - started) * 1000
        qtbot.waitUntil(lambda: not model.loading, timeout=10_000)
        timings[name] = f"{blocked:.1f} on the GUI thread, {(time.perf_counter() - started) * 1000:.0f} in all"
        assert model.rowCount() == (200 if name == "search" else 0)
    model.set_filter(HistoryFilter())
    started = time.perf_counter()
    model.fetchMore(QModelIndex())
    timings["next page"] = (time.perf_counter() - started) * 1000
    assert model.rowCount() == 400
    assert model.record_at(0).id == count and model.record_at(399).id == count - 399
    print("first page over 1,000,000 rows (ms): " + ", ".join(
        f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in timings.items()))


def test_a_run_started_by_hand_has_no_scheduled_time(qtbot, repo):
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter())
    now = datetime.now(timezone.utc)
    model.on_run_changed(record(5, RunStatus.RUNNING, scheduled_at=now, started_at=now))  # a row from before manual runs had none
    index = model.index(model.row_of(5), SCHEDULED)
    assert index.data() == "—" and index.data(Qt.ItemDataRole.ToolTipRole) == "Started by hand"
    model.on_run_changed(record(7, RunStatus.RUNNING, scheduled_at=None, started_at=now))  # as recorded now
    assert model.index(model.row_of(7), SCHEDULED).data() == "—"
    scheduled = record(6, RunStatus.RUNNING, cause=RunCause.SCHEDULED, scheduled_at=now, started_at=now)
    model.on_run_changed(scheduled)
    assert model.index(model.row_of(6), SCHEDULED).data() != "—"
