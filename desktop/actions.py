"""The window's commands as QActions: new, edit, duplicate, delete, run now, pause, resume, ...

The same QAction objects go into the toolbar, the menus, the jobs table's context menu and the
tray menu, so their enabled state is decided once (`update_for(spec)`). Each handler does one
short service call on the GUI thread (a row or two in SQLite) and reports in the status bar;
the tables follow through the service's events.

The actions know the window only through `ActionHost`, the few things they need of it (the
selected job, selecting one, a status line): they never import the window module. Where the
actions sit (menus, toolbar, context menu) is `desktop.menus`' business.

Keys: Ctrl+N, Ctrl+R and Ctrl+F work anywhere in the window; Return/Enter/F2 (edit), Delete and
Space (pause/resume toggle) only while the jobs table has focus, so they never steal keys from
the filter box or a dialog.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QTableView, QWidget


from desktop.icons import icon
from desktop.closing import close_choice, remember_close_choice
from desktop.settings_dialog import SettingsDialog
from desktop.naming import named
from jobs.alerts.config import secrets_path
from jobs.chains import dependents_warning
from jobs.codec import JobValidationError
from jobs.model import DateSpec, JobSpec, RunRecord, RunStatus
from jobs.repository import JobNotFound
from jobs.transfer import ImportProblem, export_text, read_import, write_atomically

from jobs.service import JobService

if TYPE_CHECKING:
    from desktop.editor.job_editor import JobEditorDialog

log = logging.getLogger(__name__)

TOML_FILTER = "Jobdesk jobs (*.toml);;All files (*)"


class ActionHost(Protocol):
    """What the actions need of the window."""

    def current_spec(self) -> JobSpec | None:
        """The selected job (None: no selection)."""

    def spec_of(self, job_id: str) -> JobSpec | None:
        """The job `job_id` as the window shows it (None: not listed)."""

    def select_job(self, job_id: str) -> bool:
        """Select `job_id` now, or once it appears (after a save)."""

    def say(self, text: str) -> None:
        """A transient line in the status bar."""

    def note_paused(self, job_id: str, paused: bool) -> None:
        """A pause or resume just happened: show it before the reload arrives."""

    def active_runs_of(self, job_id: str) -> list[RunRecord]:
        """The job's runs going on or waiting now."""


class JobActions(QObject):
    """The window's QActions and what they do.

    `parent` is the widget dialogs open over; `table` is the jobs table, where the keys that
    only make sense there (Return, Delete, Space) are active.
    """

    def __init__(self, service: JobService, host: ActionHost, parent: QWidget, table: QTableView) -> None:
        super().__init__(parent)
        self._parent = parent
        self._host = host
        self._table = table
        self._service = service
        self.editor: JobEditorDialog | None = None  # the open editor, if any
        self.settings_dialog: SettingsDialog | None = None
        self.last_import_error: str | None = None
        make = self._make
        self.new = make("newJobAction", "&New job…", "new", "Create a job", QKeySequence.StandardKey.New)
        self.edit = make("editJobAction", "&Edit…", "edit", "Edit the selected job (Return, F2)")
        self.duplicate = make("duplicateJobAction", "D&uplicate…", "duplicate", "Create a job from a copy of the selected one")
        self.delete = make("deleteJobAction", "&Delete", "delete", "Delete the selected job; its history is kept (Delete)")
        self.run_now = make("runNowAction", "&Run now", "run-now", "Run the selected job once now (Ctrl+R)", "Ctrl+R")
        self.pause = make("pauseJobAction", "&Pause", "pause", "Pause the selected job: no scheduled runs (Space)")
        self.resume = make("resumeJobAction", "Res&ume", "resume", "Resume the selected job (Space)")
        self.stop = make("stopRunsAction", "S&top", "stop", "Stop the selected job's runs going on now (their process trees are killed)")
        self.run_again = make("runAgainAction", "Run a&gain at…", "", "Give this finished one-off job a new date and time")
        self.pause_all = make("pauseAllAction", "Pause &all", "pause-all", "Pause every job")
        self.resume_all = make("resumeAllAction", "Resume a&ll", "resume-all", "Resume every paused job")
        self.import_ = make("importAction", "&Import…", "import", "Add or replace jobs from a TOML file")
        self.export = make("exportAction", "E&xport…", "export", "Save all jobs to a TOML file")
        self.settings = make("settingsAction", "&Settings…", "", "Concurrent runs and history retention")
        self.quit = make("quitAction", "&Quit", "", "Stop scheduling and quit Jobdesk", QKeySequence.StandardKey.Quit)
        self.find = make("findAction", "&Find job", "", "Filter the jobs by name or tag", QKeySequence.StandardKey.Find)
        self.show_history = make("showJobHistoryAction", "Show &history", "", "Show this job's runs in the History tab")
        self.show_stats = make("showJobStatsAction", "S&tatistics…", "", "Durations over time and success rate (Ctrl+I)", "Ctrl+I")
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)

        self._table_keys(self.edit, [Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2])
        self._table_keys(self.delete, [QKeySequence.StandardKey.Delete])
        self.toggle_pause = named(QAction("Pause or resume", self), "togglePauseAction")
        self._table_keys(self.toggle_pause, [Qt.Key.Key_Space])
        table.addAction(self.toggle_pause)
        self.job_specific = [self.edit, self.duplicate, self.delete, self.run_now, self.toggle_pause, self.show_history,
                             self.show_stats]

        self.new.triggered.connect(self.new_job)
        self.edit.triggered.connect(self.edit_job)
        self.duplicate.triggered.connect(self.duplicate_job)
        self.delete.triggered.connect(self.delete_job)
        self.run_now.triggered.connect(self.run_selected)
        self.pause.triggered.connect(self.pause_job)
        self.resume.triggered.connect(self.resume_job)
        self.toggle_pause.triggered.connect(self.toggle_selected)
        self.run_again.triggered.connect(self.run_again_at)
        self.stop.triggered.connect(self.stop_selected)
        self.pause_all.triggered.connect(self.pause_all_jobs)
        self.resume_all.triggered.connect(self.resume_all_jobs)
        self.import_.triggered.connect(self.import_jobs)
        self.export.triggered.connect(self.export_jobs)
        self.settings.triggered.connect(self.open_settings)
        self.update_for(None)

    def _make(self, name: str, text: str, icon_name: str, tip: str,
              keys: QKeySequence.StandardKey | str | None = None) -> QAction:  # fmt: skip
        action = QAction(icon(icon_name) if icon_name else icon(""), text, self._parent)
        action.setObjectName(name)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        return action

    def _table_keys(self, action: QAction, keys: list[Qt.Key | QKeySequence.StandardKey]) -> None:
        """Shortcuts active only while the jobs table has focus (shown in menus all the same)."""
        action.setShortcuts([QKeySequence(key) for key in keys])
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self._table.addAction(action)

    def job_actions(self) -> list[QAction]:
        return [self.edit, self.duplicate, self.delete, self.run_now, self.pause, self.resume]

    def update_for(self, spec: JobSpec | None, *, finished: bool = False, active: int = 0) -> None:
        """Enable what applies to the selected job (None: no selection); a finished job (a
        one-off that ran) cannot be paused but can be given a new time."""
        for action in self.job_specific:
            action.setEnabled(spec is not None)
        self.pause.setEnabled(spec is not None and not spec.paused and not finished)
        self.resume.setEnabled(spec is not None and spec.paused)
        self.toggle_pause.setEnabled(spec is not None and not finished)
        self.run_again.setEnabled(spec is not None and finished and isinstance(spec.trigger, DateSpec))
        self.stop.setEnabled(spec is not None and active > 0)

    def update_all_state(self, jobs: int, paused: int) -> None:
        """`jobs` listed, `paused` of them."""
        self.pause_all.setEnabled(paused < jobs)
        self.resume_all.setEnabled(paused > 0)
        self.export.setEnabled(jobs > 0)

    # --- editing -------------------------------------------------------------------------------

    @Slot()
    def new_job(self) -> None:
        self._open_editor(None)

    @Slot()
    def edit_job(self) -> None:
        spec = self._host.current_spec()
        if spec is not None:
            self._open_editor(spec)

    @Slot()
    def duplicate_job(self) -> None:
        spec = self._host.current_spec()
        if spec is not None:
            self._open_editor(spec, duplicate=True)

    @Slot()
    def run_again_at(self) -> None:
        """A finished one-off job: the editor on its Date tab, with a new time to confirm."""
        spec = self._host.current_spec()
        if spec is not None and isinstance(spec.trigger, DateSpec):
            self._open_editor(spec)
            if self.editor is not None:
                self.editor.choose_new_date()

    def _open_editor(self, spec: JobSpec | None, *, duplicate: bool = False) -> None:
        if self.editor is not None:
            self.editor.raise_()
            self.editor.activateWindow()
            return
        from desktop.editor.job_editor import JobEditorDialog  # ~15 modules: not needed to start

        workers = getattr(self._host, "workers", None)
        dialog = JobEditorDialog(spec, self._parent, duplicate=duplicate, pools=workers.pools() if workers else [],
                                 jobs=self._all_specs())  # fmt: skip
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.run_requested.connect(self._run_from_editor)
        dialog.accepted.connect(self._editor_accepted)
        dialog.finished.connect(self._editor_closed)
        self.editor = dialog
        dialog.open()  # window-modal, no nested event loop

    @Slot()
    def _editor_accepted(self) -> None:
        dialog = self.editor
        if dialog is None:
            return
        spec = dialog.result_spec()
        try:
            saved = self._service.update_job(spec) if spec.id else self._service.add_job(spec)
        except (JobValidationError, ValueError) as exc:
            self._error("The job was not saved", str(exc))
            return
        except JobNotFound:
            saved = self._service.add_job(replace(spec, id=""))  # deleted meanwhile: save it anew
        self._host.select_job(saved.id)
        self._host.say(f"Saved “{saved.name}”")

    @Slot()
    def _editor_closed(self) -> None:
        self.editor = None

    @Slot(object)
    def _run_from_editor(self, spec: JobSpec) -> None:
        """The editor's "Run now": a saved job runs its saved definition; a new one must be saved first."""
        saved = self._host.spec_of(spec.id) if spec.id else None
        if saved is None:
            QMessageBox.information(
                self.editor or self._parent, "Save the job first",
                "This job is not saved yet. Press OK to save it, then run it with Run now (Ctrl+R) "
                "in the jobs list.",
            )  # fmt: skip
            return
        self.run_job(saved.id)
        if replace(saved, paused=spec.paused) != spec:
            self._host.say(f"Ran the saved version of “{saved.name}”; press OK to save your changes")

    # --- running and pausing --------------------------------------------------------------------

    @Slot()
    def run_selected(self) -> None:
        spec = self._host.current_spec()
        if spec is not None:
            self.run_job(spec.id)

    @Slot()
    def run_selected_anyway(self) -> None:
        """"Run anyway": start the selected job's waiting run (or a new run) without its conditions."""
        spec = self._host.current_spec()
        if spec is not None:
            self.run_job(spec.id, ignore_conditions=True)

    @Slot(str)
    def run_job(self, job_id: str, ignore_conditions: bool = False) -> int | None:
        spec = self._host.spec_of(job_id)
        name = spec.name if spec is not None else job_id
        try:
            run_id = self._service.run_now(job_id, ignore_conditions=ignore_conditions)
        except JobNotFound:
            self._host.say(f"“{name}” no longer exists")
            return None
        except RuntimeError as exc:  # the core refuses every run: the database is damaged
            log.warning("run of %s refused: %s", job_id, exc)
            self._host.say(f"“{name}” was not started: the database is damaged (see the notice at the top)")
            return None
        waiting = self._service.waiting_for(run_id) if run_id is not None else None
        held = [r for r in self._host.active_runs_of(job_id) if r.status is RunStatus.WAITING]
        if run_id is None and held:
            self._host.say(f"“{name}” was not started: run #{held[0].id} of it is waiting for "
                           f"{held[0].waiting_for} (overlap policy); “Run anyway” starts that one")  # fmt: skip
        elif run_id is None:
            self._host.say(f"“{name}” was not started: its previous run is still going (overlap policy)")
        elif waiting:
            self._host.say(f"“{name}” is waiting for {waiting} (run #{run_id}); “Run anyway” starts it now")
        else:
            self._host.say(f"Started “{name}” (run #{run_id})")
        return run_id

    @Slot()
    def stop_selected(self) -> None:
        """Stop every run of the selected job going on now (queued ones are dropped)."""
        spec = self._host.current_spec()
        if spec is None:
            return
        stopped = [record.id for record in self._host.active_runs_of(spec.id) if self._service.cancel_run(record.id)]
        if stopped:
            runs = ", ".join(f"#{run_id}" for run_id in stopped)
            self._host.say(f"Stopping “{spec.name}” (run{'s' if len(stopped) != 1 else ''} {runs})")
        else:
            self._host.say(f"“{spec.name}” has no run going on")

    @Slot(int)
    def stop_run(self, run_id: int) -> None:
        """Stop run `run_id` (the tray's Stop menu): its process tree is killed, a queued run dropped."""
        record = self._service.get_run(run_id)
        name = record.job_name if record is not None else f"run #{run_id}"
        if self._service.cancel_run(run_id):
            self._host.say(f"Stopping “{name}” (run #{run_id})")
        else:
            self._host.say(f"Run #{run_id} of “{name}” had already ended")

    @Slot()
    def pause_job(self) -> None:
        self._set_paused(True)

    @Slot()
    def resume_job(self) -> None:
        self._set_paused(False)

    @Slot()
    def toggle_selected(self) -> None:
        spec = self._host.current_spec()
        if spec is not None:
            self._set_paused(not spec.paused)

    def _set_paused(self, paused: bool) -> None:
        spec = self._host.current_spec()
        if spec is None:
            return
        try:
            self._service.set_paused(spec.id, paused)
        except JobNotFound:
            self._host.say(f"“{spec.name}” no longer exists")
            return
        self._host.note_paused(spec.id, paused)
        self._host.say(f"{'Paused' if paused else 'Resumed'} “{spec.name}”")

    @Slot()
    def pause_all_jobs(self) -> None:
        count = self._service.set_all_paused(True)
        self._host.say(f"Paused {count} job{'s' if count != 1 else ''}")

    @Slot()
    def resume_all_jobs(self) -> None:
        count = self._service.set_all_paused(False)
        self._host.say(f"Resumed {count} job{'s' if count != 1 else ''}")

    @Slot()
    def delete_job(self) -> None:
        spec = self._host.current_spec()
        if spec is None:
            return
        answer = QMessageBox.question(
            self._parent, "Delete job",
            f"Delete the job “{spec.name}”?\n\n{dependents_warning(self._all_specs(), spec)}"
            "Its history and logs are kept. This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel,
        )  # fmt: skip
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self._service.remove_job(spec.id)
        except JobNotFound:
            pass
        self._host.say(f"Deleted “{spec.name}”")

    def _all_specs(self) -> list[JobSpec]:
        """Every job as the window last loaded it (off the GUI thread), for the After tab."""
        model = getattr(self._host, "jobs_model", None)
        return model.specs() if model is not None else []

    # --- files ---------------------------------------------------------------------------------

    @Slot()
    def import_jobs(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Import jobs", str(Path.home()), TOML_FILTER)
        if path:
            self.import_file(Path(path))

    def import_file(self, path: Path) -> list[JobSpec]:
        """Import all jobs of `path`, or none with the located reason shown."""
        try:
            specs = read_import(path)
        except ImportProblem as exc:
            self.last_import_error = str(exc)
            self._error("Nothing was imported", str(exc))
            return []
        self.last_import_error = None
        saved = self._service.import_jobs(specs)
        self._host.say(f"Imported {len(saved)} job{'s' if len(saved) != 1 else ''} from {path.name}")
        return saved

    @Slot()
    def export_jobs(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self._parent, "Export jobs", str(Path.home() / "jobdesk-jobs.toml"), TOML_FILTER)
        if path:
            self.export_file(Path(path))

    def export_file(self, path: Path) -> None:
        specs = self._service.list_jobs()
        try:
            write_atomically(path, export_text(specs))
        except OSError as exc:
            self._error("The jobs were not exported", f"{path}: {exc.strerror or exc}")
            return
        self._host.say(f"Exported {len(specs)} job{'s' if len(specs) != 1 else ''} to {path}")

    # --- settings ------------------------------------------------------------------------------

    @Slot()
    def open_settings(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            return
        dialog = SettingsDialog(self._service.settings, close_choice(), self._parent,
                                alerts=self._service.alert_settings, secrets_file=str(secrets_path(self._service.data_dir)),
                                webhook_secret=self._service.alert_config.webhook_secret)  # fmt: skip
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._settings_accepted)
        dialog.finished.connect(self._settings_closed)
        self.settings_dialog = dialog
        dialog.open()

    @Slot()
    def _settings_accepted(self) -> None:
        dialog = self.settings_dialog
        if dialog is None:
            return
        remember_close_choice(dialog.close_choice())
        current = self._service.settings
        changes: dict[str, object] = {name: value for name, value in dialog.values().items() if getattr(current, name) != value}
        broker = dialog.broker()
        if broker is not None and "****" in broker:
            self._error("Setting not saved", "Broker: type the whole URL with its password (it is shown masked)")
            return
        if broker is not None:
            changes["broker"] = broker
        for name, value in changes.items():
            try:
                self._service.set_setting(name, value)
            except ValueError as exc:
                self._error("Setting not saved", str(exc))
                return
        workers = getattr(self._host, "workers", None)
        if "broker" in changes and workers is not None:
            workers.monitor.refresh()
        for name, text in dialog.alert_changes().items():
            try:
                self._service.alert_config.set(name, text)
            except ValueError as exc:
                self._error("Setting not saved", str(exc))
                return
        self._host.say("Settings saved")

    @Slot()
    def _settings_closed(self) -> None:
        self.settings_dialog = None

    def _error(self, title: str, text: str) -> None:
        log.warning("%s: %s", title, text)
        QMessageBox.warning(self._parent, title, text)

