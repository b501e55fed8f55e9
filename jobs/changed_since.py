"""What changed since the last success: a failed run's environment against that of its job's last
succeeded run before it (jobs.run_environment records both).

"script report.py modified at 14:02 (sha256 changed)", "interpreter /usr/bin/python3 →
/opt/venv/bin/python", "variable X changed", "working folder changed". Variable values are never
shown (they may be secrets); only their names. Used by `jobdesk why` and the History panel.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from jobs.history import HistoryRepository
from jobs.model import RunRecord
from jobs.run_facts import RunEnvironment


@dataclass(frozen=True)
class ChangesSince:
    run_id: int
    last_success: int | None  # the run compared with; None: no earlier success
    changes: tuple[str, ...]
    recorded: bool = True  # False: this run has no environment on record (it never started)

    @property
    def text(self) -> str:
        if not self.recorded:
            return (f"Nothing to compare: run #{self.run_id} has no environment on record (it never started, "
                    "or it ran before Jobdesk recorded environments).")
        if self.last_success is None:
            return "Changed since the last success: no earlier success to compare with."
        head = f"Changed since the last success (run #{self.last_success}):"
        if not self.changes:
            return f"{head} nothing recorded changed."
        return "\n".join([head, *(f"  • {change}" for change in self.changes)])

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "last_success": self.last_success, "changes": list(self.changes),
                "recorded": self.recorded}  # fmt: skip


def changes_since_success(history: HistoryRepository, run: RunRecord) -> ChangesSince:
    """Compare `run` with its job's last success before it (one indexed query). Reads the
    database: call it off the GUI thread."""
    if run.environment is None:
        return ChangesSince(run.id, None, (), recorded=False)
    success = history.last_success_before(run.job_id, run.id)
    if success is None:
        return ChangesSince(run.id, None, ())
    return ChangesSince(run.id, success.id, tuple(differences(success, run)))


def differences(before: RunRecord, after: RunRecord) -> list[str]:
    """What differs between two runs' records, in words, the likeliest culprits first. A new
    program path (python3 → /opt/venv/bin/python) is said once, as the interpreter line."""
    out: list[str] = []
    old, new = before.environment, after.environment
    if old is not None and new is not None:
        out += _script_changes(old, new)
        if old.executable != new.executable:
            what = "interpreter" if new.scripts or old.scripts else "program"
            out.append(f"{what} {old.executable or '(not found)'} → {new.executable or '(not found)'}")
        out += _variable_changes(dict(old.env), dict(new.env))
        if old.cwd != new.cwd:
            out.append(f"working folder changed: {old.cwd} → {new.cwd}")
    if _arguments(before) != _arguments(after) or before.shell != after.shell:
        out.append("command changed")
    if old is None or new is None:
        return out + ([] if old is new else ["no environment recorded for the earlier run"])
    if old.version != new.version:
        out.append(f"Jobdesk {old.version or '?'} → {new.version or '?'}")
    if old.host != new.host:
        out.append(f"host {old.host or '?'} → {new.host or '?'}")
    return out


def _arguments(run: RunRecord) -> tuple[str, ...]:
    """The command but its program (a shell line: all of it; the shell runs it)."""
    return tuple(run.command) if run.shell else tuple(run.command[1:])


def _script_changes(old: RunEnvironment, new: RunEnvironment) -> list[str]:
    out = []
    before = {s.path: s for s in old.scripts}
    now = {s.path: s for s in new.scripts}
    for path, script in now.items():
        name = os.path.basename(path)
        earlier = before.get(path)
        if earlier is None:
            out.append(f"file {name} is new in the command ({path})")
        elif script.sha256 != earlier.sha256 or script.bytes != earlier.bytes:
            how = "sha256 changed" if script.sha256 != earlier.sha256 else "size changed"
            out.append(f"script {name} modified at {_when(script.modified, earlier.modified)} ({how})")
        elif script.hashed_bytes < script.bytes and script.modified != earlier.modified:
            out.append(f"file {name} touched at {_when(script.modified, earlier.modified)} "
                       f"(its first {script.hashed_bytes // 2**20} MiB are unchanged)")  # fmt: skip
    for path in before.keys() - now.keys():
        out.append(f"file {os.path.basename(path)} was not found ({path})")
    return out


def _variable_changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    out = []
    for name in sorted(old.keys() | new.keys()):
        if name not in old:
            out.append(f"variable {name} added")
        elif name not in new:
            out.append(f"variable {name} removed")
        elif old[name] != new[name]:
            out.append(f"variable {name} changed")
    return out


def _when(modified: float, earlier: float) -> str:
    """14:02, with the date when it is not the same day as the earlier version's."""
    moment = datetime.fromtimestamp(modified, timezone.utc).astimezone()
    same_day = moment.date() == datetime.fromtimestamp(earlier, timezone.utc).astimezone().date()
    return moment.strftime("%H:%M" if same_day else "%Y-%m-%d %H:%M")
