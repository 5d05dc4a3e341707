"""Working-hours calendars: exact business-time arithmetic over a tz-database time zone.

A :class:`WorkingCalendar` is a :class:`~sla_watch.calendars.domain.calendar.BusinessCalendar` made
of plain data: an IANA time zone, working intervals per weekday (several a day, e.g.
09:00–12:00 and 13:30–18:00), public holidays, make-up working days (调休) and per-date
overrides. It is pure (no I/O; its caches are invisible) and immutable.

Semantics, chosen so that the arithmetic is exact and the algebra holds to the microsecond:

* **Working time is a set of instants.** An instant is working time when its local wall-clock
  time (local date and time of day in the calendar's zone) falls in one of the working
  intervals of that local date, start inclusive, end exclusive. Which intervals a date has:
  an override for the date if there is one (possibly closed), else none on a holiday, else
  the make-up intervals on a make-up working day, else the weekday's intervals.
* **Daylight saving time.** Because membership is decided on the wall clock, a DST day has
  23 or 25 wall hours and intervals follow the wall clock: an interval 01:00–04:00 on the
  spring-forward day in Europe/Berlin (02:00–03:00 does not exist) is 2 real hours; on the
  fall-back day (02:00–03:00 happens twice) it is 4 real hours. An interval starting or
  ending inside a skipped hour starts or ends when the wall clock jumps (03:00). A 24×7
  calendar (00:00–24:00 every day) therefore counts exactly the elapsed real time.
* ``elapsed(start, end)`` is the measure of working time in ``[start, end)``, floored to
  whole seconds; ``add(start, s)`` is the *earliest* instant ``t >= start`` with exactly
  ``s`` business seconds in ``[start, t)``. So ``add(start, 0) == start`` (also outside
  working hours), a deadline that ends a working day is that day's closing time (18:00, not
  the next opening), ``elapsed(start, add(start, s)) == s`` and
  ``add(add(t, a), b) == add(t, a + b)`` hold exactly, microseconds included.
* ``add`` returns UTC datetimes: comparisons and subtraction between aware datetimes that
  share one ``ZoneInfo`` object ignore ``fold`` and the offset (Python compares them as wall
  times), which is wrong around DST; UTC results avoid that trap.

Efficiency: time is walked in UTC days; each day's working pieces are computed once (and
cached); runs of whole weeks with no special date and no UTC-offset change are skipped in
O(1) (a week then holds exactly the weekly working time). ``add`` searches at most
``horizon_days`` (10 years by default) and raises :class:`NoWorkingTimeError` instead of
looping; a calendar with no working time at all is refused when built.

Working intervals are parsed in :mod:`sla_watch.calendars.domain.working_intervals`;
instants as integer microseconds and the zone's offset changes are in
:mod:`sla_watch.calendars.domain.zone_offsets` (which says when locating those changes is
exact).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sla_watch.calendars.domain.working_intervals import (
    DAY_S,
    Intervals,
    IntervalSpec,
    WorkingInterval,
    as_intervals,
    intervals,
)
from sla_watch.calendars.domain.zone_offsets import US, ZoneOffsets, from_us, to_us, zone_offsets

if TYPE_CHECKING:
    from sla_watch.calendars.domain.calendar import BusinessCalendar

__all__ = [
    "DEFAULT_TIME_ZONE",
    "IntervalSpec",
    "Intervals",
    "NoWorkingTimeError",
    "WorkingCalendar",
    "WorkingInterval",
    "intervals",
]

DEFAULT_TIME_ZONE = "Asia/Shanghai"
DEFAULT_HORIZON_DAYS = 3653  # ten years

_DAY_US = DAY_S * US
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CHUNK_CACHE_MAX = 8192


class NoWorkingTimeError(ValueError):
    """The calendar has no working time (at all, or within the search horizon)."""


@dataclass(frozen=True)
class WorkingCalendar:
    """A business calendar of working intervals, holidays and make-up working days.

    ``weekly`` has seven entries, Monday first. ``makeup_intervals`` are the hours of a
    make-up working day; ``None`` means those of the first weekday that has any (Monday in
    a Monday–Friday calendar). Use :meth:`create` to build one from friendlier input.
    """

    calendar_id: str
    weekly: tuple[Intervals, ...]
    time_zone: str = DEFAULT_TIME_ZONE
    holidays: frozenset[date] = frozenset()
    makeup_workdays: frozenset[date] = frozenset()
    makeup_intervals: Intervals | None = None
    overrides: tuple[tuple[date, Intervals], ...] = ()
    horizon_days: int = DEFAULT_HORIZON_DAYS

    _zone: ZoneOffsets = field(init=False, repr=False, compare=False, hash=False)
    _by_date: dict[int, Intervals] = field(init=False, repr=False, compare=False, hash=False)
    _special: tuple[int, ...] = field(init=False, repr=False, compare=False, hash=False)
    _weekly_us: int = field(init=False, repr=False, compare=False, hash=False)
    _chunks: dict[int, tuple[tuple[int, int], ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs seven entries, Monday first")
        weekly = tuple(intervals(*day) for day in self.weekly)
        overrides = tuple(sorted((d, intervals(*ivs)) for d, ivs in self.overrides))
        if len({d for d, _ in overrides}) != len(overrides):
            raise ValueError("a date may be overridden only once")
        both = self.holidays & self.makeup_workdays
        if both:
            raise ValueError(f"dates both holiday and make-up working day: {sorted(both)}")
        if self.horizon_days < 1:
            raise ValueError("horizon_days must be positive")
        makeup = self.makeup_intervals
        if makeup is None:
            makeup = next((day for day in weekly if day), ())
        makeup = intervals(*makeup)
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "overrides", overrides)
        object.__setattr__(self, "makeup_intervals", makeup)

        by_date: dict[int, Intervals] = {_day_index(d): () for d in self.holidays}
        by_date.update({_day_index(d): makeup for d in self.makeup_workdays})
        by_date.update({_day_index(d): ivs for d, ivs in overrides})
        weekly_us = sum(iv.seconds for day in weekly for iv in day) * US
        if weekly_us == 0 and not any(by_date.values()):
            raise NoWorkingTimeError(f"calendar {self.calendar_id!r} has no working time")
        object.__setattr__(self, "_zone", zone_offsets(self.time_zone))
        object.__setattr__(self, "_by_date", by_date)
        object.__setattr__(self, "_special", tuple(sorted(by_date)))
        object.__setattr__(self, "_weekly_us", weekly_us)
        object.__setattr__(self, "_chunks", {})

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        calendar_id: str,
        *,
        time_zone: str = DEFAULT_TIME_ZONE,
        hours: Iterable[IntervalSpec] = ("09:00-12:00", "13:30-18:00"),
        workdays: Iterable[int] = range(5),
        weekly: Mapping[int, Iterable[IntervalSpec]] | None = None,
        holidays: Iterable[date] = (),
        makeup_workdays: Iterable[date] = (),
        makeup_hours: Iterable[IntervalSpec] | None = None,
        overrides: Mapping[date, Iterable[IntervalSpec]] | None = None,
        horizon_days: int = DEFAULT_HORIZON_DAYS,
    ) -> WorkingCalendar:
        """``hours`` on each of ``workdays`` (0 = Monday), unless ``weekly`` maps weekdays
        to their own hours (weekdays missing from it are closed). An override with no
        intervals closes the date."""
        if weekly is None:
            day_hours = as_intervals(hours)
            days = set(workdays)
            if not days <= set(range(7)):
                raise ValueError("workdays are 0 (Monday) .. 6 (Sunday)")
            week = tuple(day_hours if wd in days else () for wd in range(7))
        else:
            if not set(weekly) <= set(range(7)):
                raise ValueError("weekly keys are 0 (Monday) .. 6 (Sunday)")
            week = tuple(as_intervals(weekly.get(wd, ())) for wd in range(7))
        return cls(
            calendar_id=calendar_id,
            weekly=week,
            time_zone=time_zone,
            holidays=frozenset(holidays),
            makeup_workdays=frozenset(makeup_workdays),
            makeup_intervals=None if makeup_hours is None else as_intervals(makeup_hours),
            overrides=tuple((d, as_intervals(v)) for d, v in (overrides or {}).items()),
            horizon_days=horizon_days,
        )

    @classmethod
    def twenty_four_seven(
        cls, calendar_id: str = "24x7", time_zone: str = DEFAULT_TIME_ZONE
    ) -> WorkingCalendar:
        """Every instant is working time: equals wall-clock (real) time, DST included."""
        return cls.create(
            calendar_id, time_zone=time_zone, hours=("00:00-24:00",), workdays=range(7)
        )

    # -- queries --------------------------------------------------------------------------

    def intervals_on(self, day: date) -> Intervals:
        """The working intervals of a local date (override > holiday > make-up > weekday)."""
        return self._intervals_at(_day_index(day))

    def is_working(self, moment: datetime) -> bool:
        u = to_us(moment)
        return any(a <= u < b for a, b in self._chunk(u // _DAY_US))

    def add(self, start: datetime, seconds: int) -> datetime:
        """The earliest instant at which ``seconds`` business seconds have passed since
        ``start`` (``start`` itself for 0), in UTC."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        origin = to_us(start)
        need = seconds * US
        if need == 0:
            return from_us(origin)
        day = origin // _DAY_US
        last_day = day + self.horizon_days
        while day <= last_day:
            if day * _DAY_US >= origin:
                max_weeks = (last_day - day) // 7
                if self._weekly_us:
                    max_weeks = min(max_weeks, (need - 1) // self._weekly_us)
                weeks = self._plain_weeks(day, max_weeks)
                if weeks:
                    need -= weeks * self._weekly_us
                    day += 7 * weeks
                    continue
            for a, b in self._chunk(day):
                if b <= origin:
                    continue
                a = max(a, origin)
                if b - a >= need:
                    return from_us(a + need)
                need -= b - a
            day += 1
        raise NoWorkingTimeError(
            f"calendar {self.calendar_id!r}: {seconds} business seconds after {start} "
            f"not reached within {self.horizon_days} days"
        )

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Whole business seconds in ``[start, end)``; 0 when ``end <= start``."""
        return self.elapsed_us(start, end) // US

    def elapsed_us(self, start: datetime, end: datetime) -> int:
        """Business microseconds in ``[start, end)``; 0 when ``end <= start``."""
        lo, hi = to_us(start), to_us(end)
        if hi <= lo:
            return 0
        total = 0
        day, last_day = lo // _DAY_US, (hi - 1) // _DAY_US
        while day <= last_day:
            if day * _DAY_US >= lo:
                weeks = self._plain_weeks(day, (hi // _DAY_US - day) // 7)
                if weeks:
                    total += weeks * self._weekly_us
                    day += 7 * weeks
                    continue
            for a, b in self._chunk(day):
                total += max(0, min(b, hi) - max(a, lo))
            day += 1
        return total

    # -- internals ------------------------------------------------------------------------

    def _intervals_at(self, day_index: int) -> Intervals:
        special = self._by_date.get(day_index)
        if special is not None:
            return special
        return self.weekly[(day_index + 3) % 7]  # 1970-01-01 was a Thursday

    def _chunk(self, day: int) -> tuple[tuple[int, int], ...]:
        """Working pieces ``(from_us, to_us)`` of the UTC day ``day``, sorted and merged."""
        cached = self._chunks.get(day)
        if cached is not None:
            return cached
        lo_day, hi_day = day * _DAY_US, (day + 1) * _DAY_US
        pieces: list[tuple[int, int]] = []
        for lo, hi, offset in self._zone.segments(lo_day, hi_day):
            # Within a segment the wall clock is the instant shifted by ``offset``.
            for local_day in range((lo + offset) // _DAY_US, (hi - 1 + offset) // _DAY_US + 1):
                midnight = local_day * _DAY_US - offset
                for iv in self._intervals_at(local_day):
                    a = max(lo, midnight + iv.start * US)
                    b = min(hi, midnight + iv.end * US)
                    if a < b:
                        if pieces and pieces[-1][1] == a:
                            pieces[-1] = (pieces[-1][0], b)
                        else:
                            pieces.append((a, b))
        result = tuple(pieces)
        if len(self._chunks) >= _CHUNK_CACHE_MAX:
            self._chunks.clear()
        self._chunks[day] = result
        return result

    def _plain_weeks(self, day: int, max_weeks: int) -> int:
        """How many whole weeks (at most ``max_weeks``) from the UTC day ``day`` hold exactly
        the weekly working time: no special date among the local dates they touch and no
        offset change of the zone inside them."""
        if max_weeks <= 0:
            return 0
        at = bisect.bisect_left(self._special, day - 1)
        if at < len(self._special):
            # local dates touched are day-1 .. day+7k (|offset| < 24 h)
            max_weeks = min(max_weeks, (self._special[at] - day - 1) // 7)
            if max_weeks <= 0:
                return 0
        start_s = day * DAY_S
        change = self._zone.next_change(start_s, start_s + max_weeks * 7 * DAY_S)
        if change is not None:
            max_weeks = min(max_weeks, (change - start_s) // (7 * DAY_S))
        return max(max_weeks, 0)


def _day_index(day: date) -> int:
    return day.toordinal() - _EPOCH_ORDINAL


if TYPE_CHECKING:

    def _is_a_business_calendar(calendar: WorkingCalendar) -> BusinessCalendar:
        return calendar  # mypy checks WorkingCalendar against the protocol
