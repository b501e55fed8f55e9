"""The job editor dialog: what a job runs, when (cron, interval, date or after other jobs) and how.

Everything typed is checked as the person types (debounced by one single-shot QTimer; all
checks and the preview take milliseconds on the GUI thread): the schedule in words, its next
ten fire times in the chosen zone, DST notes, and every problem with its exact reason. OK and
"Run now" are enabled only while the whole job is valid.

Round trip: a field whose widgets were not touched gives back the loaded spec's own value, so
`result_spec() == spec` when nothing was changed (durations and times are shown rounded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import QDialog, QFileDialog, QWidget

from desktop.editor.command_field import program_caution
from desktop.editor.editor_layout import EditorLayout
from desktop.editor.field_marks import lines_html, set_invalid
from desktop.editor.retry_form import RETRY_FIELDS
from desktop.editor.schedule_preview import PREVIEW_COUNT
from jobs import triggers
from jobs.codec import JobValidationError, validate_job
from jobs.chains import resolve
from jobs.model import AfterSpec, CronSpec, DateSpec, IntervalSpec, JobSpec, TriggerSpec

DEBOUNCE_MS = 150
CLOCK_REFRESH_MS = 30_000  # keeps "in 3 h 12 min" current while the dialog is open
TITLE_NAME_MAX = 60
_TRIGGER_LABELS = {"run_at": "run at", "expression": "cron", "timezone": "time zone"}
# codec field -> our problem key (for problems only validate_job finds)
_CODEC_KEYS = {"misfire_grace": "grace", "requires": "conditions", "condition_deadline": "conditions",
               "email": "alerts", "webhooks": "alerts",
               "expect": "outputs", "run_with": "command", "slow_factor": "slow", "slow_margin": "slow",
               **{field: "retries" for field in RETRY_FIELDS}}


class _Hint(ValueError):
    """A required field nobody has typed in yet: said plainly, not in red."""


@dataclass(frozen=True)
class Problem:
    key: str  # name, command, env, timeout, grace, max_parallel, cwd, trigger
    message: str
    kind: str = "error"  # error (blocks OK), hint (blocks OK, not yet typed), caution (does not block)
    field: str | None = None  # the trigger's own field ("minute", "run_at")


class JobEditorDialog(QDialog):
    """Create, edit or duplicate a job.

    Signals:
        run_requested(JobSpec): "Run now" was pressed; carries the current (valid) spec.
    """

    run_requested = Signal(object)

    def __init__(self, spec: JobSpec | None = None, parent: QWidget | None = None, *, duplicate: bool = False,
                 pools: list[str] | None = None, jobs: Sequence[JobSpec] = ()) -> None:
        """`jobs`: every saved job, for the After tab (and to refuse a cycle before saving)."""
        super().__init__(parent)
        self.setObjectName("jobEditorDialog")
        self.setAccessibleName("jobEditorDialog")
        self._original = spec
        self._editing = spec is not None and not duplicate
        self._touched: set[str] = set()
        self._loaded: dict[str, Any] = {}
        self._problems: list[Problem] = []
        self._notes: list[str] = []
        self._current: JobSpec | None = None
        self._result: JobSpec | None = None
        self._kept_past_date = False

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self.revalidate)
        self._clock = QTimer(self)
        self._clock.setInterval(CLOCK_REFRESH_MS)
        self._clock.timeout.connect(self.revalidate)

        self.ui = EditorLayout(self)
        self.ui.policy_form.set_pools(pools or [])  # "Runs on": the pools seen (desktop.workers_view)
        self._jobs = list(jobs)
        self.ui.after_editor.set_jobs(self._jobs, spec.id if spec is not None and self._editing else "")
        zone = spec.trigger.timezone if spec is not None else self.ui.timezone_combo.timezone()
        self.ui.date_editor.set_default_time(zone)
        self.ui.interval_editor.set_default_times(zone)
        if spec is not None:
            self._load(spec)
            self._loaded = self._states()
            if duplicate:
                self.ui.name_edit.setText(f"{spec.name} (copy)")
        if spec is None:
            self.setWindowTitle("New job")
        elif duplicate:
            self.setWindowTitle("Duplicate job")
        else:
            name = spec.name if len(spec.name) <= TITLE_NAME_MAX else spec.name[: TITLE_NAME_MAX - 1] + "…"
            self.setWindowTitle(f"Edit job — {name}")
        self._connect()
        self.revalidate()
        self.ui.name_edit.setFocus()

    # --- public API ---------------------------------------------------------------------------
    def result_spec(self) -> JobSpec:
        """The accepted spec (or, before accepting, the current one); ValueError when invalid."""
        if self._result is not None:
            return self._result
        return self.current_spec()

    def current_spec(self) -> JobSpec:
        """The spec as the widgets say now; ValueError with the first problem when invalid."""
        self.revalidate()
        if self._current is None:
            errors = [p.message for p in self._problems if p.kind != "caution"]
            raise ValueError(errors[0] if errors else "the job is not valid")
        return self._current

    def choose_new_date(self) -> None:
        """Show the Date tab with a new time (the next full hour of the job's zone), ready to
        confirm or change: "Run again at…" for a one-off job that has run."""
        self.ui.trigger_tabs.setCurrentWidget(self.ui.date_editor)
        self.ui.date_editor.set_default_time(self.ui.timezone_combo.timezone())
        self.ui.date_editor.date_edit.setFocus()
        self.revalidate()

    def is_valid(self) -> bool:
        return self._current is not None

    def problems(self) -> list[str]:
        """Messages of what blocks saving, as shown (after the last check)."""
        return [p.message for p in self._problems if p.kind != "caution"]

    def notes(self) -> list[str]:
        """Non-blocking lines: cautions and DST notes (after the last check)."""
        return [p.message for p in self._problems if p.kind == "caution"] + list(self._notes)

    def revalidate(self) -> None:
        """Check everything now (the debounce timer calls this ~150 ms after the last edit)."""
        self._debounce.stop()
        now = datetime.now(timezone.utc)
        problems: list[Problem] = []
        self._notes = []
        values = self._read_fields(problems)
        trigger = self._read_trigger(problems, now)
        spec = None
        if not any(p.kind != "caution" for p in problems) and trigger is not None:
            spec = JobSpec(trigger=trigger, **values)
            try:
                validate_job(spec, allow_past_date=self._kept_past_date)
            except JobValidationError as exc:
                key = exc.field.split(".")[0]
                problems.append(Problem(_CODEC_KEYS.get(key, key), str(exc)))
                spec = None
        self._problems = problems
        self._current = spec
        self._show_problems()

    def _connect(self) -> None:
        self.ui.buttons.accepted.connect(self.accept)
        self.ui.buttons.rejected.connect(self.reject)
        self.ui.run_button.clicked.connect(self._run_clicked)
        self.ui.cwd_button.clicked.connect(self._choose_cwd)
        self.ui.name_edit.textEdited.connect(self._name_edited)
        self.ui.command_field.line_edit.textEdited.connect(self._command_edited)
        for signal in (
            self.ui.name_edit.textChanged, self.ui.description_edit.textChanged, self.ui.tags_edit.textChanged,
            self.ui.command_field.edited, self.ui.run_with_combo.edited, self.ui.cwd_edit.textChanged, self.ui.env_table.changed,
            self.ui.policy_form.edited, self.ui.timezone_combo.timezone_edited, self.ui.timezone_combo.currentIndexChanged,
            self.ui.trigger_tabs.currentChanged, self.ui.cron_editor.edited, self.ui.interval_editor.edited,
            self.ui.date_editor.edited, self.ui.after_editor.edited, self.ui.conditions_form.edited,
            self.ui.alerts_form.edited, self.ui.retry_form.edited, self.ui.outputs_form.edited,
        ):  # fmt: skip
            signal.connect(self._schedule_check)

    # --- loading and reading --------------------------------------------------------------------
    def _load(self, spec: JobSpec) -> None:
        self.ui.name_edit.setText(spec.name)
        self.ui.description_edit.setPlainText(spec.description)
        self.ui.tags_edit.setText(", ".join(spec.tags))
        self.ui.command_field.load(spec.command, spec.shell)
        self.ui.run_with_combo.load(spec.run_with)
        self.ui.cwd_edit.setText(spec.cwd or "")
        self.ui.env_table.set_pairs(spec.env)
        self.ui.policy_form.load(spec)
        self.ui.conditions_form.load(spec.requires, spec.condition_deadline)
        self.ui.alerts_form.load(spec.email, spec.webhooks)
        self.ui.retry_form.load(*(getattr(spec, field) for field in RETRY_FIELDS))
        self.ui.outputs_form.load(spec.expect)
        trigger = spec.trigger
        self.ui.timezone_combo.set_timezone(trigger.timezone)
        if isinstance(trigger, CronSpec):
            self.ui.cron_editor.set_expression(trigger.expression)
            self.ui.trigger_tabs.setCurrentWidget(self.ui.cron_editor)
        elif isinstance(trigger, IntervalSpec):
            self.ui.interval_editor.load(trigger)
            self.ui.trigger_tabs.setCurrentWidget(self.ui.interval_editor)
        elif isinstance(trigger, DateSpec):
            self.ui.date_editor.load(trigger)
            self.ui.trigger_tabs.setCurrentWidget(self.ui.date_editor)
        elif isinstance(trigger, AfterSpec):
            self.ui.after_editor.load(trigger)
            self.ui.trigger_tabs.setCurrentWidget(self.ui.after_editor)
        for edit in (self.ui.name_edit, self.ui.tags_edit, self.ui.command_field.line_edit, self.ui.cwd_edit):
            edit.setCursorPosition(0)  # show the start of long texts, not their end

    def _states(self) -> dict[str, Any]:
        """What each group of widgets shows; unchanged groups give back the loaded values."""
        policy = self.ui.policy_form
        return {
            "name": self.ui.name_edit.text(),
            "description": self.ui.description_edit.toPlainText(),
            "tags": self.ui.tags_edit.text(),
            "command": self.ui.command_field.state(),
            "run_with": self.ui.run_with_combo.run_with(),
            "cwd": self.ui.cwd_edit.text(),
            "env": self.ui.env_table.pairs(),
            "timeout": policy.timeout_edit.text(),
            "overlap": (policy.overlap_combo.currentIndex(), policy.max_parallel_spin.value()),
            "grace": policy.grace_edit.text(),
            "slow": (policy.slow_factor_spin.value(), policy.slow_margin_edit.text()),
            "conditions": self.ui.conditions_form.state(),
            "alerts": self.ui.alerts_form.state(),
            "retries": self.ui.retry_form.state(),
            "outputs": self.ui.outputs_form.state(),
            "trigger": (self.ui.trigger_tabs.currentIndex(), self.ui.timezone_combo.timezone(), self._editor_state()),
        }

    def _editor_state(self) -> str | tuple[object, ...]:
        return self.ui.trigger_editor().state()

    def _unchanged(self, key: str, states: dict[str, Any]) -> bool:
        return self._original is not None and key in self._loaded and self._loaded[key] == states[key]

    def _read_fields(self, problems: list[Problem]) -> dict[str, Any]:
        """Every JobSpec field but the trigger; problems appended in the order of the window."""
        states, original = self._states(), self._original
        keep = self._unchanged

        def read(key: str, fields: tuple[str, ...], reader: Callable[[], tuple], kind: str = "error") -> tuple:
            if original is not None and keep(key, states):
                return tuple(getattr(original, field) for field in fields)
            try:
                return reader()
            except ValueError as exc:
                problems.append(Problem(key, str(exc), "hint" if isinstance(exc, _Hint) else kind))
                return tuple(getattr(JobSpec, field, None) for field in fields)

        (name,) = read("name", ("name",), lambda: (self.ui.name_edit.text().strip(),))
        if not name:
            quiet = "name" not in self._touched and not self._editing
            problems.append(Problem("name", "Give the job a name" if quiet else "name: must not be empty",
                                    "hint" if quiet else "error"))  # fmt: skip
        command, shell = read("command", ("command", "shell"), self._read_command)
        (run_with,) = read("run_with", ("run_with",), lambda: (self.ui.run_with_combo.run_with(),))
        (description,) = read("description", ("description",), lambda: (self.ui.description_edit.toPlainText().strip(),))
        (tags,) = read("tags", ("tags",), self._read_tags)
        (cwd,) = read("cwd", ("cwd",), self._read_cwd)
        (env,) = read("env", ("env",), self._read_env)
        (timeout,) = read("timeout", ("timeout",), lambda: (self.ui.policy_form.timeout(),))
        overlap, max_parallel = read("overlap", ("overlap", "max_parallel"),
                                     lambda: (self.ui.policy_form.overlap(), self.ui.policy_form.max_parallel()))  # fmt: skip
        (grace,) = read("grace", ("misfire_grace",), lambda: (self.ui.policy_form.misfire_grace(),))
        policy = self.ui.policy_form
        slow = read("slow", ("slow_factor", "slow_margin"), lambda: (policy.slow_factor(), policy.slow_margin()))
        conditions, alerts = self.ui.conditions_form, self.ui.alerts_form
        requires, deadline = read("conditions", ("requires", "condition_deadline"),
                                  lambda: (conditions.requires(), conditions.condition_deadline()))  # fmt: skip
        email, webhooks = read("alerts", ("email", "webhooks"), lambda: (alerts.email(), alerts.webhooks()))
        retry = dict(zip(RETRY_FIELDS, read("retries", RETRY_FIELDS, self.ui.retry_form.values)))
        (expect,) = read("outputs", ("expect",), lambda: (self.ui.outputs_form.expect(),))
        caution = program_caution((run_with, *(command or ())) if run_with else command or (), bool(shell), cwd)
        if caution:
            problems.append(Problem("command", caution, "caution"))
        if cwd and not Path(cwd).is_dir():
            what = "is not a folder" if Path(cwd).exists() else "does not exist"
            problems.append(Problem("cwd", f"working folder: {cwd} {what}; runs will fail until it does", "caution"))
        elif cwd and not Path(cwd).is_absolute():
            problems.append(Problem("cwd", f"working folder: {cwd} is relative; give a full path", "caution"))
        return {
            "id": self._original.id if self._editing and self._original else "",
            "name": name or "",
            "command": command or (),
            "shell": bool(shell),
            "description": description or "",
            "tags": tags or (),
            "cwd": cwd,
            "env": env or (),
            "timeout": timeout,
            "overlap": overlap,
            "max_parallel": max_parallel,
            "misfire_grace": grace,
            "coalesce": self.ui.policy_form.coalesce(),
            "notify": self.ui.policy_form.notify(),
            "paused": self.ui.policy_form.paused(),
            "requires": requires or (),
            "condition_deadline": deadline,
            "email": email or (),
            "webhooks": webhooks or (),
            "expect": expect or (),
            "runs_on": self.ui.policy_form.runs_on(),
            "slow_factor": slow[0], "slow_margin": slow[1],
            **retry,
            "run_with": run_with,
        }

    def _read_command(self) -> tuple[tuple[str, ...], bool]:
        try:
            return self.ui.command_field.command(), self.ui.command_field.shell()
        except ValueError as exc:
            if "command" not in self._touched and not self._editing and not self.ui.command_field.line_edit.text().strip():
                raise _Hint("Type the command to run") from None
            raise exc

    def _read_tags(self) -> tuple[tuple[str, ...]]:
        tags = [tag.strip() for tag in self.ui.tags_edit.text().split(",")]
        return (tuple(dict.fromkeys(tag for tag in tags if tag)),)

    def _read_cwd(self) -> tuple[str | None]:
        text = self.ui.cwd_edit.text().strip()
        return (str(Path(text).expanduser()) if text else None,)

    def _read_env(self) -> tuple[tuple[tuple[str, str], ...]]:
        problems = self.ui.env_table.problems()
        if problems:
            raise ValueError(problems[0])
        return (self.ui.env_table.pairs(),)

    def _read_trigger(self, problems: list[Problem], now: datetime) -> TriggerSpec | None:
        zone_problem = self.ui.timezone_combo.problem()
        if zone_problem:
            problems.append(Problem("trigger", zone_problem, field="timezone"))
            self.ui.preview.show_nothing("Choose a known time zone to see the next runs.")
            return None
        blank = self.ui.cron_editor.problem() if self.ui.trigger_tabs.currentWidget() is self.ui.cron_editor else None
        if blank is not None:
            return self._trigger_failed(problems, triggers.TriggerError(*blank))
        original = self._original
        self._kept_past_date = False
        if original is not None and self._unchanged("trigger", self._states()):
            trigger: TriggerSpec = original.trigger
            # Like JobService.update_job: an edited one-off job that already ran keeps its date
            self._kept_past_date = self._editing and isinstance(trigger, DateSpec) and trigger.run_at <= now
        else:
            try:
                trigger = self.ui.trigger_editor().spec(self.ui.timezone_combo.timezone())
            except triggers.TriggerError as exc:
                return self._trigger_failed(problems, exc)
        if isinstance(trigger, AfterSpec):
            return self._read_after(problems, trigger, now)
        try:
            if not self._kept_past_date:
                triggers.validate(trigger, now=now)
            times = triggers.next_fire_times(trigger, PREVIEW_COUNT, after=now)
            description = triggers.describe(trigger, now=now)
            self._notes = triggers.dst_notes(trigger, after=now)
        except triggers.TriggerError as exc:
            return self._trigger_failed(problems, exc)
        empty = "No more runs: the end has passed." if isinstance(trigger, IntervalSpec) else "No upcoming runs."
        if not times:
            problems.append(Problem("trigger", f"schedule: {empty[:-1].lower()}; the job will not run", "caution"))
        self.ui.preview.show_runs(description, times, now.astimezone(times[0].tzinfo) if times else now, empty)
        if self.ui.policy_form.paused():
            self._notes.insert(0, "Paused: none of these runs happens until the job is resumed")
        return trigger

    def _read_after(self, problems: list[Problem], trigger: AfterSpec, now: datetime) -> TriggerSpec | None:
        """Run after other jobs: they must exist and not run after this one (no cycle)."""
        own = JobSpec(name=self.ui.name_edit.text().strip() or "this job", command=("-",), trigger=trigger,
                      id=self._original.id if self._editing and self._original is not None else "")  # fmt: skip
        try:
            triggers.validate(trigger)
            found = resolve(own, self._jobs)[1]
            if found:
                raise triggers.TriggerError("jobs", found[0][1])
        except triggers.TriggerError as exc:
            return self._trigger_failed(problems, exc)
        words = triggers.describe(trigger, names={spec.id: spec.name for spec in self._jobs})
        self.ui.preview.show_runs(words, [], now, "No set times: it runs when those jobs have finished.")
        return trigger

    def _trigger_failed(self, problems: list[Problem], exc: triggers.TriggerError) -> TriggerSpec | None:
        """Record a schedule problem; returns None (no trigger) for `return self._trigger_failed(...)`."""
        label = _TRIGGER_LABELS.get(exc.field or "", exc.field)
        message = f"{label}: {exc.message}" if label else exc.message
        problems.append(Problem("trigger", message, field=exc.field))
        self.ui.preview.show_nothing("Fix the schedule to see its next runs.")
        return None

    # --- showing problems -----------------------------------------------------------------------
    def _show_problems(self) -> None:
        loud = {p.key: p for p in reversed(self._problems) if p.kind == "error"}  # first problem per key
        set_invalid(self.ui.name_edit, loud["name"].message if "name" in loud else None)
        self.ui.command_field.mark(loud["command"].message if "command" in loud else None)
        self.ui.policy_form.mark({key: loud[key].message for key in ("timeout", "grace", "max_parallel", "slow") if key in loud})
        self.ui.conditions_form.mark(loud["conditions"].message if "conditions" in loud else None)
        self.ui.alerts_form.mark(loud["alerts"].message if "alerts" in loud else None)
        self.ui.retry_form.mark(loud["retries"].message if "retries" in loud else None)
        self.ui.outputs_form.mark(loud["outputs"].message if "outputs" in loud else None)
        trigger_problem = loud.get("trigger")
        field = trigger_problem.field if trigger_problem else None
        set_invalid(self.ui.timezone_combo, trigger_problem.message if trigger_problem is not None and field == "timezone" else None)
        for editor in (self.ui.cron_editor, self.ui.interval_editor, self.ui.date_editor, self.ui.after_editor):
            active = editor is self.ui.trigger_tabs.currentWidget() and field != "timezone"
            editor.mark(field, trigger_problem.message if trigger_problem is not None and active else None)
        order = {"error": 0, "hint": 1, "caution": 2}
        lines = [(p.kind, p.message) for p in sorted(self._problems, key=lambda p: order[p.kind])]
        lines += [("note", note) for note in self._notes]
        self.ui.validation_label.setText(lines_html(lines, self.palette()))
        self.ui.validation_label.setAccessibleDescription("\n".join(text for _, text in lines))
        valid = self._current is not None
        self.ui.ok_button.setEnabled(valid)
        self.ui.run_button.setEnabled(valid)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "ui"):
            self._show_problems()

    # --- slots ----------------------------------------------------------------------------------
    def _schedule_check(self, *_args: object) -> None:
        self._debounce.start()

    def _name_edited(self, _text: str) -> None:
        self._touched.add("name")

    def _command_edited(self, _text: str) -> None:
        self._touched.add("command")

    def _choose_cwd(self) -> None:
        start = self.ui.cwd_edit.text().strip() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Choose the working folder", start)
        if folder:
            self.ui.cwd_edit.setText(folder)

    def _run_clicked(self) -> None:
        self.revalidate()
        if self._current is not None:
            self.run_requested.emit(self._current)

    def accept(self) -> None:
        self.revalidate()
        if self._current is None:
            return
        self._result = self._current
        super().accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.revalidate()  # Enter right after typing: do not wait for the debounce
        super().keyPressEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._clock.start()
        QTimer.singleShot(0, self._show_name_start)  # after QDialog has given the name its focus

    def _show_name_start(self) -> None:
        """Keep the name selected (typing replaces it) but scrolled to its start, not its end."""
        text = self.ui.name_edit.text()
        if text and self.ui.name_edit.selectedText() == text:
            self.ui.name_edit.setSelection(len(text), -len(text))

    def hideEvent(self, event: QHideEvent) -> None:
        self._clock.stop()
        super().hideEvent(event)
