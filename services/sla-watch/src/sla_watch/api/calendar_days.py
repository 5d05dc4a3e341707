"""Admin API of a calendar's special dates: put or remove one date (how next year's official
schedule gets in before the ``chinese-calendar`` package has it), import an iCalendar (.ics)
holiday file, and preview the business-time arithmetic."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from complaint_runtime.problems import Problem
from complaint_runtime.service import runtime_of
from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sla_watch.api.calendars import (
    CalendarId,
    DayHours,
    DayOut,
    check_buildable,
    check_hours,
    day_out,
    existing,
    not_found,
)
from sla_watch.api.recomputations import AdminReader, AdminWriter
from sla_watch.domain.business_calendar import NoWorkingTimeError
from sla_watch.domain.holidays_ics import holidays_from_ics
from sla_watch.domain.policy import MAX_TARGET_S
from sla_watch.setup_cache import DatabaseSetup, record_change
from sla_watch.setup_db import ConfigRepository, build_calendar

router = APIRouter(prefix="/v1/admin/calendars", tags=["admin: calendars"])

ICS_TYPES = ("text/calendar", "application/octet-stream")


class DayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["holiday", "makeup_workday", "override"] = Field(
        description="holiday: no work; makeup_workday: a weekend day worked (调休) with the "
        "make-up hours; override: this date has exactly `intervals` ([] closes it)"
    )
    name: str = Field("", max_length=200, examples=["国庆节"])
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


@router.put(
    "/{calendar_id}/days/{day}",
    response_model=DayChangeOut,
    summary="Mark a date as a holiday, a make-up working day, or give it its own hours",
    responses={404: {"description": "No such calendar"}, 422: {"description": "Invalid"}},
)
async def put_day(
    calendar_id: CalendarId,
    day: Annotated[date, Path()],
    body: DayIn,
    request: Request,
    _principal: AdminWriter,
) -> DayChangeOut:
    if (body.kind == "override") != (body.intervals is not None):
        raise Problem(
            422,
            "Invalid request",
            "intervals are required for kind override (use [] to close the date) and "
            "not allowed for holiday or makeup_workday.",
            kind="validation",
            errors=[{"in": "body", "field": "intervals", "pointer": "/intervals"}],
        )
    async with runtime_of(request).database.unit_of_work() as uow:
        job = await record_change(uow.session, reason="calendar_changed", calendar_id=calendar_id)
        config = ConfigRepository(uow.session)
        row = await existing(config, calendar_id)
        stored = await config.put_day(
            calendar_id,
            day,
            kind=body.kind,
            name=body.name,
            source="admin",
            day_intervals=body.intervals,
        )
        await check_buildable(config, row)
        out = day_out(stored)
    return DayChangeOut(calendar_id=calendar_id, day=out, recompute_job_id=job.id)


@router.delete(
    "/{calendar_id}/days/{day}",
    response_model=DayChangeOut,
    summary="Make a date an ordinary day of its weekday again",
    responses={404: {"description": "No such calendar or no special date"}},
)
async def delete_day(
    calendar_id: CalendarId,
    day: Annotated[date, Path()],
    request: Request,
    _principal: AdminWriter,
) -> DayChangeOut:
    async with runtime_of(request).database.unit_of_work() as uow:
        job = await record_change(uow.session, reason="calendar_changed", calendar_id=calendar_id)
        config = ConfigRepository(uow.session)
        row = await existing(config, calendar_id)
        stored = await config.day(calendar_id, day)
        if stored is None:
            raise Problem(
                404,
                "No special date",
                f"{day} is an ordinary day in {calendar_id!r} already.",
                kind="not-found",
            )
        await uow.session.delete(stored)
        await check_buildable(config, row)
    return DayChangeOut(calendar_id=calendar_id, day=None, recompute_job_id=job.id)


@router.post(
    "/{calendar_id}/ics",
    response_model=IcsImportOut,
    summary="Import holidays and make-up working days from an iCalendar (.ics) file",
    description="Send the file as the body (Content-Type: text/calendar). All-day events "
    "are holidays, except those whose summary marks a make-up working day (补班, 上班); "
    "dates on record are replaced. Recurring events are not expanded (listed in skipped).",
    responses={
        404: {"description": "No such calendar"},
        413: {"description": "File too large"},
        415: {"description": "Not text/calendar"},
        422: {"description": "Not a usable iCalendar file"},
    },
)
async def import_ics(
    calendar_id: CalendarId, request: Request, _principal: AdminWriter
) -> IcsImportOut:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ICS_TYPES:
        raise Problem(
            415,
            "Unsupported media type",
            "Send the .ics file as the body with Content-Type: text/calendar.",
            kind="unsupported-media-type",
        )
    limit: int = request.app.state.settings.sla_ics_max_bytes
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise Problem(
                413,
                "File too large",
                f"An .ics import may have at most {limit} bytes.",
                kind="payload-too-large",
            )
    try:
        found = holidays_from_ics(bytes(body))
    except Exception as exc:  # icalendar raises several types for malformed input
        raise Problem(
            422,
            "Not a usable iCalendar file",
            f"The file could not be read as iCalendar: {str(exc)[:300] or type(exc).__name__}",
            kind="invalid-ics",
        ) from exc
    if not found.holidays and not found.makeup_workdays:
        raise Problem(
            422,
            "No dates in the file",
            "The file has no event with a date (VEVENT with DTSTART).",
            kind="invalid-ics",
            skipped=found.skipped,
        )
    async with runtime_of(request).database.unit_of_work() as uow:
        job = await record_change(uow.session, reason="calendar_changed", calendar_id=calendar_id)
        config = ConfigRepository(uow.session)
        row = await existing(config, calendar_id)
        on_record = {d.day for d in await config.days(calendar_id)}
        dates = [(d, "holiday", n) for d, n in found.holidays.items()] + [
            (d, "makeup_workday", n) for d, n in found.makeup_workdays.items()
        ]
        for day, kind, name in dates:
            await config.put_day(
                calendar_id,
                day,
                kind="holiday" if kind == "holiday" else "makeup_workday",
                name=name[:200],
                source="ics",
            )
        await check_buildable(config, row)
    return IcsImportOut(
        calendar_id=calendar_id,
        holidays=len(found.holidays),
        makeup_workdays=len(found.makeup_workdays),
        replaced=sum(1 for d, _, _ in dates if d in on_record),
        skipped=found.skipped,
        recompute_job_id=job.id,
    )


@router.get(
    "/{calendar_id}/business-time",
    response_model=BusinessTimeOut,
    summary="Preview: start + N business seconds, or the business seconds from start to end",
    responses={404: {"description": "No such calendar"}, 422: {"description": "Invalid"}},
)
async def business_time(
    calendar_id: CalendarId,
    request: Request,
    _principal: AdminReader,
    start: Annotated[datetime, Query(description="ISO 8601 with an offset")],
    seconds: Annotated[int | None, Query(ge=0, le=MAX_TARGET_S)] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601 with an offset")] = None,
) -> BusinessTimeOut:
    if (seconds is None) == (end is None):
        raise Problem(
            422, "Invalid request", "Give exactly one of seconds and end.", kind="validation"
        )
    for label, moment in (("start", start), ("end", end)):
        if moment is not None and moment.utcoffset() is None:
            raise Problem(
                422,
                "Invalid request",
                f"{label} needs a UTC offset, e.g. 2026-10-01T09:00:00+08:00.",
                kind="validation",
            )
    setup: DatabaseSetup | None = getattr(request.app.state, "sla_setup", None)
    async with runtime_of(request).database.sessions() as session:
        config = ConfigRepository(session)
        if setup is not None:
            try:
                calendar = await setup.calendar(session, calendar_id)
            except LookupError as exc:
                raise not_found(calendar_id) from exc
        else:
            row = await existing(config, calendar_id)
            calendar = build_calendar(row, await config.days(calendar_id))
    try:
        if seconds is not None:
            finish = calendar.add(start, seconds)
            counted = seconds
        else:
            assert end is not None
            finish, counted = end, calendar.elapsed(start, end)
    except NoWorkingTimeError as exc:
        raise Problem(422, "Out of range", str(exc), kind="out-of-range") from exc
    from zoneinfo import ZoneInfo

    return BusinessTimeOut(
        calendar_id=calendar_id,
        time_zone=calendar.time_zone,
        start=start,
        seconds=counted,
        end=finish,
        end_local=finish.astimezone(ZoneInfo(calendar.time_zone)),
    )
