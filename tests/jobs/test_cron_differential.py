"""Our cron fire times against two references nobody here wrote, over the DST weeks of odd zones.

1. croniter (a peer: `implement_cron_bug=True` gives the Vixie/cronie day rule), away from the
   hours of a change, where croniter and cronie agree: this catches days skipped after a change
   (APScheduler's CronTrigger dropped 30 Mar in Europe/Berlin, issue 9 item 4).
2. A minute-by-minute simulation of cronie's crond main loop (cron.c: virtual time, the four
   kinds of clock jump, wildcard and fixed-time jobs), with croniter's parse of the fields,
   over the whole window, the changes included: that is what "as cronie" means.

Expressions are random (seeded), numeric fields only (croniter does not take all our names).
The quick version runs in the normal suite; `slow` runs many more.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from jobs.model import CronSpec
from jobs.triggers import to_aps_trigger
from tests.jobs.cron_cases import UTC

ZONES = [  # zone, year: each has two offset changes that year
    ("Europe/Berlin", 2026),
    ("America/New_York", 2026),
    ("Australia/Sydney", 2026),
    ("Australia/Lord_Howe", 2026),  # 30-minute changes
    ("America/Santiago", 2026),  # changes at midnight
    ("America/Havana", 2026),  # midnight too
    ("Asia/Tehran", 2021),  # midnight, before Iran dropped DST
    ("Antarctica/Troll", 2026),  # two hours
]
EPOCH = datetime(1970, 1, 1)
MINUTE = timedelta(minutes=1)
RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))


def changes(zone: ZoneInfo, year: int) -> list[datetime]:
    """UTC minutes at which the offset changes, by probing (independent of jobs.cron_trigger)."""
    found = []
    probe, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    offset = probe.astimezone(zone).utcoffset()
    while probe < end:
        following = probe + timedelta(hours=1)
        if following.astimezone(zone).utcoffset() != offset:
            minute = probe
            while minute.astimezone(zone).utcoffset() == offset:
                minute += MINUTE
            found.append(minute)
            offset = following.astimezone(zone).utcoffset()
        probe = following
    return found


def random_field(rng: random.Random, low: int, high: int) -> str:
    def item() -> str:
        kind = rng.choice(["value", "value", "range", "step", "range-step"])
        first = rng.randint(low, high - 1)
        if kind == "value":
            return str(first)
        if kind == "step":
            return f"*/{rng.randint(1, max(1, (high - low) // 2))}"
        last = rng.randint(first + 1, high)  # croniter reads "5-5" as "*"
        return f"{first}-{last}" + (f"/{rng.randint(1, 5)}" if kind == "range-step" else "")

    if rng.random() < 0.3:
        return "*"
    return ",".join(item() for _ in range(rng.choice([1, 1, 2, 3])))


def random_crons(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        fields = [random_field(rng, low, high) for low, high in RANGES]
        if rng.random() < 0.5:  # hours near the changes, where the differences are
            fields[1] = rng.choice(["0", "1", "2", "3", "23", "0-3", "*/2", "1,2", "22-23"])
        if fields[2] not in ("*",) and rng.random() < 0.5:
            fields[2] = "*"
        expression = " ".join(fields)
        if _fires_sometimes(expression):
            out.append(expression)
    return out


def _fires_sometimes(expression: str) -> bool:
    try:
        croniter(expression, datetime(2020, 1, 1), implement_cron_bug=True).get_next(datetime)
        to_aps_trigger(CronSpec(expression, "UTC"))
    except Exception:
        return False  # "31 2" and the like: both refuse or never fire
    return True


def ours(expression: str, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    trigger, out = to_aps_trigger(CronSpec(expression, zone.key)), []
    fire = trigger.get_next_fire_time(None, start + timedelta(microseconds=1))
    while fire is not None and fire <= end:
        out.append(fire.astimezone(UTC))
        fire = trigger.get_next_fire_time(fire, fire)
    return out


def by_croniter(expression: str, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    it = croniter(expression, start.astimezone(zone), implement_cron_bug=True)
    out = []
    while (fire := it.get_next(datetime).astimezone(UTC)) <= end:
        out.append(fire)
    return out


def by_cronie(expression: str, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """What crond would run in (start, end] with `zone` as the system zone, minute by minute."""
    expanded = croniter(expression).expanded
    minutes, hours, days, months, weekdays = (
        set(range(low, high + 1)) if values == ["*"] else {v % 7 if i == 4 else v for v in values}
        for i, ((low, high), values) in enumerate(zip(RANGES, expanded))
    )
    text = expression.split()
    day_and = text[2].startswith("*") or text[4].startswith("*")
    wild = text[0].startswith("*") or text[1].startswith("*")

    def match(virtual: int) -> bool:
        wall = EPOCH + virtual * MINUTE
        if wall.minute not in minutes or wall.hour not in hours or wall.month not in months:
            return False
        on_day, on_weekday = wall.day in days, wall.isoweekday() % 7 in weekdays
        return (on_day and on_weekday) if day_and else (on_day or on_weekday)

    def clock(moment: datetime) -> int:  # local minutes since the epoch, as set_time() computes
        return int((moment.astimezone(zone).replace(tzinfo=None) - EPOCH) / MINUTE)

    now, virtual, runs = start, clock(start), []
    while now < end:
        now += MINUTE
        running = clock(now)
        diff, run = running - virtual, False
        if diff == 1:
            virtual, run = running, match(running)
        elif diff > 180 or diff < -180:  # the clock jumped a lot: run what matches now
            virtual, run = running, match(running)
        elif diff > 5:  # clocks went forward: wildcard jobs for now, fixed ones for each minute
            run = wild and match(running)
            while virtual < running:
                virtual += 1
                run = run or (not wild and match(virtual))
        elif diff > 0:  # woke up late: every minute missed
            while virtual < running:
                virtual += 1
                run = run or match(virtual)
        else:  # clocks went back: wildcard jobs only, virtual time waits
            run = wild and match(running)
        if run:
            runs.append(now)
    return runs


def windows(zone_name: str, year: int, seed: int) -> list[tuple[ZoneInfo, datetime, datetime, datetime]]:
    """(zone, start, end, change) around each change: from 4-15 h before to 30 h after."""
    rng, zone = random.Random(seed), ZoneInfo(zone_name)
    out = []
    for change in changes(zone, year):
        start = change - timedelta(hours=rng.randint(4, 14), minutes=rng.randint(0, 59))
        out.append((zone, start, change + timedelta(hours=30), change))
    assert len(out) == 2, (zone_name, out)
    return out


def check(expression: str, zone: ZoneInfo, start: datetime, end: datetime, change: datetime) -> None:
    mine = ours(expression, zone, start, end)
    assert mine == by_cronie(expression, zone, start, end), (expression, zone.key, start)
    if _croniter_sees_a_star(expression):
        return
    near = (change - timedelta(hours=3), change + timedelta(hours=3))
    away = [fire for fire in mine if not near[0] <= fire <= near[1]]
    theirs = [fire for fire in by_croniter(expression, zone, start, end) if not near[0] <= fire <= near[1]]
    assert away == theirs, (expression, zone.key, start)


def _croniter_sees_a_star(expression: str) -> bool:
    """croniter decides the day rule on a field that covers every day ("5,*/1") as if it were
    `*` (cronie looks at the first character only): its answers differ there, by design."""
    text, expanded = expression.split(), croniter(expression).expanded
    return any(not text[i].startswith("*") and expanded[i] == ["*"] for i in (2, 4))


@pytest.mark.parametrize(("zone_name", "year"), ZONES)
def test_against_cronie_and_croniter(zone_name: str, year: int) -> None:
    for index, window in enumerate(windows(zone_name, year, seed=year)):
        for expression in random_crons(seed=sum(map(ord, zone_name)) + index, count=5):
            check(expression, *window)


NAMED = ["30 0 * * *", "16 */5 * * 1", "28,41,54 */10 * 3,8,11 1-5", "30 2 * * *", "*/15 2 * * *",
         "0 2,3 * * *", "0 * * * *", "*/20 * * * *", "59 23 * * *", "0 0 * * *", "30 1 * * 0", "0 9 */2 * 1"]  # fmt: skip


@pytest.mark.parametrize(("zone_name", "year"), ZONES)
def test_named_cases(zone_name: str, year: int) -> None:
    for window in windows(zone_name, year, seed=1):
        for expression in NAMED:
            check(expression, *window)


@pytest.mark.slow
@pytest.mark.parametrize(("zone_name", "year"), ZONES)
def test_every_minute(zone_name: str, year: int) -> None:
    for window in windows(zone_name, year, seed=2):
        check("* * * * *", *window)


@pytest.mark.slow
@pytest.mark.parametrize(("zone_name", "year"), ZONES)
def test_against_cronie_and_croniter_many(zone_name: str, year: int) -> None:
    for seed in range(4):
        for index, window in enumerate(windows(zone_name, year, seed=seed)):
            for expression in random_crons(seed=1000 * seed + index + len(zone_name), count=40):
                check(expression, *window)
