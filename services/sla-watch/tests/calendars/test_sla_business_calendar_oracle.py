"""WorkingCalendar against two independent oracles, on thousands of seeded random cases.

1. A brute-force minute walk written here from the definition alone: for every minute of a
   window, convert the minute to the calendar's local wall clock with ``datetime.astimezone``,
   look up that date's hours (override > holiday > make-up > weekday) and mark the minute
   worked or not; ``elapsed`` and ``add`` are then read off prefix sums. Calendars are
   random (several intervals a day, intervals across 01:00–04:00, holidays, make-up days,
   overrides, closed days) in zones and windows with DST transitions (Europe/Berlin,
   America/New_York, Australia/Lord_Howe's 30-minute shift), the China holidays of autumn
   2026, and Samoa's skipped day (2011-12-30). Interval bounds and zone transitions fall on
   whole minutes there, so being worked is constant within each minute.
2. ``businesstimedelta`` (pytz based) for what it supports: one interval a day (optionally
   minus a lunch break), weekdays, holidays; no make-up days and no DST-crossing intervals.
   Its ``add`` of 0 returns the next working instant, so only positive durations go there.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

import businesstimedelta
import chinese_calendar
import pytest
import pytz
from sla_watch.calendars.domain.business_calendar import WorkingCalendar, WorkingInterval

Hours = list[tuple[int, int]]  # (start, end) seconds after local midnight


@dataclass
class Spec:
    zone: str
    weekly: dict[int, Hours]
    holidays: set[date] = field(default_factory=set)
    makeups: set[date] = field(default_factory=set)
    makeup_hours: Hours = field(default_factory=list)
    overrides: dict[date, Hours] = field(default_factory=dict)

    def hours_on(self, day: date) -> Hours:
        if day in self.overrides:
            return self.overrides[day]
        if day in self.holidays:
            return []
        if day in self.makeups:
            return self.makeup_hours
        return self.weekly.get(day.weekday(), [])

    def calendar(self) -> WorkingCalendar:
        def ivs(hours: Hours) -> list[WorkingInterval]:
            return [WorkingInterval(a, b) for a, b in hours]

        return WorkingCalendar.create(
            "oracle",
            time_zone=self.zone,
            weekly={wd: ivs(h) for wd, h in self.weekly.items()},
            holidays=self.holidays,
            makeup_workdays=self.makeups,
            makeup_hours=ivs(self.makeup_hours),
            overrides={d: ivs(h) for d, h in self.overrides.items()},
        )


class MinuteWalk:
    """Working seconds minute by minute over ``[t0, t0 + minutes)``."""

    def __init__(self, spec: Spec, t0: datetime, minutes: int) -> None:
        zone = ZoneInfo(spec.zone)
        self.t0 = t0
        self.end = t0 + timedelta(minutes=minutes)
        self.worked: list[int] = []
        for i in range(minutes):
            local = (t0 + timedelta(minutes=i)).astimezone(zone)
            of_day = local.hour * 3600 + local.minute * 60 + local.second
            hit = any(a <= of_day < b for a, b in spec.hours_on(local.date()))
            self.worked.append(60 if hit else 0)
        self.prefix = [0, *accumulate(self.worked)]

    def upto(self, moment: datetime) -> int:
        """Working seconds in [t0, moment)."""
        offset = int((moment - self.t0).total_seconds())
        minute, rest = divmod(offset, 60)
        partial = rest if rest and self.worked[minute] else 0
        return self.prefix[minute] + partial

    def elapsed(self, start: datetime, end: datetime) -> int:
        return max(0, self.upto(end) - self.upto(start))

    def add(self, start: datetime, seconds: int) -> datetime | None:
        if seconds == 0:
            return start
        wanted = self.upto(start) + seconds
        after = bisect.bisect_left(self.prefix, wanted)  # first prefix >= wanted
        if after >= len(self.prefix):
            return None
        minute = after - 1
        return self.t0 + timedelta(seconds=minute * 60 + wanted - self.prefix[minute])


WINDOWS = [
    ("Europe/Berlin", datetime(2026, 3, 10, tzinfo=UTC)),
    ("Europe/Berlin", datetime(2026, 10, 5, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 2, 25, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 10, 20, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 3, 25, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 9, 20, tzinfo=UTC)),
    ("Pacific/Apia", datetime(2011, 12, 15, tzinfo=UTC)),
    ("Asia/Shanghai", datetime(2026, 9, 10, tzinfo=UTC)),
]
WINDOW_DAYS = 30
CALENDARS_PER_WINDOW = 2
CASES_PER_CALENDAR = 400


def random_hours(rng: random.Random) -> Hours:
    roll = rng.random()
    if roll < 0.1:
        return [(0, 86_400)]
    if roll < 0.25:
        return [(3600 * rng.choice([0, 1, 2]), 3600 * rng.choice([3, 4, 5]))]  # across DST hours
    count = rng.choice([0, 1, 1, 2, 2, 3])
    cuts = sorted(rng.sample(range(0, 1441), 2 * count))
    return [(cuts[i] * 60, cuts[i + 1] * 60) for i in range(0, len(cuts), 2)]


def random_spec(rng: random.Random, zone: str, t0: datetime) -> Spec:
    first = t0.date() - timedelta(days=1)
    days = [first + timedelta(n) for n in range(WINDOW_DAYS + 2)]
    if zone == "Asia/Shanghai" and rng.random() < 0.7:
        spec = Spec(zone, {wd: [(32_400, 43_200), (48_600, 64_800)] for wd in range(5)})
        spec.holidays = {d for d in days if d in chinese_calendar.holidays}
        spec.makeups = {d for d in days if d in chinese_calendar.workdays}
        spec.makeup_hours = spec.weekly[0]
    else:
        weekly = {wd: random_hours(rng) for wd in range(7)}
        if not any(weekly.values()):
            weekly[0] = [(9 * 3600, 17 * 3600)]
        spec = Spec(zone, weekly)
        spec.holidays = set(rng.sample(days, rng.randint(0, 6)))
        weekends = [d for d in days if d.weekday() >= 5 and d not in spec.holidays]
        spec.makeups = set(rng.sample(weekends, rng.randint(0, min(3, len(weekends)))))
        spec.makeup_hours = random_hours(rng) or [(9 * 3600, 12 * 3600)]
    spec.overrides = {d: random_hours(rng) for d in rng.sample(days, rng.randint(0, 4))}
    return spec


def random_moment(rng: random.Random, walk: MinuteWalk, latest: datetime) -> datetime:
    span = int((latest - walk.t0).total_seconds())
    if rng.random() < 0.3:  # on a minute boundary (interval edges, DST edges)
        return walk.t0 + timedelta(minutes=rng.randrange(span // 60))
    return walk.t0 + timedelta(seconds=rng.randrange(span))


def test_against_a_brute_force_minute_walk() -> None:
    rng = random.Random(20260925)
    compared = 0
    for zone, t0 in WINDOWS:
        for _ in range(CALENDARS_PER_WINDOW):
            spec = random_spec(rng, zone, t0)
            calendar = spec.calendar()
            walk = MinuteWalk(spec, t0, WINDOW_DAYS * 1440)
            for _ in range(CASES_PER_CALENDAR):
                start = random_moment(rng, walk, walk.end - timedelta(days=1))
                end = start + timedelta(seconds=rng.randrange(12 * 86_400))
                end = min(end, walk.end - timedelta(seconds=1))
                context = (zone, spec, start, end)
                assert calendar.elapsed(start, end) == walk.elapsed(start, end), context
                assert calendar.elapsed(end, start) == 0
                available = walk.elapsed(start, walk.end - timedelta(seconds=1))
                seconds = rng.choice(
                    [0, 1, 60, rng.randint(0, available), rng.randint(0, min(available, 7200))]
                )
                seconds = min(seconds, available)
                expected = walk.add(start, seconds)
                assert expected is not None
                assert calendar.add(start, seconds) == expected, (context, seconds)
                compared += 1
    assert compared == len(WINDOWS) * CALENDARS_PER_WINDOW * CASES_PER_CALENDAR


# -- businesstimedelta ----------------------------------------------------------------------


def _btd_rule(
    zone: str, opening: time, closing: time, holidays: set[date], lunch: tuple[time, time] | None
) -> businesstimedelta.Rule:
    tz = pytz.timezone(zone)
    rules = [businesstimedelta.WorkDayRule(start_time=opening, end_time=closing, tz=tz)]
    if lunch is not None:
        rules.append(businesstimedelta.LunchTimeRule(start_time=lunch[0], end_time=lunch[1], tz=tz))
    rules.append(businesstimedelta.HolidayRule(holidays, tz=tz))
    return businesstimedelta.Rules(rules)


def _seconds_of(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


BTD_CASES = [
    # zone, opening, closing, lunch, holidays
    (
        "Asia/Shanghai",
        time(9),
        time(18),
        (time(12), time(13, 30)),
        {d for d in chinese_calendar.holidays if d.year >= 2025} | {date(2027, 1, 1)},
    ),
    ("Asia/Shanghai", time(8, 30), time(17, 15), None, {date(2026, 10, 1), date(2027, 1, 1)}),
    (
        "America/New_York",
        time(9),
        time(17),
        None,
        {date(2025, 7, 4), date(2025, 12, 25), date(2026, 1, 1), date(2026, 3, 9)}
        | {date(2026, 7, 3), date(2026, 11, 26), date(2026, 12, 25), date(2027, 1, 1)},
    ),
]


@pytest.mark.parametrize("case", BTD_CASES, ids=[c[0] + str(c[1]) for c in BTD_CASES])
def test_against_businesstimedelta(
    case: tuple[str, time, time, tuple[time, time] | None, set[date]],
) -> None:
    zone, opening, closing, lunch, holidays = case
    rule = _btd_rule(zone, opening, closing, holidays, lunch)
    hours = [(_seconds_of(opening), _seconds_of(closing))]
    if lunch is not None:
        hours = [(hours[0][0], _seconds_of(lunch[0])), (_seconds_of(lunch[1]), hours[0][1])]
    calendar = WorkingCalendar.create(
        "btd",
        time_zone=zone,
        weekly={wd: [WorkingInterval(a, b) for a, b in hours] for wd in range(5)},
        holidays=holidays,
    )
    rng = random.Random(f"{zone} {opening}")
    low = datetime(2025, 1, 1, tzinfo=UTC)
    span = int((datetime(2026, 12, 1, tzinfo=UTC) - low).total_seconds())
    for _ in range(400):
        start = low + timedelta(seconds=rng.randrange(span))
        if rng.random() < 0.3:
            start = start.replace(minute=rng.choice([0, 30]), second=0)
        end = start + timedelta(seconds=rng.randrange(10 * 86_400))
        expected_elapsed = int(rule.difference(start, end).timedelta.total_seconds())
        assert calendar.elapsed(start, end) == expected_elapsed, (start, end)
        seconds = rng.choice([1, 3600, rng.randint(1, 5 * 8 * 3600)])
        expected_end = start + businesstimedelta.BusinessTimeDelta(rule, seconds=seconds)
        assert calendar.add(start, seconds) == expected_end, (start, seconds)
