"""Business calendars as data: a row per calendar (time zone, weekly hours, make-up hours)
and a row per special date (holiday, make-up working day, override), with their repository.

A :class:`~sla_watch.calendars.domain.business_calendar.WorkingCalendar` is built from a
calendar row and its days (:func:`build_calendar`); the clocks' terms source caches the
built calendars per configuration version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Literal

from complaint_runtime.database import Base, UTCDateTime, utcnow
from sqlalchemy import JSON, Date, ForeignKey, String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from sla_watch.calendars.domain.business_calendar import WorkingCalendar, intervals

DayKind = Literal["holiday", "makeup_workday", "override"]
DaySource = Literal["chinese-calendar", "admin", "ics"]


class SlaCalendar(Base):
    __tablename__ = "sla_calendars"

    calendar_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))
    # Seven lists of "HH:MM-HH:MM", Monday first.
    weekly: Mapped[list[list[str]]] = mapped_column(JSON)
    # Hours of a make-up working day; None = those of the first weekday that has any.
    makeup_hours: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaCalendarDay(Base):
    __tablename__ = "sla_calendar_days"

    calendar_id: Mapped[str] = mapped_column(
        String(60), ForeignKey("sla_calendars.calendar_id"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Only for kind 'override': that date's working intervals ([] closes it).
    intervals: Mapped[list[str] | None] = mapped_column(JSON)
    name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(20))


def build_calendar(row: SlaCalendar, days: Sequence[SlaCalendarDay]) -> WorkingCalendar:
    """The :class:`WorkingCalendar` a calendar row and its days describe (raises
    ``ValueError`` for data that makes no calendar, e.g. no working time at all)."""
    holidays = [d.day for d in days if d.kind == "holiday"]
    makeup = [d.day for d in days if d.kind == "makeup_workday"]
    overrides = tuple(
        (d.day, intervals(*(d.intervals or ()))) for d in days if d.kind == "override"
    )
    return WorkingCalendar(
        calendar_id=row.calendar_id,
        weekly=tuple(intervals(*day) for day in row.weekly),
        time_zone=row.time_zone,
        holidays=frozenset(holidays),
        makeup_workdays=frozenset(makeup),
        makeup_intervals=None if row.makeup_hours is None else intervals(*row.makeup_hours),
        overrides=overrides,
    )


class CalendarRepository:
    """The calendars and their special dates."""

    def __init__(self, session: AsyncSession):
        self.session = session

    def add(self, row: SlaCalendar) -> None:
        self.session.add(row)

    async def calendars(self) -> Sequence[SlaCalendar]:
        return (
            await self.session.scalars(select(SlaCalendar).order_by(SlaCalendar.calendar_id))
        ).all()

    async def calendar(self, calendar_id: str) -> SlaCalendar | None:
        return await self.session.get(SlaCalendar, calendar_id)

    async def calendar_ids(self) -> set[str]:
        return set((await self.session.scalars(select(SlaCalendar.calendar_id))).all())

    async def days(
        self, calendar_id: str, *, start: date | None = None, end: date | None = None
    ) -> Sequence[SlaCalendarDay]:
        query = select(SlaCalendarDay).where(SlaCalendarDay.calendar_id == calendar_id)
        if start is not None:
            query = query.where(SlaCalendarDay.day >= start)
        if end is not None:
            query = query.where(SlaCalendarDay.day <= end)
        return (await self.session.scalars(query.order_by(SlaCalendarDay.day))).all()

    async def day_counts(self) -> dict[str, dict[str, int]]:
        """Special dates on record per calendar and kind."""
        rows = await self.session.execute(
            select(SlaCalendarDay.calendar_id, SlaCalendarDay.kind, func.count()).group_by(
                SlaCalendarDay.calendar_id, SlaCalendarDay.kind
            )
        )
        counts: dict[str, dict[str, int]] = {}
        for calendar_id, kind, count in rows.all():
            counts.setdefault(calendar_id, {})[kind] = int(count)
        return counts

    async def day(self, calendar_id: str, day: date) -> SlaCalendarDay | None:
        return await self.session.get(SlaCalendarDay, (calendar_id, day))

    async def put_day(
        self,
        calendar_id: str,
        day: date,
        *,
        kind: DayKind,
        name: str,
        source: DaySource,
        day_intervals: list[str] | None = None,
    ) -> SlaCalendarDay:
        row = await self.day(calendar_id, day)
        if row is None:
            row = SlaCalendarDay(calendar_id=calendar_id, day=day)
            self.session.add(row)
        row.kind = kind
        row.name = name
        row.source = source
        row.intervals = day_intervals if kind == "override" else None
        return row

    async def delete_day(self, row: SlaCalendarDay) -> None:
        await self.session.delete(row)

    async def delete_calendar(self, calendar_id: str) -> None:
        await self.session.execute(
            delete(SlaCalendarDay).where(SlaCalendarDay.calendar_id == calendar_id)
        )
        await self.session.execute(
            delete(SlaCalendar).where(SlaCalendar.calendar_id == calendar_id)
        )

    async def load_calendar(self, calendar_id: str) -> WorkingCalendar | None:
        row = await self.calendar(calendar_id)
        if row is None:
            return None
        return build_calendar(row, await self.days(calendar_id))
