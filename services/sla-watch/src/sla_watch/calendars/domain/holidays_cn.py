"""The mainland-China calendar, from the ``chinese-calendar`` package (PyPI).

``chinese_calendar`` ships the State Council's schedule for the years it covers (2004–2026
in version 1.11): public holidays (every day of a holiday period, weekend days included)
and make-up working days (调休: a Saturday or Sunday that is worked). This module turns that
into plain data (:class:`ChinaHolidays`, dates and names in dicts and sets, ready to be seeded
into sla-watch's database) and into a :class:`WorkingCalendar`.

Default working hours: Monday–Friday 09:00–18:00 with a lunch break 12:00–13:30, i.e. the
intervals 09:00–12:00 and 13:30–18:00 (7.5 working hours a day); a make-up working day has
the same hours. Time zone Asia/Shanghai (no DST since 1991).

The next year's schedule is published late in the year (and reaches the package later):
dates outside :attr:`ChinaHolidays.first_year` .. :attr:`ChinaHolidays.last_year` are plain
weekdays/weekends until an admin adds them (per-date overrides, or an .ics import, see
:mod:`sla_watch.calendars.domain.holidays_ics`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import chinese_calendar

from sla_watch.calendars.domain.business_calendar import (
    IntervalSpec,
    WorkingCalendar,
)

CN_CALENDAR_ID = "cn-mainland"
CN_TIME_ZONE = "Asia/Shanghai"
CN_DEFAULT_HOURS: tuple[str, ...] = ("09:00-12:00", "13:30-18:00")
"""09:00–18:00 with a 12:00–13:30 lunch break."""


@dataclass(frozen=True)
class ChinaHolidays:
    """Holidays and make-up working days as plain data (date → holiday name, in English as
    ``chinese_calendar`` names them, e.g. ``"National Day"``)."""

    holidays: dict[date, str]
    makeup_workdays: dict[date, str]
    first_year: int
    last_year: int

    @property
    def holiday_dates(self) -> frozenset[date]:
        return frozenset(self.holidays)

    @property
    def makeup_dates(self) -> frozenset[date]:
        return frozenset(self.makeup_workdays)


def covered_years() -> tuple[int, int]:
    """First and last year that the installed ``chinese_calendar`` has data for."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def china_holidays(first_year: int | None = None, last_year: int | None = None) -> ChinaHolidays:
    """The schedule for ``first_year`` .. ``last_year`` (default: all covered years)."""
    low, high = covered_years()
    first = low if first_year is None else first_year
    last = high if last_year is None else last_year
    if not low <= first <= last <= high:
        raise ValueError(f"chinese_calendar covers {low}..{high}, asked for {first}..{last}")

    def pick(table: dict[date, str]) -> dict[date, str]:
        return {d: str(name) for d, name in sorted(table.items()) if first <= d.year <= last}

    return ChinaHolidays(
        holidays=pick(chinese_calendar.holidays),
        makeup_workdays=pick(chinese_calendar.workdays),
        first_year=first,
        last_year=last,
    )


def china_calendar(
    calendar_id: str = CN_CALENDAR_ID,
    *,
    hours: Iterable[IntervalSpec] = CN_DEFAULT_HOURS,
    time_zone: str = CN_TIME_ZONE,
    data: ChinaHolidays | None = None,
    extra_holidays: Iterable[date] = (),
    extra_makeup_workdays: Iterable[date] = (),
) -> WorkingCalendar:
    """Monday–Friday ``hours`` in ``time_zone`` with the mainland-China holidays and make-up
    working days (the make-up days get the same ``hours``). ``extra_*`` add dates the package
    does not know yet (e.g. next year's schedule)."""
    schedule = data if data is not None else china_holidays()
    day_hours = tuple(hours)
    return WorkingCalendar.create(
        calendar_id,
        time_zone=time_zone,
        hours=day_hours,
        workdays=range(5),
        holidays=schedule.holiday_dates | frozenset(extra_holidays),
        makeup_workdays=schedule.makeup_dates | frozenset(extra_makeup_workdays),
        makeup_hours=day_hours,
    )
