"""The job editor dialog as a person uses it: typing, picking, presets, keys and the result spec."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QWidget

from desktop.editor import JobEditorDialog
from desktop.editor.field_marks import is_marked, warning_color
from scripts.shots.editor import save_editor_screenshots
from desktop.style import dark_palette
from jobs.history import HistoryQuery
from jobs.model import CronSpec, DateSpec, IntervalSpec, JobSpec, Notify, Overlap, RunStatus
from jobs.service import JobService
from tests.conftest import py

PARIS = "Europe/Paris"


@pytest.fixture
def dialog(qtbot):
    editor = JobEditorDialog()
    qtbot.addWidget(editor)
    editor.show()
    return editor


def open_editor(qtbot, spec: JobSpec | None = None, **kw) -> JobEditorDialog:
    editor = JobEditorDialog(spec, **kw)
    qtbot.addWidget(editor)
    editor.show()
    return editor


def type_text(qtbot, widget, text: str) -> None:
    """Select all and type, as a person would (textEdited fires)."""
    line = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Delete)
    qtbot.keyClicks(line, text)


def wait_checked(qtbot, editor: JobEditorDialog, predicate) -> None:
    """Wait for the debounced check to show what `predicate` expects."""
    qtbot.waitUntil(lambda: bool(predicate()), timeout=2000)


def message(editor: JobEditorDialog) -> str:
    return editor.ui.validation_label.text()


def fill_basics(qtbot, editor: JobEditorDialog, name: str = "Sales report", command: str = "python3 report.py") -> None:
    type_text(qtbot, editor.ui.name_edit, name)
    type_text(qtbot, editor.ui.command_field.line_edit, command)


def future_spec(**changes) -> JobSpec:
    base = JobSpec(
        id="job-7",
        name="Nightly backup",
        command=("rsync", "-a", "/data/", "/backup/data/"),
        trigger=CronSpec("15 2 * * *", PARIS),
        description="Copies the data folder.\nSecond line.",
        tags=("backup", "nightly"),
        cwd="/tmp",
        env=(("RSYNC_RSH", "ssh -p 22"), ("LANG", "C.UTF-8")),
        timeout=5400.5,
        overlap=Overlap.PARALLEL,
        max_parallel=3,
        misfire_grace=600.0,
        coalesce=False,
        notify=Notify.ALWAYS,
        paused=True,
    )
    return replace(base, **changes)


# --- a new job --------------------------------------------------------------------------------


def test_a_new_job_typed_in_gives_the_spec_and_the_service_saves_it(qtbot, dialog, data_dir):
    assert dialog.windowTitle() == "New job"
    assert not dialog.ui.ok_button.isEnabled()
    assert "Give the job a name" in message(dialog)
    fill_basics(qtbot, dialog, "Sales report", "python3 'my report.py' --send")
    type_text(qtbot, dialog.ui.timezone_combo, PARIS)
    type_text(qtbot, dialog.ui.cron_editor.expression_edit, "30 7 * * 1-5")
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    assert dialog.ui.command_field.argv_label.full_text() == "Runs as: ['python3', 'my report.py', '--send']"
    assert dialog.ui.preview.description_label.text().startswith("At 07:30, Monday through Friday")

    qtbot.mouseClick(dialog.ui.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    spec = dialog.result_spec()
    assert spec.id == ""
    assert spec.name == "Sales report"
    assert spec.command == ("python3", "my report.py", "--send")
    assert spec.shell is False
    assert spec.trigger == CronSpec("30 7 * * 1-5", PARIS)
    assert (spec.overlap, spec.notify, spec.coalesce, spec.misfire_grace) == (Overlap.SKIP, Notify.FAILURE, True, None)

    service = JobService(data_dir)
    try:
        saved = service.add_job(spec)
        assert saved.id and service.jobs.get(saved.id).trigger == spec.trigger
    finally:
        service.shutdown()


def test_shell_mode_keeps_the_line_whole(qtbot, dialog):
    fill_basics(qtbot, dialog, "Count", "ls -1 | wc -l > count.txt")
    qtbot.mouseClick(dialog.ui.command_field.shell_check, Qt.MouseButton.LeftButton)
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    spec = dialog.current_spec()
    assert spec.shell is True
    assert spec.command == ("ls -1 | wc -l > count.txt",)
    assert "shell" in dialog.ui.command_field.argv_label.full_text()


def test_an_unclosed_quote_is_an_error_on_the_command(qtbot, dialog):
    fill_basics(qtbot, dialog, "Quote", "python3 'report.py")
    wait_checked(qtbot, dialog, lambda: "command: a quote is not closed" in message(dialog))
    assert is_marked(dialog.ui.command_field.line_edit)
    assert not dialog.ui.ok_button.isEnabled()


# --- cron ------------------------------------------------------------------------------------


def test_an_invalid_cron_disables_ok_and_says_exactly_why(qtbot, dialog):
    fill_basics(qtbot, dialog)
    type_text(qtbot, dialog.ui.cron_editor.expression_edit, "61 * * * *")
    wait_checked(qtbot, dialog, lambda: "minute: 61 is out of range 0-59" in message(dialog))
    assert not dialog.ui.ok_button.isEnabled()
    assert not dialog.ui.run_button.isEnabled()
    assert dialog.problems() == ["minute: 61 is out of range 0-59"]
    assert is_marked(dialog.ui.cron_editor.expression_edit)
    assert is_marked(dialog.ui.cron_editor.field_combos["minute"])
    assert not is_marked(dialog.ui.cron_editor.field_combos["hour"])
    assert dialog.ui.preview.model.rowCount() == 0

    type_text(qtbot, dialog.ui.cron_editor.expression_edit, "1 * * * *")
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    assert not is_marked(dialog.ui.cron_editor.field_combos["minute"])
    assert "out of range" not in message(dialog)


def test_weekday_preview_shows_only_monday_to_friday_in_the_chosen_zone(qtbot, dialog):
    type_text(qtbot, dialog.ui.timezone_combo, "America/New_York")
    type_text(qtbot, dialog.ui.cron_editor.expression_edit, "30 7 * * 1-5")
    wait_checked(qtbot, dialog, lambda: "07:30" in dialog.ui.preview.description_label.text())
    assert dialog.ui.timezone_combo.timezone() == "America/New_York"
    assert dialog.ui.preview.model.rowCount() == 10
    times = dialog.ui.preview.model.times()
    assert all(t.weekday() < 5 and (t.hour, t.minute) == (7, 30) for t in times)
    assert all(t.tzinfo.key == "America/New_York" for t in times)  # type: ignore[union-attr]
    texts = dialog.ui.preview.model.texts()
    assert all(text.split()[0] in {"Mon", "Tue", "Wed", "Thu", "Fri"} for text in texts)
    assert all(text.split(" (")[0].endswith(("07:30 EST", "07:30 EDT")) for text in texts)
    assert all(text.endswith("local)") for text in texts) == (datetime.now().astimezone().utcoffset() != times[0].utcoffset())
    relative = dialog.ui.preview.model.index(0, 1).data()
    assert relative.startswith("in ")


def test_field_pickers_and_the_expression_rewrite_each_other(qtbot, dialog):
    cron = dialog.ui.cron_editor
    type_text(qtbot, cron.expression_edit, "0 9 * * *")
    assert [cron.field_combos[f].value() for f in ("minute", "hour", "day of month", "month", "day of week")] == [
        "0", "9", "*", "*", "*",
    ]  # fmt: skip
    weekday = cron.field_combos["day of week"]
    weekday.activated.emit(weekday.findData("1-5"))  # "Monday to Friday (1-5)" chosen in the list
    assert weekday.currentText() == "1-5"
    type_text(qtbot, cron.field_combos["minute"], "*/15")
    assert cron.expression() == "*/15 9 * * 1-5"
    wait_checked(qtbot, dialog, lambda: "Every 15 minutes" in dialog.ui.preview.description_label.text())

    type_text(qtbot, cron.field_combos["hour"], "")  # emptied: an error, never "every hour"
    wait_checked(qtbot, dialog, lambda: "hour: is empty" in message(dialog))
    assert cron.expression() == "*/15 9 * * 1-5"
    assert is_marked(cron.field_combos["hour"])
    type_text(qtbot, cron.field_combos["hour"], "8")
    assert cron.expression() == "*/15 8 * * 1-5"


def test_presets_rewrite_the_expression(qtbot, dialog):
    cron = dialog.ui.cron_editor
    cron.preset_time.setTime(QTime(7, 45))
    actions = cron.preset_actions()
    assert actions["preset_daily"].text() == "Daily at 07:45"
    actions["preset_weekdays"].trigger()
    assert cron.expression_edit.text() == "45 7 * * 1-5"
    assert cron.field_combos["day of week"].value() == "1-5"
    actions["preset_weekly_0"].trigger()
    assert cron.expression() == "45 7 * * 0"
    actions["preset_monthly_15"].trigger()
    assert cron.expression() == "45 7 15 * *"
    actions["preset_hourly"].trigger()
    assert cron.expression() == "45 * * * *"
    wait_checked(qtbot, dialog, lambda: dialog.ui.preview.description_label.text().startswith("At 45 minutes past"))
    assert cron.findChild(QAction, "preset_weekly_3").text() == "Wednesday at 07:45"


def test_dst_notes_are_shown_as_information(qtbot, dialog):
    fill_basics(qtbot, dialog)
    type_text(qtbot, dialog.ui.timezone_combo, PARIS)
    type_text(qtbot, dialog.ui.cron_editor.expression_edit, "30 2 * * *")
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    notes = dialog.notes()
    assert any("02:30 does not exist" in note for note in notes)
    assert any("02:30 happens twice" in note for note in notes)
    assert "does not exist on" in message(dialog)


def test_an_unknown_time_zone_is_refused_and_the_list_is_searchable(qtbot, dialog):
    fill_basics(qtbot, dialog)
    type_text(qtbot, dialog.ui.timezone_combo, "Mars/Olympus")
    wait_checked(qtbot, dialog, lambda: "'Mars/Olympus' is not a known time zone" in message(dialog))
    assert is_marked(dialog.ui.timezone_combo)
    assert not dialog.ui.ok_button.isEnabled()
    completer = dialog.ui.timezone_combo.completer()
    completer.setCompletionPrefix("paris")
    found = [completer.completionModel().index(row, 0).data() for row in range(completer.completionCount())]
    assert found == [PARIS]


# --- interval and date --------------------------------------------------------------------------


def test_the_interval_tab_gives_an_interval_spec(qtbot, dialog):
    fill_basics(qtbot, dialog)
    type_text(qtbot, dialog.ui.timezone_combo, PARIS)
    dialog.ui.trigger_tabs.setCurrentWidget(dialog.ui.interval_editor)
    interval = dialog.ui.interval_editor
    type_text(qtbot, interval.amount_spin, "15")
    interval.unit_combo.setCurrentIndex(interval.unit_combo.findData("minutes"))
    start = datetime.now(ZoneInfo(PARIS)).replace(second=0, microsecond=0, tzinfo=None) + timedelta(days=1)
    interval.start_check.setChecked(True)
    interval.start_edit.setDateTime(_utc_qdatetime(start))
    interval.jitter_spin.setValue(5)
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    spec = dialog.current_spec()
    assert spec.trigger == IntervalSpec(15, "minutes", PARIS, start=start.replace(tzinfo=ZoneInfo(PARIS)), jitter=5)
    times = dialog.ui.preview.model.times()
    assert len(times) == 10 and times[1] - times[0] == timedelta(minutes=15)
    assert "Every 15 minutes" in dialog.ui.preview.description_label.text()

    interval.end_check.setChecked(True)
    interval.end_edit.setDateTime(_utc_qdatetime(start - timedelta(hours=1)))
    wait_checked(qtbot, dialog, lambda: "end:" in message(dialog) and "is not after the start" in message(dialog))
    assert is_marked(interval.end_edit)
    assert not dialog.ui.ok_button.isEnabled()


def test_a_date_in_the_past_is_refused(qtbot, dialog):
    fill_basics(qtbot, dialog)
    type_text(qtbot, dialog.ui.timezone_combo, PARIS)
    dialog.ui.trigger_tabs.setCurrentWidget(dialog.ui.date_editor)
    yesterday = datetime.now(ZoneInfo(PARIS)).replace(second=0, microsecond=0, tzinfo=None) - timedelta(days=1)
    dialog.ui.date_editor.date_edit.setDateTime(_utc_qdatetime(yesterday))
    wait_checked(qtbot, dialog, lambda: "is in the past" in message(dialog))
    assert f"run at: {yesterday:%Y-%m-%d %H:%M} is in the past" in dialog.problems()
    assert is_marked(dialog.ui.date_editor.date_edit)
    assert not dialog.ui.ok_button.isEnabled()

    tomorrow = yesterday + timedelta(days=2)
    dialog.ui.date_editor.date_edit.setDateTime(_utc_qdatetime(tomorrow))
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    assert dialog.current_spec().trigger == DateSpec(tomorrow.replace(tzinfo=ZoneInfo(PARIS)), PARIS)
    assert dialog.ui.preview.model.rowCount() == 1


def test_an_edited_one_off_job_that_already_ran_keeps_its_date(qtbot):
    past = DateSpec(datetime(2025, 1, 6, 9, 0, tzinfo=ZoneInfo(PARIS)), PARIS)
    editor = open_editor(qtbot, future_spec(trigger=past))
    type_text(qtbot, editor.ui.name_edit, "Renamed")
    wait_checked(qtbot, editor, editor.ui.ok_button.isEnabled)  # as JobService.update_job allows
    assert editor.result_spec().trigger == past
    assert any("no upcoming runs" in note for note in editor.notes())
    editor.ui.date_editor.date_edit.setDateTime(_utc_qdatetime(datetime(2025, 1, 7, 9, 0)))
    wait_checked(qtbot, editor, lambda: "is in the past" in message(editor))  # a new past date is not
    assert not editor.ui.ok_button.isEnabled()


def _utc_qdatetime(moment: datetime) -> QDateTime:
    """A wall time as the editors hold it (fields in a UTC QDateTime)."""
    return QDateTime(
        QDate(moment.year, moment.month, moment.day),
        QTime(moment.hour, moment.minute, moment.second),
        QTimeZone(QTimeZone.Initialization.UTC),
    )


# --- editing and duplicating ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "trigger",
    [
        CronSpec("15 2 * * *", PARIS),
        IntervalSpec(
            3, "days", PARIS,
            start=datetime(2026, 3, 1, 6, 30, 15, 123456, tzinfo=ZoneInfo(PARIS)),
            end=datetime(2031, 1, 1, tzinfo=timezone.utc), jitter=30,
        ),
        DateSpec(datetime.now(timezone.utc).replace(microsecond=987654) + timedelta(days=30), "Asia/Tokyo"),
    ],
    ids=["cron", "interval", "date"],
)  # fmt: skip
def test_editing_and_touching_nothing_gives_back_the_same_spec(qtbot, trigger):
    spec = future_spec(trigger=trigger)
    editor = open_editor(qtbot, spec)
    assert editor.windowTitle() == "Edit job — Nightly backup"
    wait_checked(qtbot, editor, editor.ui.ok_button.isEnabled)
    qtbot.keyClick(editor.ui.name_edit, Qt.Key.Key_Return)
    assert editor.result() == QDialog.DialogCode.Accepted
    assert editor.result_spec() == spec


def test_an_edit_keeps_the_id_and_changes_only_what_was_typed(qtbot):
    spec = future_spec()
    editor = open_editor(qtbot, spec)
    type_text(qtbot, editor.ui.name_edit, "Nightly backup v2")
    type_text(qtbot, editor.ui.policy_form.timeout_edit, "2h")
    wait_checked(qtbot, editor, editor.ui.ok_button.isEnabled)
    assert editor.result_spec() == replace(spec, name="Nightly backup v2", timeout=7200.0)


def test_duplicate_clears_the_id_and_renames(qtbot):
    spec = future_spec()
    editor = open_editor(qtbot, spec, duplicate=True)
    assert editor.windowTitle() == "Duplicate job"
    wait_checked(qtbot, editor, editor.ui.ok_button.isEnabled)
    result = editor.result_spec()
    assert result == replace(spec, id="", name="Nightly backup (copy)")


def test_a_long_name_is_shortened_in_the_title(qtbot):
    editor = open_editor(qtbot, future_spec(name="x" * 150))
    assert len(editor.windowTitle()) < 80 and editor.windowTitle().endswith("…")


# --- other fields -----------------------------------------------------------------------------------


def test_the_environment_table_rejects_a_name_with_equals(qtbot, dialog):
    fill_basics(qtbot, dialog)
    model = dialog.ui.env_table.model
    row = model.append_row()
    assert model.setData(model.index(row, 0), "A=B")
    assert model.setData(model.index(row, 1), "1")
    wait_checked(qtbot, dialog, lambda: "'A=B' is not a valid variable name" in message(dialog))
    assert not dialog.ui.ok_button.isEnabled()
    assert is_marked(dialog.ui.env_table.view)
    assert model.index(row, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    assert "must not contain '='" in model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)

    model.setData(model.index(row, 0), "A")
    second = model.append_row("A", "2")
    wait_checked(qtbot, dialog, lambda: "'A' is given twice" in message(dialog))
    model.remove_rows([second])
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    assert not is_marked(dialog.ui.env_table.view)
    assert dialog.current_spec().env == (("A", "1"),)


def test_durations_are_read_and_checked(qtbot, dialog):
    fill_basics(qtbot, dialog)
    policy = dialog.ui.policy_form
    type_text(qtbot, policy.timeout_edit, "15 minutes")
    wait_checked(qtbot, dialog, lambda: "timeout: '15 minutes' is not a duration" in message(dialog))
    assert is_marked(policy.timeout_edit)
    type_text(qtbot, policy.timeout_edit, "0")
    wait_checked(qtbot, dialog, lambda: "timeout: 0 must be more than 0 seconds" in message(dialog))
    type_text(qtbot, policy.timeout_edit, "1h30m")
    type_text(qtbot, policy.grace_edit, "any")
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    spec = dialog.current_spec()
    assert (spec.timeout, spec.misfire_grace) == (5400.0, None)
    type_text(qtbot, policy.grace_edit, "10m")
    wait_checked(qtbot, dialog, lambda: dialog.current_spec().misfire_grace == 600.0)


def test_max_parallel_is_enabled_only_for_parallel(qtbot, dialog):
    policy = dialog.ui.policy_form
    assert not policy.max_parallel_spin.isEnabled()
    policy.overlap_combo.setCurrentIndex(policy.overlap_combo.findData(Overlap.PARALLEL))
    assert policy.max_parallel_spin.isEnabled()
    policy.max_parallel_spin.setValue(4)
    fill_basics(qtbot, dialog)
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    assert (dialog.current_spec().overlap, dialog.current_spec().max_parallel) == (Overlap.PARALLEL, 4)


def test_a_missing_working_folder_warns_without_blocking(qtbot, dialog, tmp_path):
    fill_basics(qtbot, dialog)
    type_text(qtbot, dialog.ui.cwd_edit, str(tmp_path / "not-there"))
    wait_checked(qtbot, dialog, lambda: "does not exist; runs will fail" in message(dialog))
    assert dialog.ui.ok_button.isEnabled()
    assert dialog.current_spec().cwd == str(tmp_path / "not-there")


def test_interpreters_and_scripts_are_put_in_place(qtbot, dialog):
    command = dialog.ui.command_field
    type_text(qtbot, command.line_edit, "report.py --send")
    command.use_interpreter("/usr/bin/python3")
    assert command.line_edit.text() == "/usr/bin/python3 report.py --send"
    command.use_interpreter("/opt/R/bin/Rscript")
    assert command.line_edit.text() == "/opt/R/bin/Rscript report.py --send"
    command.use_script("/home/me/my report.R")
    assert command.line_edit.text() == "/opt/R/bin/Rscript '/home/me/my report.R' --send"
    command.fill_interpreter_menu()
    texts = [action.text() for action in command.interpreter_menu.actions() if not action.isSeparator()]
    assert texts[-1] == "Browse…"
    assert any(text.startswith("sh  —  ") for text in texts) == (shutil.which("sh") is not None)


# --- run now, keys, names ------------------------------------------------------------------------


def test_run_now_emits_the_current_spec_and_the_service_runs_it(qtbot, dialog, data_dir, qapp):
    assert not dialog.ui.run_button.isEnabled()  # a new job: disabled until valid
    type_text(qtbot, dialog.ui.name_edit, "Hello")
    dialog.ui.command_field.load(py("print('hello from the editor')"), False)
    wait_checked(qtbot, dialog, dialog.ui.run_button.isEnabled)

    service = JobService(data_dir)
    service.start()
    runs: list[int] = []

    class Runner(QWidget):  # a parented receiver, as the main window would connect it
        def run(self, spec: JobSpec) -> None:
            saved = service.add_job(spec)
            runs.append(service.run_now(saved.id))

    runner = Runner(dialog)
    dialog.run_requested.connect(runner.run)
    try:
        with qtbot.waitSignal(dialog.run_requested, timeout=1000) as blocker:
            qtbot.mouseClick(dialog.ui.run_button, Qt.MouseButton.LeftButton)
        assert blocker.args[0] == dialog.current_spec()
        assert runs and runs[0] is not None
        record = service.wait_for_run(runs[0], timeout=10)
        assert record is not None and record.status is RunStatus.SUCCEEDED
        assert service.history.query(HistoryQuery(limit=5))[0].command == py("print('hello from the editor')")
    finally:
        service.shutdown()
    assert dialog.isVisible()  # running does not close the editor


def test_enter_accepts_only_when_valid_and_escape_cancels(qtbot, dialog):
    qtbot.keyClick(dialog.ui.name_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() == 0
    fill_basics(qtbot, dialog)
    qtbot.keyClick(dialog.ui.command_field.line_edit, Qt.Key.Key_Return)  # at once: no wait for the debounce
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.result_spec().command == ("python3", "report.py")

    other = open_editor(qtbot, future_spec())
    qtbot.keyClick(other.ui.name_edit, Qt.Key.Key_Escape)
    assert other.result() == QDialog.DialogCode.Rejected


def test_tab_order_and_accessible_names(qtbot, dialog):
    dialog.activateWindow()
    dialog.ui.name_edit.setFocus()
    chain = [dialog.ui.name_edit]
    for _ in range(4):
        chain.append(chain[-1].nextInFocusChain())
        while not (chain[-1].focusPolicy() & Qt.FocusPolicy.TabFocus):
            chain[-1] = chain[-1].nextInFocusChain()
    names = [widget.objectName() for widget in chain]
    assert names[:4] == ["nameEdit", "descriptionEdit", "tagsEdit", "commandEdit"]
    for name in ("jobEditorDialog", "nameEdit", "commandEdit", "triggerTabs", "cronEdit", "intervalEdit",
                 "dateEdit", "timezoneCombo", "scheduleDescription", "nextRunsPreview", "validationMessage"):  # fmt: skip
        widget = dialog if name == "jobEditorDialog" else dialog.findChild(QWidget, name)
        assert widget is not None, name
        assert widget.accessibleName() == name


def test_warning_colour_follows_a_dark_palette(qtbot):
    editor = open_editor(qtbot)
    editor.setPalette(dark_palette())
    type_text(qtbot, editor.ui.cron_editor.expression_edit, "61 * * * *")
    wait_checked(qtbot, editor, lambda: "minute: 61" in message(editor))
    light_red, dark_red = warning_color(editor.style().standardPalette()), warning_color(dark_palette())
    assert light_red != dark_red
    assert dark_red.name() in message(editor)
    assert dark_red.lightness() > dark_palette().color(dark_palette().ColorRole.Window).lightness() + 80


def test_screenshots_are_saved(qtbot, tmp_path: Path):
    paths = save_editor_screenshots(tmp_path / "shots")
    assert [p.name for p in paths] == ["editor-cron-error-light.png", "editor-cron-error-dark.png", "editor-valid-light.png"]
    assert all(p.stat().st_size > 20_000 for p in paths)


def test_debounce_coalesces_typing_into_one_check(qtbot, dialog):
    checks: list[int] = []
    original = dialog.revalidate

    def counting() -> None:
        checks.append(1)
        original()

    dialog._debounce.timeout.disconnect()
    dialog._debounce.timeout.connect(counting)
    qtbot.keyClicks(dialog.ui.name_edit, "several keys typed quickly")
    qtbot.waitUntil(lambda: len(checks) >= 1, timeout=2000)
    qtbot.wait(200)
    assert len(checks) == 1


def test_text_set_without_typing_is_checked_too(qtbot, dialog):
    """Accessibility tools and scripts set the text without key presses: no stale error."""
    fill_basics(qtbot, dialog)
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    qtbot.wait(400)  # the typing's own check is over: nothing else is pending
    cron = dialog.ui.cron_editor
    cron.expression_edit.setText("61 * * * *")
    wait_checked(qtbot, dialog, lambda: "minute" in message(dialog) and "61" in message(dialog))
    assert not dialog.ui.ok_button.isEnabled()
    assert cron.field_combos["minute"].value() == "61"  # the pickers follow
    cron.expression_edit.setText("30 7 * * 1-5")
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    assert "61" not in message(dialog)
    assert [cron.field_combos[f].value() for f in ("minute", "hour", "day of week")] == ["30", "7", "1-5"]
    assert dialog.current_spec().trigger == CronSpec("30 7 * * 1-5", dialog.ui.timezone_combo.timezone())


def test_typing_in_a_picker_keeps_its_cursor(qtbot, dialog):
    """The line follows the pickers, and the pickers follow the line: no loop moving the cursor."""
    cron = dialog.ui.cron_editor
    weekday = cron.field_combos["day of week"]
    type_text(qtbot, weekday, "1-")
    line = weekday.lineEdit()
    line.setCursorPosition(1)
    qtbot.keyClicks(line, "0")  # "10-" with the cursor after the 0
    assert weekday.value() == "10-" and line.cursorPosition() == 2
