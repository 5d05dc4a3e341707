"""Admin API of business calendars: list, read (with the days of a range), create, change,
delete. The days themselves (holidays, make-up working days, overrides, .ics import) and the
business-time preview are in :mod:`sla_watch.api.calendar_days`.

Every change commits together with a config-version bump and a recompute job for the
clocks counting in the calendar, and answers with the job's id.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Annotated

from complaint_runtime.database import utcnow
from complaint_runtime.problems import Problem
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from sla_watch.api.recomputations import AdminReader, AdminWriter
from sla_watch.db import Clock
from sla_watch.domain.business_calendar import DEFAULT_TIME_ZONE, intervals
from sla_watch.setup_cache import record_change
from sla_watch.setup_db import ConfigRepository, SlaCalendar, SlaCalendarDay, build_calendar

router = APIRouter(prefix="/v1/admin/calendars", tags=["admin: calendars"])

CALENDAR_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,59}$"
CalendarId = Annotated[str, Path(pattern=CALENDAR_ID_PATTERN, max_length=60)]
IntervalText = Annotated[str, StringConstraints(min_length=3, max_length=24)]
DayHours = Annotated[list[IntervalText], Field(max_length=24)]
MAX_RANGE_DAYS = 3660


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    from zoneinfo import available_timezones

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
    name: str = Field(min_length=1, max_length=200)
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
    name: str | None = Field(None, min_length=1, max_length=200)
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


def calendar_out(row: SlaCalendar, counts: dict[str, int]) -> CalendarOut:
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


def not_found(calendar_id: str) -> Problem:
    return Problem(
        404, "No such calendar", f"There is no calendar {calendar_id!r}.", kind="not-found"
    )


async def existing(config: ConfigRepository, calendar_id: str) -> SlaCalendar:
    row = await config.calendar(calendar_id)
    if row is None:
        raise not_found(calendar_id)
    return row


async def check_buildable(config: ConfigRepository, row: SlaCalendar) -> None:
    """422 unless the calendar as it now stands (in this transaction) can count time."""
    await config.session.flush()
    try:
        build_calendar(row, await config.days(row.calendar_id))
    except ValueError as exc:
        raise Problem(422, "Not a usable calendar", str(exc), kind="invalid-calendar") from exc


async def changed_out(session: AsyncSession, row: SlaCalendar) -> CalendarOut:
    counts = (await ConfigRepository(session).day_counts()).get(row.calendar_id, {})
    return calendar_out(row, counts)


@router.get("", response_model=CalendarsOut, summary="The business calendars")
async def list_calendars(request: Request, _principal: AdminReader) -> CalendarsOut:
    async with runtime_of(request).database.sessions() as session:
        config = ConfigRepository(session)
        counts = await config.day_counts()
        rows = await config.calendars()
    return CalendarsOut(calendars=[calendar_out(r, counts.get(r.calendar_id, {})) for r in rows])


@router.get(
    "/{calendar_id}",
    response_model=CalendarDetailOut,
    summary="A calendar with its special dates in a range (default: this year and the next)",
    responses={404: {"description": "No such calendar"}},
)
async def get_calendar(
    calendar_id: CalendarId,
    request: Request,
    _principal: AdminReader,
    range_from: Annotated[date | None, Query(alias="from")] = None,
    range_to: Annotated[date | None, Query(alias="to")] = None,
) -> CalendarDetailOut:
    this_year = datetime.now(UTC).year
    start = range_from or date(this_year, 1, 1)
    end = range_to or date(this_year + 1, 12, 31)
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise Problem(
            422,
            "Bad date range",
            f"Need from <= to and at most {MAX_RANGE_DAYS} days; got {start} .. {end}.",
            kind="validation",
        )
    async with runtime_of(request).database.sessions() as session:
        config = ConfigRepository(session)
        row = await existing(config, calendar_id)
        counts = (await config.day_counts()).get(calendar_id, {})
        days = await config.days(calendar_id, start=start, end=end)
        used_by = await config.policies_using(calendar_id)
    summary = calendar_out(row, counts)
    return CalendarDetailOut(
        **summary.model_dump(),
        range_from=start,
        range_to=end,
        days=[day_out(d) for d in days],
        used_by_policies=used_by,
    )


@router.post(
    "",
    response_model=CalendarChangeOut,
    status_code=201,
    summary="Create a calendar",
    responses={409: {"description": "The id is taken"}, 422: {"description": "Invalid"}},
)
async def create_calendar(
    body: CalendarIn, request: Request, _principal: AdminWriter
) -> CalendarChangeOut:
    async with runtime_of(request).database.unit_of_work() as uow:
        job = await record_change(
            uow.session, reason="calendar_changed", calendar_id=body.calendar_id
        )
        config = ConfigRepository(uow.session)
        if await config.calendar(body.calendar_id) is not None:
            raise Problem(
                409,
                "Calendar exists",
                f"A calendar {body.calendar_id!r} exists already; PATCH it instead.",
                kind="conflict",
            )
        row = SlaCalendar(
            calendar_id=body.calendar_id,
            name=body.name,
            time_zone=body.time_zone,
            weekly=body.weekly,
            makeup_hours=body.makeup_hours,
            updated_at=utcnow(),
        )
        uow.session.add(row)
        await check_buildable(config, row)
        out = await changed_out(uow.session, row)
    return CalendarChangeOut(calendar=out, recompute_job_id=job.id)


@router.patch(
    "/{calendar_id}",
    response_model=CalendarChangeOut,
    summary="Change a calendar's name, time zone or hours",
    responses={404: {"description": "No such calendar"}, 422: {"description": "Invalid"}},
)
async def patch_calendar(
    calendar_id: CalendarId, body: CalendarPatch, request: Request, _principal: AdminWriter
) -> CalendarChangeOut:
    async with runtime_of(request).database.unit_of_work() as uow:
        job = await record_change(uow.session, reason="calendar_changed", calendar_id=calendar_id)
        config = ConfigRepository(uow.session)
        row = await existing(config, calendar_id)
        given = body.model_fields_set
        for name in ("name", "time_zone", "weekly"):
            value = getattr(body, name)
            if name in given and value is None:
                raise Problem(422, "Invalid request", f"{name} cannot be null.", kind="validation")
            if value is not None:
                setattr(row, name, value)
        if "makeup_hours" in given:  # explicit null: back to the first working weekday's
            row.makeup_hours = body.makeup_hours
        row.updated_at = utcnow()
        await check_buildable(config, row)
        out = await changed_out(uow.session, row)
    return CalendarChangeOut(calendar=out, recompute_job_id=job.id)


@router.delete(
    "/{calendar_id}",
    status_code=204,
    summary="Delete a calendar no policy and no open clock uses",
    responses={404: {"description": "No such calendar"}, 409: {"description": "In use"}},
)
async def delete_calendar(
    calendar_id: CalendarId, request: Request, _principal: AdminWriter
) -> None:
    async with runtime_of(request).database.unit_of_work() as uow:
        config = ConfigRepository(uow.session)
        # No recompute job: a calendar with no policy and no open clock moves no deadline.
        await config.bump_version()
        await existing(config, calendar_id)
        used_by = await config.policies_using(calendar_id)
        if used_by:
            raise Problem(
                409,
                "Calendar in use",
                f"Policies {', '.join(used_by)} count in {calendar_id!r}; move them to "
                "another calendar first.",
                kind="calendar-in-use",
                policies=used_by,
            )
        open_clocks = await uow.session.scalar(
            select(func.count())
            .select_from(Clock)
            .where(Clock.calendar_id == calendar_id, Clock.state.in_(("running", "paused")))
        )
        if open_clocks:
            raise Problem(
                409,
                "Calendar in use",
                f"{open_clocks} open clock(s) still count in {calendar_id!r}; retry once the "
                "recompute jobs have moved them.",
                kind="calendar-in-use",
            )
        await config.delete_calendar(calendar_id)
