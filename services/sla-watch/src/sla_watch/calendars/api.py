"""Admin API of business calendars: list, read (with the days of a range), create, change,
delete; put or remove a special date, import an iCalendar (.ics) holiday file, and preview
the business-time arithmetic (the rules are in :mod:`sla_watch.calendars.service`).

Every change answers with the id of the job recomputing the clocks counting in the calendar.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from complaint_runtime.errors import InvalidInput
from fastapi import APIRouter, Path, Query, Request

from sla_watch.bootstrap import AdminReader, AdminWriter, DependenciesDep
from sla_watch.calendars import service
from sla_watch.calendars.schemas import (
    BusinessTimeOut,
    CalendarChangeOut,
    CalendarDetailOut,
    CalendarId,
    CalendarIn,
    CalendarPatch,
    CalendarsOut,
    DayChangeOut,
    DayIn,
    IcsImportOut,
    calendar_out,
    day_out,
)
from sla_watch.policies.domain.policy import MAX_TARGET_S

router = APIRouter(prefix="/v1/admin/calendars", tags=["admin: calendars"])


@router.get("", response_model=CalendarsOut, summary="The business calendars")
async def list_calendars(deps: DependenciesDep, _principal: AdminReader) -> CalendarsOut:
    found = await service.list_calendars(database=deps.database)
    return CalendarsOut(calendars=[calendar_out(summary) for summary in found])


@router.get(
    "/{calendar_id}",
    response_model=CalendarDetailOut,
    summary="A calendar with its special dates in a range (default: this year and the next)",
    responses={404: {"description": "No such calendar"}},
)
async def get_calendar(
    calendar_id: CalendarId,
    deps: DependenciesDep,
    _principal: AdminReader,
    range_from: Annotated[date | None, Query(alias="from")] = None,
    range_to: Annotated[date | None, Query(alias="to")] = None,
) -> CalendarDetailOut:
    found = await service.calendar_detail(
        database=deps.database, calendar_id=calendar_id, start=range_from, end=range_to
    )
    return CalendarDetailOut(
        **calendar_out(found.summary).model_dump(),
        range_from=found.start,
        range_to=found.end,
        days=[day_out(d) for d in found.days],
        used_by_policies=found.used_by_policies,
    )


@router.post(
    "",
    response_model=CalendarChangeOut,
    status_code=201,
    summary="Create a calendar",
    responses={409: {"description": "The id is taken"}, 422: {"description": "Invalid"}},
)
async def create_calendar(
    body: CalendarIn, deps: DependenciesDep, principal: AdminWriter
) -> CalendarChangeOut:
    change = await service.create_calendar(
        database=deps.database,
        calendar_id=body.calendar_id,
        name=body.name,
        time_zone=body.time_zone,
        weekly=body.weekly,
        makeup_hours=body.makeup_hours,
        actor=principal.subject,
    )
    return CalendarChangeOut(
        calendar=calendar_out(change.calendar), recompute_job_id=change.recompute_job_id
    )


@router.patch(
    "/{calendar_id}",
    response_model=CalendarChangeOut,
    summary="Change a calendar's name, time zone or hours",
    responses={404: {"description": "No such calendar"}, 422: {"description": "Invalid"}},
)
async def patch_calendar(
    calendar_id: CalendarId, body: CalendarPatch, deps: DependenciesDep, principal: AdminWriter
) -> CalendarChangeOut:
    change = await service.change_calendar(
        database=deps.database,
        calendar_id=calendar_id,
        changes={name: getattr(body, name) for name in body.model_fields_set},
        actor=principal.subject,
    )
    return CalendarChangeOut(
        calendar=calendar_out(change.calendar), recompute_job_id=change.recompute_job_id
    )


@router.delete(
    "/{calendar_id}",
    status_code=204,
    summary="Delete a calendar no policy and no open clock uses",
    responses={404: {"description": "No such calendar"}, 409: {"description": "In use"}},
)
async def delete_calendar(
    calendar_id: CalendarId, deps: DependenciesDep, principal: AdminWriter
) -> None:
    await service.delete_calendar(
        database=deps.database, calendar_id=calendar_id, actor=principal.subject
    )


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
    deps: DependenciesDep,
    principal: AdminWriter,
) -> DayChangeOut:
    if (body.kind == "override") != (body.intervals is not None):
        raise InvalidInput(
            "intervals are required for kind override (use [] to close the date) and "
            "not allowed for holiday or makeup_workday.",
            errors=[{"in": "body", "field": "intervals", "pointer": "/intervals"}],
        )
    change = await service.put_day(
        database=deps.database,
        calendar_id=calendar_id,
        day=day,
        kind=body.kind,
        name=body.name,
        day_intervals=body.intervals,
        actor=principal.subject,
    )
    stored = None if change.day is None else day_out(change.day)
    return DayChangeOut(
        calendar_id=calendar_id, day=stored, recompute_job_id=change.recompute_job_id
    )


@router.delete(
    "/{calendar_id}/days/{day}",
    response_model=DayChangeOut,
    summary="Make a date an ordinary day of its weekday again",
    responses={404: {"description": "No such calendar or no special date"}},
)
async def delete_day(
    calendar_id: CalendarId,
    day: Annotated[date, Path()],
    deps: DependenciesDep,
    principal: AdminWriter,
) -> DayChangeOut:
    change = await service.delete_day(
        database=deps.database, calendar_id=calendar_id, day=day, actor=principal.subject
    )
    return DayChangeOut(calendar_id=calendar_id, day=None, recompute_job_id=change.recompute_job_id)


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
    calendar_id: CalendarId, request: Request, deps: DependenciesDep, principal: AdminWriter
) -> IcsImportOut:
    imported = await service.import_ics(
        database=deps.database,
        calendar_id=calendar_id,
        content_type=request.headers.get("content-type", "").split(";")[0].strip().lower(),
        chunks=request.stream(),
        max_bytes=deps.settings.sla_ics_max_bytes,
        actor=principal.subject,
    )
    return IcsImportOut(
        calendar_id=calendar_id,
        holidays=imported.holidays,
        makeup_workdays=imported.makeup_workdays,
        replaced=imported.replaced,
        skipped=imported.skipped,
        recompute_job_id=imported.recompute_job_id,
    )


@router.get(
    "/{calendar_id}/business-time",
    response_model=BusinessTimeOut,
    summary="Preview: start + N business seconds, or the business seconds from start to end",
    responses={404: {"description": "No such calendar"}, 422: {"description": "Invalid"}},
)
async def business_time(
    calendar_id: CalendarId,
    deps: DependenciesDep,
    _principal: AdminReader,
    start: Annotated[datetime, Query(description="ISO 8601 with an offset")],
    seconds: Annotated[int | None, Query(ge=0, le=MAX_TARGET_S)] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601 with an offset")] = None,
) -> BusinessTimeOut:
    if (seconds is None) == (end is None):
        raise InvalidInput("Give exactly one of seconds and end.")
    for label, moment in (("start", start), ("end", end)):
        if moment is not None and moment.utcoffset() is None:
            raise InvalidInput(f"{label} needs a UTC offset, e.g. 2026-10-01T09:00:00+08:00.")
    counted = await service.business_time(
        database=deps.database,
        terms=deps.terms,
        calendar_id=calendar_id,
        start=start,
        seconds=seconds,
        end=end,
    )
    return BusinessTimeOut(
        calendar_id=calendar_id,
        time_zone=counted.time_zone,
        start=start,
        seconds=counted.seconds,
        end=counted.end,
        end_local=counted.end_local,
    )
