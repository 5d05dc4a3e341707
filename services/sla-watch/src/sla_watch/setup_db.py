"""Calendars, policies and recompute jobs as data: tables and repositories.

Every admin change runs in one transaction that also bumps ``sla_config_version`` and
inserts a recompute job, so the caches of :class:`sla_watch.setup_cache.DatabaseSetup`
(keyed by that version) and the open clocks' deadlines follow the change. The version row is
bumped *first*: on PostgreSQL its row lock serializes admin changes, so two concurrent
changes cannot each pass validation and together leave a priority without a policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal

from complaint_runtime.database import Base, BigId, UTCDateTime, utcnow
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from sla_watch.domain.business_calendar import WorkingCalendar, intervals
from sla_watch.domain.policy import Policy

DayKind = Literal["holiday", "makeup_workday", "override"]
DaySource = Literal["chinese-calendar", "admin", "ics"]
JobReason = Literal["policy_changed", "calendar_changed"]
JobState = Literal["pending", "running", "done", "failed"]

_OPEN_JOB = text("state IN ('pending', 'running')")
CONFIG_ROW = 1


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


class SlaPolicy(Base):
    __tablename__ = "sla_policies"

    policy_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[str | None] = mapped_column(String(4))
    category: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    calendar_id: Mapped[str] = mapped_column(String(60), ForeignKey("sla_calendars.calendar_id"))
    first_response_s: Mapped[int] = mapped_column(Integer)
    next_response_s: Mapped[int] = mapped_column(Integer)
    resolution_s: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def policy(self) -> Policy:
        return Policy(
            policy_id=self.policy_id,
            position=self.position,
            name=self.name,
            calendar_id=self.calendar_id,
            first_response_s=self.first_response_s,
            next_response_s=self.next_response_s,
            resolution_s=self.resolution_s,
            priority=self.priority,
            category=self.category,
            tier=self.tier,
            channel=self.channel,
            enabled=self.enabled,
        )


class SlaConfigVersion(Base):
    __tablename__ = "sla_config_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecomputeJob(Base):
    __tablename__ = "sla_recompute_jobs"
    __table_args__ = (
        Index(
            "ix_sla_recompute_jobs_open",
            "id",
            postgresql_where=_OPEN_JOB,
            sqlite_where=_OPEN_JOB,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reason: Mapped[str] = mapped_column(String(20))
    # None: every open clock (a policy change); else the clocks counting in that calendar.
    calendar_id: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    # The last clock_id handled: a job resumes after it (keyset), also after a crash.
    cursor: Mapped[str | None] = mapped_column(String(36))
    clocks_seen: Mapped[int] = mapped_column(Integer, default=0)
    clocks_moved: Mapped[int] = mapped_column(Integer, default=0)
    config_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


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


class ConfigRepository:
    """The config version, the calendars and the policies."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def version(self) -> int:
        found = await self.session.scalar(
            select(SlaConfigVersion.version).where(SlaConfigVersion.id == CONFIG_ROW)
        )
        return int(found or 0)

    async def bump_version(self) -> int:
        """+1 in the caller's transaction (its row lock orders concurrent admin changes)."""
        result = await self.session.execute(
            update(SlaConfigVersion)
            .where(SlaConfigVersion.id == CONFIG_ROW)
            .values(version=SlaConfigVersion.version + 1, updated_at=utcnow())
            .returning(SlaConfigVersion.version)
        )
        found = result.scalar_one_or_none()
        if found is None:  # a database seeded without the row
            self.session.add(SlaConfigVersion(id=CONFIG_ROW, version=1, updated_at=utcnow()))
            await self.session.flush()
            return 1
        return int(found)

    # -- calendars ------------------------------------------------------------------------

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

    # -- policies -------------------------------------------------------------------------

    async def policy_rows(self) -> Sequence[SlaPolicy]:
        return (
            await self.session.scalars(
                select(SlaPolicy).order_by(SlaPolicy.position, SlaPolicy.policy_id)
            )
        ).all()

    async def policies(self) -> list[Policy]:
        return [row.policy() for row in await self.policy_rows()]

    async def policy_row(self, policy_id: str) -> SlaPolicy | None:
        return await self.session.get(SlaPolicy, policy_id)

    async def policies_using(self, calendar_id: str) -> list[str]:
        found = await self.session.scalars(
            select(SlaPolicy.policy_id).where(SlaPolicy.calendar_id == calendar_id)
        )
        return sorted(found.all())


class JobRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def enqueue(
        self, *, reason: JobReason, calendar_id: str | None, config_version: int
    ) -> RecomputeJob:
        job = RecomputeJob(
            reason=reason,
            calendar_id=calendar_id,
            state="pending",
            clocks_seen=0,
            clocks_moved=0,
            config_version=config_version,
            created_at=utcnow(),
        )
        self.session.add(job)
        await self.session.flush()
        return job

    async def get(self, job_id: int) -> RecomputeJob | None:
        return await self.session.get(RecomputeJob, job_id)

    async def recent(self, *, limit: int) -> Sequence[RecomputeJob]:
        return (
            await self.session.scalars(
                select(RecomputeJob).order_by(RecomputeJob.id.desc()).limit(limit)
            )
        ).all()

    async def next_open(self) -> RecomputeJob | None:
        """The oldest unfinished job, locked for this transaction (PostgreSQL: one replica
        works a job at a time; the others skip it)."""
        query: Any = (
            select(RecomputeJob)
            .where(RecomputeJob.state.in_(("pending", "running")))
            .order_by(RecomputeJob.id)
            .limit(1)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return (await self.session.scalars(query)).first()
