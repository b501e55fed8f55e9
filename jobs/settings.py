"""Core settings, stored in the database beside the jobs (so `serve` and the window agree).

Window-only state (geometry, column widths) belongs in QSettings, not here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from jobs.db import meta_table
from jobs.retention import forget_watermark


def default_max_concurrent() -> int:
    """Up to 4 runs at once, but no more than cores: more CPU-bound children than cores starved
    the window itself (GUI stalls of 60-140 ms with 4 runs on 2 cores, under 100 ms with 2)."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class CoreSettings:
    max_concurrent: int = field(default_factory=default_max_concurrent)  # more wait as "queued"
    retention_days: int = 90  # 0 keeps history forever
    retention_runs: int = 1000  # per job; 0 keeps every run
    log_cap_mb: int = 10  # output kept per run
    kill_grace: float = 5.0  # seconds between SIGTERM and SIGKILL
    # Where jobs with `runs_on` go (jobs.remote): redis://:PASSWORD@host:6379/0 or rediss://.
    # Empty: no broker. Shown masked (jobs.remote.broker.mask), stored in the user-only database.
    broker: str = ""


_BOUNDS = {
    "max_concurrent": (1, 256),
    "retention_days": (0, 36500),
    "retention_runs": (0, 10_000_000),
    "log_cap_mb": (1, 10_240),
    "kill_grace": (0.1, 600),
}


def setting_names() -> list[str]:
    return [f.name for f in fields(CoreSettings)]


def parse_setting(name: str, text: str) -> Any:
    """Validate a setting typed by a person; ValueError says what is wrong."""
    if name == "broker":
        from jobs.remote.broker import check

        return check(text)  # BrokerUrlError (a ValueError) names the problem, password masked
    if name not in _BOUNDS:
        raise ValueError(f"unknown setting {name!r} (known: {', '.join(setting_names())})")
    kind = type(getattr(CoreSettings(), name))
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a {'whole ' if kind is int else ''}number") from None
    low, high = _BOUNDS[name]
    if not low <= value <= high:
        raise ValueError(f"{name}: {value} is out of range {low}-{high}")
    return value


def load_settings(engine: Engine) -> CoreSettings:
    with engine.connect() as conn:
        rows = dict(conn.execute(select(meta_table.c.key, meta_table.c.value)).all())
    values = {}
    for name in setting_names():
        if f"setting.{name}" in rows:
            try:
                values[name] = parse_setting(name, rows[f"setting.{name}"])
            except ValueError:
                pass  # a bad stored value falls back to the default rather than blocking start-up
    return replace(CoreSettings(), **values)


def save_setting(engine: Engine, name: str, value: Any) -> None:
    value = parse_setting(name, str(value))
    key = f"setting.{name}"
    with engine.begin() as conn:
        conn.execute(delete(meta_table).where(meta_table.c.key == key))
        conn.execute(insert(meta_table).values(key=key, value=str(value)))
        if name in ("retention_days", "retention_runs"):
            forget_watermark(conn)  # the next prune checks every job against the new rule
