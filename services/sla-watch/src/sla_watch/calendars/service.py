"""The use cases of business calendars: list, read (with the days of a range), create,
change, delete; put or remove one special date (how next year's official schedule gets in
before the ``chinese-calendar`` package has it), import an iCalendar (.ics) holiday file,
and preview the business-time arithmetic.

Every change commits together with a config-version bump and a recompute job for the
clocks counting in the calendar (see :func:`sla_watch.recompute.service.queue_recompute`),
and a change that leaves the calendar unable to count time is refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from complaint_runtime.database import Database, UnitOfWork, utcnow
from complaint_runtime.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)

from sla_watch.calendars.db import (
    CalendarRepository,
    DayKind,
    SlaCalendar,
    SlaCalendarDay,
    build_calendar,
)
from sla_watch.calendars.domain.business_calendar import NoWorkingTimeError
from sla_watch.calendars.domain.holidays_ics import IcsHolidays, holidays_from_ics
from sla_watch.db import ClockRepository
from sla_watch.policies.db import PolicyRepository
from sla_watch.policies.terms_source import StoredTerms
from sla_watch.recompute.service import queue_recompute

MAX_RANGE_DAYS = 3660
ICS_TYPES = ("text/calendar", "application/octet-stream")
# The calendar fields a change may set; all but makeup_hours refuse null.
REQUIRED_FIELDS = ("name", "time_zone", "weekly")


@dataclass(frozen=True)
class CalendarSummary:
    row: SlaCalendar
    day_counts: Mapping[str, int]  # special dates on record by kind


@dataclass(frozen=True)
class CalendarDetail:
    summary: CalendarSummary
    start: date
    end: date
    days: Sequence[SlaCalendarDay]  # the special dates in start..end
    used_by_policies: list[str]


@dataclass(frozen=True)
class CalendarChange:
    calendar: CalendarSummary
    recompute_job_id: int


@dataclass(frozen=True)
class DayChange:
    day: SlaCalendarDay | None  # as stored now; None after a delete
    recompute_job_id: int


@dataclass(frozen=True)
class IcsImport:
    holidays: int
    makeup_workdays: int
    replaced: int  # dates that were on record and now come from the file
    skipped: list[str]  # events left out, and why
    recompute_job_id: int


@dataclass(frozen=True)
class BusinessTime:
    time_zone: str
    seconds: int
    end: datetime
    end_local: datetime


def _not_found(calendar_id: str) -> NotFound:
    return NotFound(f"There is no calendar {calendar_id!r}.", title="No such calendar")


async def _existing(calendars: CalendarRepository, calendar_id: str) -> SlaCalendar:
    row = await calendars.calendar(calendar_id)
    if row is None:
        raise _not_found(calendar_id)
    return row


async def _check_buildable(calendars: CalendarRepository, row: SlaCalendar) -> None:
    """Refused unless the calendar as it now stands (in this transaction) can count time."""
    await calendars.session.flush()
    try:
        build_calendar(row, await calendars.days(row.calendar_id))
    except ValueError as exc:
        raise InvalidInput(
            str(exc), title="Not a usable calendar", kind="invalid-calendar"
        ) from exc


async def _summary(calendars: CalendarRepository, row: SlaCalendar) -> CalendarSummary:
    counts = (await calendars.day_counts()).get(row.calendar_id, {})
    return CalendarSummary(row=row, day_counts=counts)


def calendar_snapshot(row: SlaCalendar) -> dict[str, Any]:
    """A calendar's settings as the audit log records them before and after a change."""
    return {
        "name": row.name,
        "time_zone": row.time_zone,
        "weekly": row.weekly,
        "makeup_hours": row.makeup_hours,
    }


def _day_snapshot(row: SlaCalendarDay) -> dict[str, Any]:
    return {"kind": row.kind, "name": row.name, "intervals": row.intervals, "source": row.source}


def _audit(
    uow: UnitOfWork, *, actor: str, action: str, object_id: str, before: Any, after: Any
) -> None:
    uow.audit(
        actor=actor,
        action=f"sla_calendar.{action}",
        object_type="sla_calendar",
        object_id=object_id,
        before=before,
        after=after,
    )


async def list_calendars(*, database: Database) -> list[CalendarSummary]:
    async with database.sessions() as session:
        calendars = CalendarRepository(session)
        counts = await calendars.day_counts()
        rows = await calendars.calendars()
    return [CalendarSummary(row=r, day_counts=counts.get(r.calendar_id, {})) for r in rows]


async def calendar_detail(
    *, database: Database, calendar_id: str, start: date | None, end: date | None
) -> CalendarDetail:
    """The calendar with its special dates in ``start``..``end`` (default: this year and
    the next), and the policies counting in it."""
    this_year = datetime.now(UTC).year
    start = start or date(this_year, 1, 1)
    end = end or date(this_year + 1, 12, 31)
    if end < start or (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"Need from <= to and at most {MAX_RANGE_DAYS} days; got {start} .. {end}.",
            title="Bad date range",
        )
    async with database.sessions() as session:
        calendars = CalendarRepository(session)
        row = await _existing(calendars, calendar_id)
        summary = await _summary(calendars, row)
        days = await calendars.days(calendar_id, start=start, end=end)
        used_by = await PolicyRepository(session).policies_using(calendar_id)
    return CalendarDetail(
        summary=summary, start=start, end=end, days=days, used_by_policies=used_by
    )


async def create_calendar(
    *,
    database: Database,
    calendar_id: str,
    name: str,
    time_zone: str,
    weekly: list[list[str]],
    makeup_hours: list[str] | None,
    actor: str,
) -> CalendarChange:
    """Conflict when the id is taken; InvalidInput when the calendar could not count time."""
    async with database.unit_of_work() as uow:
        job = await queue_recompute(uow.session, reason="calendar_changed", calendar_id=calendar_id)
        calendars = CalendarRepository(uow.session)
        if await calendars.calendar(calendar_id) is not None:
            raise Conflict(
                f"A calendar {calendar_id!r} exists already; PATCH it instead.",
                title="Calendar exists",
            )
        row = SlaCalendar(
            calendar_id=calendar_id,
            name=name,
            time_zone=time_zone,
            weekly=weekly,
            makeup_hours=makeup_hours,
            updated_at=utcnow(),
        )
        calendars.add(row)
        await _check_buildable(calendars, row)
        summary = await _summary(calendars, row)
        _audit(
            uow,
            actor=actor,
            action="created",
            object_id=calendar_id,
            before=None,
            after=calendar_snapshot(row),
        )
    return CalendarChange(calendar=summary, recompute_job_id=job.id)


async def change_calendar(
    *, database: Database, calendar_id: str, changes: Mapping[str, Any], actor: str
) -> CalendarChange:
    """Set the fields in ``changes`` (name, time zone, weekly hours, make-up hours); a null
    make-up hours means those of the first working weekday again."""
    async with database.unit_of_work() as uow:
        job = await queue_recompute(uow.session, reason="calendar_changed", calendar_id=calendar_id)
        calendars = CalendarRepository(uow.session)
        row = await _existing(calendars, calendar_id)
        before = calendar_snapshot(row)
        for name in REQUIRED_FIELDS:
            value = changes.get(name)
            if name in changes and value is None:
                raise InvalidInput(f"{name} cannot be null.")
            if value is not None:
                setattr(row, name, value)
        if "makeup_hours" in changes:
            row.makeup_hours = changes["makeup_hours"]
        row.updated_at = utcnow()
        await _check_buildable(calendars, row)
        summary = await _summary(calendars, row)
        _audit(
            uow,
            actor=actor,
            action="changed",
            object_id=calendar_id,
            before=before,
            after=calendar_snapshot(row),
        )
    return CalendarChange(calendar=summary, recompute_job_id=job.id)


async def delete_calendar(*, database: Database, calendar_id: str, actor: str) -> None:
    """Delete a calendar no policy and no open clock uses (Conflict otherwise)."""
    async with database.unit_of_work() as uow:
        policies = PolicyRepository(uow.session)
        # No recompute job: a calendar with no policy and no open clock moves no deadline.
        await policies.bump_version()
        calendars = CalendarRepository(uow.session)
        before = calendar_snapshot(await _existing(calendars, calendar_id))
        used_by = await policies.policies_using(calendar_id)
        if used_by:
            raise Conflict(
                f"Policies {', '.join(used_by)} count in {calendar_id!r}; move them to "
                "another calendar first.",
                title="Calendar in use",
                kind="calendar-in-use",
                policies=used_by,
            )
        open_clocks = await ClockRepository(uow.session).count_open_in_calendar(calendar_id)
        if open_clocks:
            raise Conflict(
                f"{open_clocks} open clock(s) still count in {calendar_id!r}; retry once the "
                "recompute jobs have moved them.",
                title="Calendar in use",
                kind="calendar-in-use",
            )
        await calendars.delete_calendar(calendar_id)
        _audit(uow, actor=actor, action="deleted", object_id=calendar_id, before=before, after=None)


async def put_day(
    *,
    database: Database,
    calendar_id: str,
    day: date,
    kind: DayKind,
    name: str,
    day_intervals: list[str] | None,
    actor: str,
) -> DayChange:
    """Mark a date as a holiday, a make-up working day, or give it its own hours."""
    async with database.unit_of_work() as uow:
        job = await queue_recompute(uow.session, reason="calendar_changed", calendar_id=calendar_id)
        calendars = CalendarRepository(uow.session)
        row = await _existing(calendars, calendar_id)
        previous = await calendars.day(calendar_id, day)
        before = None if previous is None else _day_snapshot(previous)
        stored = await calendars.put_day(
            calendar_id, day, kind=kind, name=name, source="admin", day_intervals=day_intervals
        )
        await _check_buildable(calendars, row)
        _audit(
            uow,
            actor=actor,
            action="day_set",
            object_id=f"{calendar_id}/{day.isoformat()}",
            before=before,
            after=_day_snapshot(stored),
        )
    return DayChange(day=stored, recompute_job_id=job.id)


async def delete_day(*, database: Database, calendar_id: str, day: date, actor: str) -> DayChange:
    """Make a date an ordinary day of its weekday again (NotFound when it is one already)."""
    async with database.unit_of_work() as uow:
        job = await queue_recompute(uow.session, reason="calendar_changed", calendar_id=calendar_id)
        calendars = CalendarRepository(uow.session)
        row = await _existing(calendars, calendar_id)
        stored = await calendars.day(calendar_id, day)
        if stored is None:
            raise NotFound(
                f"{day} is an ordinary day in {calendar_id!r} already.", title="No special date"
            )
        before = _day_snapshot(stored)
        await calendars.delete_day(stored)
        await _check_buildable(calendars, row)
        _audit(
            uow,
            actor=actor,
            action="day_removed",
            object_id=f"{calendar_id}/{day.isoformat()}",
            before=before,
            after=None,
        )
    return DayChange(day=None, recompute_job_id=job.id)


async def _read_limited(chunks: AsyncIterable[bytes], max_bytes: int) -> bytes:
    body = bytearray()
    async for chunk in chunks:
        body.extend(chunk)
        if len(body) > max_bytes:
            raise PayloadTooLarge(
                f"An .ics import may have at most {max_bytes} bytes.", title="File too large"
            )
    return bytes(body)


def _parse_ics(content: bytes) -> IcsHolidays:
    try:
        found = holidays_from_ics(content)
    except Exception as exc:  # icalendar raises several types for malformed input
        raise InvalidInput(
            f"The file could not be read as iCalendar: {str(exc)[:300] or type(exc).__name__}",
            title="Not a usable iCalendar file",
            kind="invalid-ics",
        ) from exc
    if not found.holidays and not found.makeup_workdays:
        raise InvalidInput(
            "The file has no event with a date (VEVENT with DTSTART).",
            title="No dates in the file",
            kind="invalid-ics",
            skipped=found.skipped,
        )
    return found


async def import_ics(
    *,
    database: Database,
    calendar_id: str,
    content_type: str,
    chunks: AsyncIterable[bytes],
    max_bytes: int,
    actor: str,
) -> IcsImport:
    """Holidays and make-up working days from an iCalendar file (read from ``chunks``, at
    most ``max_bytes``): all-day events are holidays, except those whose summary marks a
    make-up working day; dates on record are replaced."""
    if content_type not in ICS_TYPES:
        raise UnsupportedMediaType(
            "Send the .ics file as the body with Content-Type: text/calendar."
        )
    found = _parse_ics(await _read_limited(chunks, max_bytes))
    dates: list[tuple[date, DayKind, str]] = [
        *((d, "holiday", n) for d, n in found.holidays.items()),
        *((d, "makeup_workday", n) for d, n in found.makeup_workdays.items()),
    ]
    async with database.unit_of_work() as uow:
        job = await queue_recompute(uow.session, reason="calendar_changed", calendar_id=calendar_id)
        calendars = CalendarRepository(uow.session)
        row = await _existing(calendars, calendar_id)
        on_record = {d.day for d in await calendars.days(calendar_id)}
        for day, kind, name in dates:
            await calendars.put_day(calendar_id, day, kind=kind, name=name[:200], source="ics")
        await _check_buildable(calendars, row)
        _audit(
            uow,
            actor=actor,
            action="ics_imported",
            object_id=calendar_id,
            before=sorted(d.isoformat() for d in on_record),
            after={
                kind: sum(1 for _, k, _ in dates if k == kind)
                for kind in ("holiday", "makeup_workday")
            },
        )
    return IcsImport(
        holidays=len(found.holidays),
        makeup_workdays=len(found.makeup_workdays),
        replaced=sum(1 for d, _, _ in dates if d in on_record),
        skipped=found.skipped,
        recompute_job_id=job.id,
    )


async def business_time(
    *,
    database: Database,
    terms: StoredTerms,
    calendar_id: str,
    start: datetime,
    seconds: int | None = None,
    end: datetime | None = None,
) -> BusinessTime:
    """``start`` plus ``seconds`` of business time, or the business seconds from ``start``
    to ``end`` (give one of them), under the calendar as the clocks see it now (the terms
    source's cache)."""
    async with database.sessions() as session:
        try:
            calendar = await terms.calendar(session, calendar_id)
        except LookupError as exc:
            raise _not_found(calendar_id) from exc
    try:
        if seconds is not None:
            finish, counted = calendar.add(start, seconds), seconds
        elif end is not None:
            finish, counted = end, calendar.elapsed(start, end)
        else:
            raise InvalidInput("Give exactly one of seconds and end.")
    except NoWorkingTimeError as exc:
        raise InvalidInput(str(exc), title="Out of range", kind="out-of-range") from exc
    return BusinessTime(
        time_zone=calendar.time_zone,
        seconds=counted,
        end=finish,
        end_local=finish.astimezone(ZoneInfo(calendar.time_zone)),
    )
