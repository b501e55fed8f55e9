"""The job editor: `JobEditorDialog` with its cron, interval and date trigger editors."""

from desktop.editor.job_editor import JobEditorDialog

__all__ = ["JobEditorDialog"]
