"""Jobdesk's Qt window: a view over the core in `jobs/`, fed by its events through queued signals."""


def create_window(data_dir, **kwargs):  # type: ignore[no-untyped-def]
    """See `desktop.app.create_window` (imported lazily: `import desktop` stays cheap)."""
    from desktop.app import create_window as _create_window

    return _create_window(data_dir, **kwargs)


__all__ = ["create_window"]
