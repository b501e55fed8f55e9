"""A one-off (date) job that has run is "Finished" in the window as in `jobdesk list`, cannot be
paused, and offers "Run again at…" (the editor's Date tab with a new time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PySide6.QtCore import Qt

from desktop.joblist.model import NAME, STATE
from jobs import triggers
from jobs.model import DateSpec, JobSpec, RunStatus

ROOT = Path(__file__).resolve().parents[2]
TZ = triggers.local_timezone_name()


def state_of(window, job_id: str) -> str:
    return window.jobs_model.index(window.jobs_model.row_of(job_id), STATE).data()


def click_row(window, qtbot, job_id: str) -> None:
    proxy_index = window.jobs_proxy.mapFromSource(window.jobs_model.index(window.jobs_model.row_of(job_id), NAME))
    qtbot.mouseClick(window.jobs_table.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.jobs_table.visualRect(proxy_index).center())  # fmt: skip


def test_a_one_off_job_that_ran_is_finished_everywhere_and_can_run_again(window, qtbot, data_dir):
    when = (datetime.now(timezone.utc) + timedelta(seconds=2)).astimezone()
    spec = window.service.add_job(JobSpec(name="Once", command=(sys.executable, "-c", "pass"), trigger=DateSpec(when, TZ)))
    qtbot.waitUntil(lambda: window.jobs_model.row_of(spec.id) is not None, timeout=5000)
    assert state_of(window, spec.id) == "Active"
    qtbot.waitUntil(lambda: (r := window.service.last_runs([spec.id]).get(spec.id)) is not None
                    and r.status is RunStatus.SUCCEEDED, timeout=15_000)  # fmt: skip
    qtbot.waitUntil(lambda: state_of(window, spec.id) == "Finished", timeout=5000)

    window.show()
    qtbot.waitExposed(window)
    click_row(window, qtbot, spec.id)
    actions = window.job_actions
    assert window.current_spec().id == spec.id
    assert not actions.pause.isEnabled() and not actions.resume.isEnabled() and not actions.toggle_pause.isEnabled()
    assert actions.run_again.isEnabled() and actions.run_now.isEnabled()

    actions.run_again.trigger()
    editor = actions.editor
    assert editor is not None and editor.ui.trigger_tabs.currentWidget() is editor.ui.date_editor
    qtbot.waitUntil(editor.ui.ok_button.isEnabled, timeout=3000)
    new_time = editor.current_spec().trigger
    assert isinstance(new_time, DateSpec) and new_time.run_at > datetime.now(timezone.utc)
    qtbot.mouseClick(editor.ui.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(window, spec.id) == "Active", timeout=5000)
    assert window.service.list_jobs()[0].trigger == new_time
    qtbot.waitUntil(lambda: window.job_actions.pause.isEnabled() and not window.job_actions.run_again.isEnabled(), timeout=3000)


def test_the_window_and_list_agree_on_a_finished_job(window, qtbot, data_dir, tmp_path):
    when = (datetime.now(timezone.utc) + timedelta(seconds=2)).astimezone()
    spec = window.service.add_job(JobSpec(name="Once", command=(sys.executable, "-c", "pass"), trigger=DateSpec(when, TZ)))
    qtbot.waitUntil(lambda: (r := window.service.last_runs([spec.id]).get(spec.id)) is not None
                    and r.status.is_final, timeout=15_000)  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_model.row_of(spec.id) is not None and state_of(window, spec.id) != "Active",
                    timeout=5000)  # fmt: skip
    shown_state = state_of(window, spec.id)
    window.shutdown()  # the command line then reads the store itself
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    listed = subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir.root), "list", "--json"],
                            capture_output=True, text=True, env=env, timeout=60, check=True)  # fmt: skip
    (job,) = json.loads(listed.stdout)
    assert job["state"] == "finished"
    assert shown_state == "Finished"


def test_list_and_the_window_use_one_state_rule_for_every_kind_of_job(qapp):
    """`jobdesk list` and the State column said different things for a cron job whose next run
    was not known (between a resume and the next read): "finished" against "Active". Both now
    ask jobs.job_state."""
    from desktop.joblist.model import JobsModel
    from desktop.joblist.snapshot import Snapshot
    from jobs.control import job_json
    from jobs.model import CronSpec, IntervalSpec

    soon = datetime.now(timezone.utc) + timedelta(hours=1)
    past = datetime.now(timezone.utc) - timedelta(days=1)
    triggers_ = {"cron": CronSpec("0 3 * * *", TZ), "interval": IntervalSpec(1, "hours", TZ),
                 "interval-ended": IntervalSpec(1, "hours", TZ, end=past), "date": DateSpec(past, TZ)}  # fmt: skip
    expected = {("cron", None): "active", ("interval", None): "active", ("interval-ended", None): "finished",
                ("date", None): "finished"}  # fmt: skip
    specs, next_runs = [], {}
    for name, trigger in triggers_.items():
        for paused in (False, True):
            for next_run in (None, soon):
                spec = JobSpec(name=f"{name} {paused} {next_run is None}", command=("true",), trigger=trigger,
                               paused=paused, id=f"{name}-{paused}-{next_run is None}")  # fmt: skip
                specs.append(spec)
                if next_run is not None:
                    next_runs[spec.id] = next_run
    model = JobsModel()
    model.apply_snapshot(Snapshot(tuple(specs), next_runs))
    for spec in specs:
        next_run = next_runs.get(spec.id)
        listed = job_json(spec, next_run)["state"]
        shown = state_of_model(model, spec.id)
        kind = spec.id.split("-False")[0].split("-True")[0]
        want = "paused" if spec.paused else expected.get((kind, next_run), "active")
        assert (listed, shown) == (want, want.capitalize()), spec.id


def state_of_model(model, job_id: str) -> str:
    return model.index(model.row_of(job_id), STATE).data()
