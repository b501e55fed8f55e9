"""Upcoming fires across jobs (jobs.upcoming): every job's next run shown, whole-day lanes for the
Timeline with dense jobs summed up, and results equal to walking each trigger."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from jobs.model import CronSpec, DateSpec, IntervalSpec, JobSpec, TriggerSpec
from jobs.service import JobService
from jobs.triggers import next_fire_times, to_aps_trigger
from jobs.upcoming import Dense, FireTimes
from tests.conftest import py
from tests.jobs.cron_cases import PARIS, UTC, Field, at, crons, never_happens

NOW = at("2026-12-01 08:00:30", "UTC")


def job(job_id: str, trigger: TriggerSpec, name: str | None = None) -> JobSpec:
    return JobSpec(id=job_id, name=name or job_id, command=("true",), trigger=trigger)


def first_after(spec: TriggerSpec, moment: datetime = NOW) -> datetime:
    return next_fire_times(spec, 1, after=moment)[0].astimezone(UTC)


def walk(spec: TriggerSpec, first: datetime, end: datetime) -> list[datetime]:
    """Every fire from `first` up to `end`, by asking the trigger one by one."""
    trigger, out = to_aps_trigger(spec), []
    fire: datetime | None = first
    while fire is not None and fire <= end:
        out.append(fire.astimezone(UTC))
        fire = trigger.get_next_fire_time(fire, fire)
    return out


# --- one spec ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        CronSpec("*/7 9-17 * * 1-5", PARIS),
        CronSpec("30 2 * * *", PARIS),
        IntervalSpec(90, "minutes", PARIS, start=at("2026-11-01 09:00")),
        IntervalSpec(1, "days", PARIS, start=at("2026-11-01 02:30")),
        DateSpec(at("2026-12-24 18:00"), PARIS),
    ],
)
def test_fires_after_are_the_previews(spec: TriggerSpec) -> None:
    fires = FireTimes()
    for after in ("2026-12-01 00:00", "2026-12-03 10:00", "2027-03-28 00:00", "2026-12-01 00:00"):
        moment = at(after)
        expected = [t.astimezone(UTC) for t in next_fire_times(spec, 30, after=moment)]
        assert fires.after(spec, moment, 30) == expected


def test_a_trigger_is_built_once_per_spec_and_the_times_are_kept() -> None:
    fires, spec = FireTimes(), CronSpec("* * * * *", "UTC")
    trigger = fires.trigger(spec)
    assert fires.trigger(CronSpec("* * * * *", "UTC")) is trigger
    jittered = IntervalSpec(1, "hours", "UTC", start=NOW, jitter=30)
    assert fires.trigger(jittered) is fires.trigger(IntervalSpec(1, "hours", "UTC", start=NOW))
    # moving forward minute by minute, far past what is kept: still the right minutes
    for minutes in range(0, 2000, 7):
        moment = NOW + timedelta(minutes=minutes)
        assert fires.after(spec, moment, 3) == [moment.replace(second=0) + timedelta(minutes=i) for i in (1, 2, 3)]


def test_forgetting_specs_no_longer_used() -> None:
    fires = FireTimes()
    kept, gone = CronSpec("0 9 * * *", "UTC"), CronSpec("0 10 * * *", "UTC")
    trigger = fires.trigger(kept)
    fires.after(gone, NOW, 2)
    fires.forget_all_but([kept])
    assert fires.trigger(kept) is trigger and fires.after(gone, NOW, 1) == [at("2026-12-01 10:00", "UTC")]


# --- the Upcoming table -----------------------------------------------------------------------


def test_frequent_jobs_never_hide_another_jobs_next_run() -> None:
    minutely = [job(f"m{i}", CronSpec("* * * * *", "UTC")) for i in range(3)]
    daily, yearly = job("daily", CronSpec("0 9 * * *", "UTC")), job("yearly", CronSpec("0 0 1 1 *", "UTC"))
    jobs = [*minutely, daily, yearly]
    next_runs = {spec.id: first_after(spec.trigger) for spec in jobs}
    rows = FireTimes().upcoming(jobs, next_runs, now=NOW, limit=200)
    assert len(rows) == 200
    assert [when for when, _ in rows] == sorted(when for when, _ in rows)
    ids = [spec.id for _, spec in rows]
    assert ids.count("daily") == 1 and ids.count("yearly") == 1  # beyond the 7-day horizon, still shown
    assert (at("2027-01-01 00:00", "UTC"), yearly) in rows
    assert all(66 <= ids.count(spec.id) <= 67 for spec in minutely)  # then the nearest fires
    assert max(when for when, spec in rows if spec in minutely) < NOW + timedelta(minutes=67)


def test_more_active_jobs_than_the_limit_gives_every_next_run() -> None:
    jobs = [job(f"j{i:03}", CronSpec(f"{i % 60} * * * *", "UTC")) for i in range(250)]
    paused = job("paused", CronSpec("* * * * *", "UTC"))
    next_runs = {spec.id: first_after(spec.trigger) for spec in jobs}
    rows = FireTimes().upcoming([*jobs, paused], next_runs, now=NOW, limit=200)
    assert sorted(spec.id for _, spec in rows) == sorted(spec.id for spec in jobs)


def test_further_fires_stay_within_the_horizon_and_start_at_the_stored_next_run() -> None:
    hourly = job("hourly", IntervalSpec(1, "hours", "UTC", start=at("2026-11-01 00:00", "UTC")))
    overdue = NOW - timedelta(hours=1, seconds=30)  # a stored next run the scheduler has not reached
    rows = FireTimes().upcoming([hourly], {"hourly": overdue}, now=NOW, horizon=timedelta(hours=5))
    assert [when for when, _ in rows] == [at(f"2026-12-01 {h:02}:00", "UTC") for h in range(7, 14)]


# --- the Timeline -----------------------------------------------------------------------------


def test_every_job_gets_a_lane_for_the_whole_span() -> None:
    minutely = job("minutely", CronSpec("* * * * *", "UTC"))
    five = job("five", IntervalSpec(5, "minutes", "UTC", start=at("2026-11-01 00:02", "UTC")))
    hourly = job("hourly", CronSpec("15 * * * *", "UTC"))
    daily = job("daily", CronSpec("0 9 * * *", "UTC"))
    weekly = job("weekly", CronSpec("0 9 * * 0", "UTC"))  # next Sunday: not within 24 h
    jobs = [minutely, five, hourly, daily, weekly]
    next_runs = {spec.id: first_after(spec.trigger) for spec in jobs}
    lanes = {lane.job.id: lane for lane in FireTimes().timeline(jobs, next_runs, now=NOW)}
    end = NOW + timedelta(hours=24)
    assert set(lanes) == {"minutely", "five", "hourly", "daily"}
    assert lanes["daily"].fires == (at("2026-12-01 09:00", "UTC"),) and lanes["daily"].dense is None
    assert lanes["hourly"].fires == tuple(walk(hourly.trigger, next_runs["hourly"], end)) and len(lanes["hourly"].fires) == 24
    assert lanes["minutely"].fires == () and lanes["minutely"].dense == Dense(
        at("2026-12-01 08:01", "UTC"), at("2026-12-02 08:00", "UTC"), 1440, timedelta(minutes=1)
    )
    every_five = walk(five.trigger, next_runs["five"], end)
    assert lanes["five"].dense == Dense(every_five[0], every_five[-1], len(every_five), timedelta(minutes=5))


def test_dense_lanes_across_a_dst_change_are_counted_right() -> None:
    now = at("2026-10-24 12:00", "UTC")
    for trigger in (CronSpec("*/10 * * * *", PARIS), CronSpec("*/5 0-3 * * *", PARIS), CronSpec("* 2 * * *", PARIS)):
        spec = job("j", trigger)
        first = first_after(trigger, now)
        (lane,) = FireTimes().timeline([spec], {"j": first}, now=now)
        fires = walk(trigger, first, now + timedelta(hours=24))
        assert lane.dense == Dense(fires[0], fires[-1], len(fires), lane.dense.spacing if lane.dense else None)


def stretches(fires: list[datetime], gap: timedelta) -> list[tuple[datetime, datetime]]:
    """The runs of `fires` whose neighbours are at most `gap` apart (what a walk says)."""
    out = [(fires[0], fires[0])]
    for fire in fires[1:]:
        out[-1:] = [(out[-1][0], fire)] if fire - out[-1][1] <= gap else [out[-1], (fire, fire)]
    return out


@pytest.mark.parametrize(
    "trigger, now",
    [
        (CronSpec("*/5 9-17 * * *", "UTC"), "2026-12-01 12:00:30"),  # two working days' stretches
        (CronSpec("* * * * *", "UTC"), "2026-12-01 12:00:30"),  # one stretch, the whole span
        (CronSpec("*/5 8-11,14-16 * * 1-5", PARIS), "2026-12-04 08:00"),  # Friday: two, then the weekend
        (CronSpec("* 2 * * *", PARIS), "2026-10-24 12:00"),  # the hour that happens twice
        (IntervalSpec(7, "minutes", "UTC", start=at("2026-11-01 00:02", "UTC")), "2026-12-01 12:00:30"),
    ],
)
def test_a_dense_lane_knows_the_stretches_that_have_runs(trigger: TriggerSpec, now: str) -> None:
    """A band across the nights would say "*/5 9-17" runs at 3 a.m.: the lane says where it runs."""
    moment = at(now, "UTC")
    first = first_after(trigger, moment)
    (lane,) = FireTimes().timeline([job("j", trigger)], {"j": first}, now=moment)
    fires = walk(trigger, first, moment + timedelta(hours=24))
    assert lane.dense is not None
    gap = max(timedelta(minutes=30), 2 * lane.dense.spacing)
    assert list(lane.dense.spans) == stretches(fires, gap)


ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"]


EVERY_MINUTE = [Field("*", frozenset(range(low, high + 1))) for low, high in ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))]


@settings(max_examples=80, deadline=None)
@given(cron=crons(), tz=st.sampled_from(ZONES), after=st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31)))
@example(cron=EVERY_MINUTE, tz="America/Santiago", after=datetime(2026, 9, 5))  # a change at the very end
def test_a_cron_summary_is_what_a_walk_counts(cron: list[Field], tz: str, after: datetime) -> None:
    assume(not never_happens(cron))
    spec = CronSpec(" ".join(f.text for f in cron), tz)
    start = after.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    end = start + timedelta(hours=24)
    summary = to_aps_trigger(spec).summary(start, end)
    fires = walk(spec, first_after(spec, start), end)
    if summary is not None:
        count, first, last = summary
        assert (count, first, last) == (len(fires), fires[0], fires[-1])
    else:  # only without fires, or with an offset change in the span or just before it
        zone = ZoneInfo(tz)
        probes = [start + timedelta(hours=h) for h in range(-3, 24)] + [end]
        offsets = {probe.astimezone(zone).utcoffset() for probe in probes}
        assert not fires or len(offsets) > 1, (spec, start)


# --- through the service ----------------------------------------------------------------------


def test_a_daily_job_added_after_a_frequent_one_shows_up_everywhere(service: JobService) -> None:
    spec = JobSpec(name="every minute", command=py("pass"), trigger=CronSpec("* * * * *", "UTC"), paused=False)
    minutely = service.add_job(spec)
    daily = service.add_job(JobSpec(name="daily", command=py("pass"), trigger=CronSpec("0 9 * * *", "UTC")))
    rows = service.upcoming()
    assert [spec.id for _, spec in rows].count(daily.id) == 1 and len(rows) == 200
    lanes = {lane.job.id: lane for lane in service.timeline()}
    assert lanes[daily.id].fires == (service.next_run_times()[daily.id],)
    dense = lanes[minutely.id].dense
    assert dense is not None and dense.count in (1440, 1441) and dense.spacing == timedelta(minutes=1)
