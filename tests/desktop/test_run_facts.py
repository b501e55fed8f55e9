"""The History panel shows what a run wrote (Open / Show in folder) and, for a failed run, what
changed since the last success: real runs of a real script, rows clicked with the mouse."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QPushButton

from desktop.history.history_model import JOB
from jobs.model import IntervalSpec, JobSpec, RunStatus
from tests.desktop.clicks import click_index

WRITER = "import pathlib\npathlib.Path('sales.csv').write_text('region,total\\nnorth,12\\n')\n"


class UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    @Slot(QUrl)
    def open_url(self, url: QUrl) -> None:
        self.urls.append(url.toLocalFile())


def run_and_wait(window, qtbot, spec: JobSpec) -> int:
    run_id = window.service.run_now(spec.id)
    qtbot.waitUntil(lambda: (r := window.service.get_run(run_id)) is not None and r.status.is_final, timeout=15_000)
    return run_id


def shown(window, qtbot) -> None:
    window.resize(1180, 860)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()


def open_history(window, qtbot) -> None:
    """Click the History tab."""
    bar = window.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i).replace("&", "") == "History")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())


def click_run(window, qtbot, run_id: int) -> None:
    model = window.history.model
    qtbot.waitUntil(lambda: model.row_of(run_id) is not None, timeout=5000)
    assert window.history.table.isVisible()
    click_index(qtbot, window.history.table, model.index(model.row_of(run_id), JOB))


def test_a_failed_run_shows_what_changed_and_a_good_run_its_outputs_with_buttons(window, qtbot, tmp_path):
    report = tmp_path / "report.py"
    report.write_text(WRITER)
    spec = window.service.add_job(JobSpec(name="Sales report", command=(sys.executable, str(report)),
                                          trigger=IntervalSpec(1, "days", "UTC"), expect=("sales.csv",)))
    good = run_and_wait(window, qtbot, spec)
    time.sleep(0.05)
    report.write_text("raise SystemExit('the warehouse moved')\n")
    bad = run_and_wait(window, qtbot, spec)
    assert window.service.get_run(bad).status is RunStatus.FAILED
    edited = datetime.fromtimestamp(report.stat().st_mtime).strftime("%H:%M")

    shown(window, qtbot)
    open_history(window, qtbot)
    facts = window.history.facts
    click_run(window, qtbot, bad)
    qtbot.waitUntil(lambda: facts.changes is not None, timeout=5000)
    assert facts.isVisible() and facts.changes_label.isVisible()
    text = facts.changes_label.text()
    assert f"Changed since the last success (run #{good}):" in text
    assert f"script report.py modified at {edited} (sha256 changed)" in text
    assert not facts.outputs_box.isVisible()  # exit 1: nothing was checked

    click_run(window, qtbot, good)
    qtbot.waitUntil(lambda: facts.outputs_box.isVisible(), timeout=5000)
    assert not facts.changes_label.isVisible()
    open_button = facts.findChild(QPushButton, "openOutput")
    folder_button = facts.findChild(QPushButton, "showOutputFolder")
    assert open_button.isVisible() and folder_button.isVisible()
    assert "sales.csv" in facts.findChild(type(facts.outputs_title), "outputFile").text()
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open_url")
    try:
        qtbot.mouseClick(open_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(folder_button, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert catcher.urls == [str(tmp_path / "sales.csv"), str(tmp_path)]


def test_a_run_that_forgot_its_output_says_so_and_has_no_earlier_success(window, qtbot, tmp_path):
    report = tmp_path / "forgets.py"
    report.write_text("print('done, honestly')\n")
    spec = window.service.add_job(JobSpec(name="Forgetful", command=(sys.executable, str(report)),
                                          trigger=IntervalSpec(1, "days", "UTC"), expect=("out-{date}.pdf",)))
    run_id = run_and_wait(window, qtbot, spec)
    shown(window, qtbot)
    open_history(window, qtbot)
    click_run(window, qtbot, run_id)
    facts = window.history.facts
    qtbot.waitUntil(lambda: facts.changes is not None, timeout=5000)
    assert "no earlier success" in facts.changes_label.text()
    error = window.history.output.error_label.text()
    assert "expected output not written: out-" in error and Path(error).suffix == ".pdf"


def test_a_failed_run_from_before_environments_were_recorded_shows_no_block(data_dir, qtbot, request):
    main = str(Path(__file__).resolve().parents[2] / "main.py")
    jobdesk = [sys.executable, main, "--data-dir", str(data_dir.root)]
    added = subprocess.run([*jobdesk, "add", "--name", "Old failure", "--every", "1d", "--paused", "--",
                            sys.executable, "-c", "raise SystemExit(3)"], capture_output=True, text=True, timeout=60)
    ran = subprocess.run([*jobdesk, "run", "Old failure", "--wait", "--json"], capture_output=True, text=True, timeout=60)
    run_id = json.loads(ran.stdout)["id"]
    database = sqlite3.connect(data_dir.database)  # as a run recorded before schema 5 reads back
    database.execute("UPDATE runs SET environment = NULL WHERE id = ?", (run_id,))
    database.commit()
    database.close()
    assert added.returncode == 0 and ran.returncode == 3, (added.stderr, ran.stderr)  # the exit code of the run
    window = request.getfixturevalue("window")
    shown(window, qtbot)
    open_history(window, qtbot)
    click_run(window, qtbot, run_id)
    facts = window.history.facts
    qtbot.waitUntil(lambda: facts.record is not None and facts.record.id == run_id)
    assert facts.record.environment is None
    qtbot.wait(200)  # a comparison, had one been asked for, would have answered by now
    assert not facts.isVisible() and facts.changes is None  # nothing to compare: no block, no noise


def test_the_editor_sets_expected_outputs_by_typing_and_names_a_bad_placeholder(qtbot):
    from desktop.editor import JobEditorDialog
    from desktop.editor.field_marks import is_marked

    editor = JobEditorDialog()
    qtbot.addWidget(editor)
    editor.show()
    qtbot.keyClicks(editor.ui.name_edit, "Sales")
    qtbot.keyClicks(editor.ui.command_field.line_edit, "python3 report.py")
    tabs = editor.ui.more_tabs
    bar = tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "Outputs")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    outputs = editor.ui.outputs_form
    assert tabs.currentWidget() is outputs
    qtbot.keyClicks(outputs.expect_edit, "sales-{scheduled:%Y-%m-%d}.pdf")
    qtbot.keyClick(outputs.expect_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(outputs.expect_edit, "out/*.csv")
    qtbot.waitUntil(editor.is_valid, timeout=2000)
    assert editor.current_spec().expect == ("sales-{scheduled:%Y-%m-%d}.pdf", "out/*.csv")

    qtbot.keyClick(outputs.expect_edit, Qt.Key.Key_Return)
    qtbot.keyClicks(outputs.expect_edit, "x-{dat}.txt")
    qtbot.waitUntil(lambda: not editor.is_valid(), timeout=2000)
    assert editor.problems()[0].startswith("outputs: line 3: 'x-{dat}.txt': unknown placeholder {dat}")
    assert is_marked(outputs.expect_edit) and not editor.ui.ok_button.isEnabled()


def test_a_job_with_expected_outputs_round_trips_through_the_editor(qtbot):
    from desktop.editor import JobEditorDialog

    spec = JobSpec(id="abc", name="x", command=("true",), trigger=IntervalSpec(1, "days", "UTC"),
                   expect=("a-{date}.pdf", "b/*.csv"))
    editor = JobEditorDialog(spec)
    qtbot.addWidget(editor)
    assert editor.current_spec() == spec


def test_screenshots_of_outputs_and_changed_since(qtbot, tmp_path):
    from PySide6.QtGui import QImage

    from scripts.shots.outputs import save_outputs_screenshots

    paths = save_outputs_screenshots(tmp_path)
    assert sorted(p.name for p in paths) == ["changed-since-dark.png", "changed-since-light.png",
                                             "outputs-dark.png", "outputs-light.png"]
    for path in paths:
        image = QImage(str(path))
        assert image.width() == 1100 and image.height() >= 560
