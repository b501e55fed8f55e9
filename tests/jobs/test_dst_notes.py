"""DST notes: what a wall-clock schedule does where a time does not exist or happens twice, in words
that agree with the fire times (NOTES 14, 30; issue 9 item 13)."""

from __future__ import annotations

import pytest

from jobs.model import CronSpec, DateSpec, IntervalSpec, TriggerSpec
from jobs.triggers import dst_notes, next_fire_times
from tests.jobs.cron_cases import PARIS, at, cron_times, walls

NEW_YEAR = at("2026-01-01 00:00")


def test_a_fixed_time_in_the_gap_and_the_repeat() -> None:
    assert dst_notes(CronSpec("30 2 * * *", PARIS), after=NEW_YEAR) == [
        "02:30 does not exist on Sun 29 Mar 2026 in Europe/Paris: that run happens at 03:00, when clocks go forward",
        "02:30 happens twice on Sun 25 Oct 2026 in Europe/Paris: the job runs only the first time",
    ]


def test_the_notes_agree_with_the_fire_times() -> None:
    assert walls(cron_times("30 2 * * *", count=1, after="2026-03-29 00:00")) == ["03-29 03:00+0200"]
    assert walls(cron_times("30 2 * * *", count=2, after="2026-10-25 00:00")) == ["10-25 02:30+0200", "10-26 02:30+0100"]


def test_several_fixed_times_run_once_at_the_change() -> None:
    assert dst_notes(CronSpec("0,30 2 * * *", PARIS), after=NEW_YEAR) == [
        "02:00 and 02:30 do not exist on Sun 29 Mar 2026 in Europe/Paris: the job runs once at 03:00, "
        "when clocks go forward",
        "02:00 and 02:30 happen twice on Sun 25 Oct 2026 in Europe/Paris: the job runs only the first time",
    ]
    # 02:00 folds into the 03:00 run: one run at 03:00
    assert dst_notes(CronSpec("0 2,3 * * *", PARIS), after=NEW_YEAR)[0] == (
        "02:00 does not exist on Sun 29 Mar 2026 in Europe/Paris: the job runs once at 03:00, when clocks go forward"
    )


def test_wildcard_jobs_skip_the_gap_and_run_twice_in_the_repeat() -> None:
    assert dst_notes(CronSpec("*/15 2 * * *", PARIS), after=NEW_YEAR) == [
        "02:00, 02:15, 02:30 and 02:45 do not exist on Sun 29 Mar 2026 in Europe/Paris: those runs are skipped",
        "02:00, 02:15, 02:30 and 02:45 happen twice on Sun 25 Oct 2026 in Europe/Paris: "
        "the job runs twice at each, 1h apart",
    ]
    every_minute = dst_notes(CronSpec("* * * * *", PARIS), after=NEW_YEAR)
    assert every_minute[0] == (
        "60 run times from 02:00 to 02:59 do not exist on Sun 29 Mar 2026 in Europe/Paris: those runs are skipped"
    )
    # the 03:00 run of `*/30 * * * *` is its own, not a moved 02:00 or 02:30
    assert dst_notes(CronSpec("*/30 * * * *", PARIS), after=NEW_YEAR)[0].endswith("those runs are skipped")


def test_a_day_interval() -> None:
    spec = IntervalSpec(1, "days", PARIS, start=at("2026-01-01 02:30"))
    assert dst_notes(spec, after=NEW_YEAR) == [
        "02:30 does not exist on Sun 29 Mar 2026 in Europe/Paris: that run is skipped",
        "02:30 happens twice on Sun 25 Oct 2026 in Europe/Paris: the job runs only the first time",
    ]


@pytest.mark.parametrize(
    "spec",
    [
        CronSpec("0 12 * * *", PARIS),
        CronSpec("30 2 * * *", "UTC"),
        CronSpec("30 2 * * *", "Asia/Tokyo"),
        CronSpec("30 2 * * 1", PARIS),  # 29 Mar and 25 Oct 2026 are Sundays
        IntervalSpec(15, "minutes", PARIS, start=at("2026-01-01 02:30")),
        DateSpec(at("2026-03-29 03:30"), PARIS),
    ],
)
def test_no_notes(spec: TriggerSpec) -> None:
    assert dst_notes(spec, after=NEW_YEAR) == []


def test_other_zones() -> None:
    assert dst_notes(CronSpec("30 1 * * *", "America/New_York"), after=NEW_YEAR) == [
        "01:30 happens twice on Sun 1 Nov 2026 in America/New_York: the job runs only the first time"
    ]
    assert dst_notes(CronSpec("30 * * * *", "America/New_York"), after=NEW_YEAR)[-1] == (
        "01:30 happens twice on Sun 1 Nov 2026 in America/New_York: the job runs twice, 1h apart"
    )
    # Lord Howe moves its clocks by 30 minutes, Santiago at midnight
    assert dst_notes(CronSpec("15 2 * * *", "Australia/Lord_Howe"), after=NEW_YEAR) == [
        "02:15 does not exist on Sun 4 Oct 2026 in Australia/Lord_Howe: that run happens at 02:30, "
        "when clocks go forward"
    ]
    assert dst_notes(CronSpec("30 0 * * *", "America/Santiago"), after=NEW_YEAR)[-1] == (
        "00:30 does not exist on Sun 6 Sep 2026 in America/Santiago: that run happens at 01:00, when clocks go forward"
    )


def test_only_up_to_the_given_times() -> None:
    spec = CronSpec("30 2 * * *", PARIS)
    times = next_fire_times(spec, 10, after=at("2026-03-25 00:00"))
    assert len(dst_notes(spec, times, after=at("2026-03-25 00:00"))) == 1
    assert dst_notes(spec, [], after=at("2026-03-25 00:00")) == []
