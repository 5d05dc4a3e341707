"""The admin API's request and answer models of calendars and their special dates, and
the validators normalising working hours ("9:00-12:00" -> "09:00-12:00")."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from complaint_runtime.text import SingleLine
from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from sla_watch.calendars.db import SlaCalendarDay
from sla_watch.calendars.domain.business_calendar import DEFAULT_TIME_ZONE, intervals
from sla_watch.calendars.service import CalendarSummary

CALENDAR_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,59}$"
CalendarId = Annotated[str, Path(pattern=CALENDAR_ID_PATTERN, max_length=60)]
IntervalText = Annotated[str, StringConstraints(min_length=3, max_length=24)]
DayHours = Annotated[list[IntervalText], Field(max_length=24)]


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError(f"not a time zone of the tz database: {value!r} (e.g. Asia/Shanghai)")
    return value


def check_hours(value: list[str]) -> list[str]:
    """Normalised ("9:00-12:00" -> "09:00-12:00"), sorted, non-overlapping."""
    return [str(iv) for iv in intervals(*value)]


class CalendarFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("time_zone", check_fields=False)
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @field_validator("weekly", check_fields=False)
    @classmethod
    def _weekly(cls, value: list[list[str]] | None) -> list[list[str]] | None:
        return None if value is None else [check_hours(day) for day in value]

    @field_validator("makeup_hours", check_fields=False)
    @classmethod
    def _makeup(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_hours(value)


class CalendarIn(CalendarFields):
    calendar_id: str = Field(pattern=CALENDAR_ID_PATTERN, max_length=60, examples=["cn-shenzhen"])
    name: Annotated[str, SingleLine] = Field(min_length=1, max_length=200)
    time_zone: str = Field(DEFAULT_TIME_ZONE, max_length=64, description="IANA time zone")
    weekly: list[DayHours] = Field(
        min_length=7,
        max_length=7,
        description='Working intervals per weekday, Monday first, e.g. ["09:00-12:00", '
        '"13:30-18:00"]; [] is a day off',
    )
    makeup_hours: DayHours | None = Field(
        None,
        description="Hours of a make-up working day; null: those of the first working weekday",
    )


class CalendarPatch(CalendarFields):
    name: Annotated[str, SingleLine] | None = Field(None, min_length=1, max_length=200)
    time_zone: str | None = Field(None, max_length=64)
    weekly: list[DayHours] | None = Field(None, min_length=7, max_length=7)
    makeup_hours: DayHours | None = None


class DayOut(BaseModel):
    day: date
    kind: str
    intervals: list[str] | None
    name: str
    source: str


class CalendarOut(BaseModel):
    calendar_id: str
    name: str
    time_zone: str
    weekly: list[list[str]]
    makeup_hours: list[str] | None
    updated_at: datetime
    holidays: int = Field(description="Holiday dates on record")
    makeup_workdays: int = Field(description="Make-up working days on record")
    overrides: int = Field(description="Dates with their own hours")


class CalendarDetailOut(CalendarOut):
    range_from: date
    range_to: date
    days: list[DayOut] = Field(description="Special dates in the range")
    used_by_policies: list[str]


class CalendarsOut(BaseModel):
    calendars: list[CalendarOut]


class CalendarChangeOut(BaseModel):
    calendar: CalendarOut
    recompute_job_id: int | None = Field(
        description="The job recomputing the open clocks of this calendar"
    )


def calendar_out(summary: CalendarSummary) -> CalendarOut:
    row, counts = summary.row, summary.day_counts
    return CalendarOut(
        calendar_id=row.calendar_id,
        name=row.name,
        time_zone=row.time_zone,
        weekly=row.weekly,
        makeup_hours=row.makeup_hours,
        updated_at=row.updated_at,
        holidays=counts.get("holiday", 0),
        makeup_workdays=counts.get("makeup_workday", 0),
        overrides=counts.get("override", 0),
    )


def day_out(row: SlaCalendarDay) -> DayOut:
    return DayOut(
        day=row.day, kind=row.kind, intervals=row.intervals, name=row.name, source=row.source
    )


class DayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["holiday", "makeup_workday", "override"] = Field(
        description="holiday: no work; makeup_workday: a weekend day worked (调休) with the "
        "make-up hours; override: this date has exactly `intervals` ([] closes it)"
    )
    name: Annotated[str, SingleLine] = Field("", max_length=200, examples=["国庆节"])
    intervals: DayHours | None = Field(None, description="Only for kind override")

    @field_validator("intervals")
    @classmethod
    def _intervals(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else check_hours(value)


class DayChangeOut(BaseModel):
    calendar_id: str
    day: DayOut | None = Field(description="The date as stored now; null after a delete")
    recompute_job_id: int


class IcsImportOut(BaseModel):
    calendar_id: str
    holidays: int = Field(description="Holiday dates imported")
    makeup_workdays: int = Field(description="Make-up working days imported")
    replaced: int = Field(description="Dates that were on record and now come from the file")
    skipped: list[str] = Field(description="Events left out, and why")
    recompute_job_id: int


class BusinessTimeOut(BaseModel):
    calendar_id: str
    time_zone: str
    start: datetime
    seconds: int = Field(description="Business seconds from start to end")
    end: datetime = Field(description="start plus seconds of business time (UTC)")
    end_local: datetime = Field(description="end in the calendar's time zone")
