"""sla-watch's tables: one row per SLA clock, found by its next firing instant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from complaint_runtime.database import Base, OutboxMessage, ProcessedEvent, UTCDateTime
from sqlalchemy import JSON, Boolean, Index, Integer, String, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from sla_watch.domain.clock import ClockView

__all__ = ["Base", "Clock", "ClockRepository", "OutboxMessage", "ProcessedEvent"]

_RUNNING = text("state = 'running'")


class Clock(Base):
    __tablename__ = "clocks"
    __table_args__ = (
        # The firing loop's only access path: running clocks by next instant. Partial on both
        # dialects, so stopped clocks (most of them, over time) cost the index nothing.
        Index(
            "ix_clocks_next_fire_at",
            "next_fire_at",
            postgresql_where=_RUNNING,
            sqlite_where=_RUNNING,
        ),
    )

    clock_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    metric: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(4))
    policy_id: Mapped[str] = mapped_column(String(60))
    calendar_id: Mapped[str] = mapped_column(String(60))
    target_seconds: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(10))
    fired_percents: Mapped[list[int]] = mapped_column(JSON, default=list)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    next_fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(10))
    # The causal chain of the event that started the clock, so warnings fired much later by
    # the loop still trace back to the complaint's triage.
    correlation_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def view(self) -> ClockView:
        return ClockView(
            started_at=self.started_at,
            target_seconds=self.target_seconds,
            paused_seconds=self.paused_seconds,
            paused_at=self.paused_at,
            state=self.state,  # type: ignore[arg-type]
            fired_percents=frozenset(self.fired_percents),
            breached=self.breached,
            stopped_at=self.stopped_at,
        )

    def apply(self, view: ClockView) -> None:
        """Copy what the rules changed back onto the row."""
        self.paused_seconds = view.paused_seconds
        self.paused_at = view.paused_at
        self.state = view.state
        self.fired_percents = sorted(view.fired_percents)
        self.breached = view.breached
        self.stopped_at = view.stopped_at


class ClockRepository:
    def __init__(self, session: AsyncSession, *, lock: bool = False):
        self.session = session
        # On PostgreSQL a handler locks the complaint's clocks, so it never overwrites what
        # the firing loop (which skips locked rows) is changing at the same moment.
        self._lock = lock and session.get_bind().dialect.name == "postgresql"

    def add(self, clock: Clock) -> None:
        self.session.add(clock)

    async def of_complaint(self, complaint_id: str, *, limit: int = 100) -> Sequence[Clock]:
        query = (
            select(Clock)
            .where(Clock.complaint_id == complaint_id)
            .order_by(Clock.started_at, Clock.metric)
            .limit(limit)
        )
        if self._lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()

    async def open_of_complaint(
        self, complaint_id: str, *, metric: str | None = None
    ) -> Sequence[Clock]:
        query = select(Clock).where(
            Clock.complaint_id == complaint_id, Clock.state.in_(("running", "paused"))
        )
        if metric is not None:
            query = query.where(Clock.metric == metric)
        query = query.order_by(Clock.started_at)
        if self._lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()

    async def has_any(self, complaint_id: str) -> bool:
        found = await self.session.scalar(
            select(Clock.clock_id).where(Clock.complaint_id == complaint_id).limit(1)
        )
        return found is not None

    async def due(self, now: datetime, *, limit: int) -> Sequence[Clock]:
        query = (
            select(Clock)
            .where(Clock.state == "running", Clock.next_fire_at <= now)
            .order_by(Clock.next_fire_at)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            # Replicas share the work: each takes the due clocks no other one holds.
            query = query.with_for_update(skip_locked=True)
        return (await self.session.scalars(query)).all()

    async def breached_count(self, complaint_id: str) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Clock)
            .where(Clock.complaint_id == complaint_id, Clock.breached.is_(True))
        )
        return int(count or 0)

    async def running_by_metric(self) -> dict[str, int]:
        rows = await self.session.execute(
            select(Clock.metric, func.count())
            .where(Clock.state == "running")
            .group_by(Clock.metric)
        )
        return {metric: int(count) for metric, count in rows.all()}
