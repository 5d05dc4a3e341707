"""sla-watch's tables: one row per SLA clock, found by its next firing instant (the loop)
or its deadline (the at-risk view), and one row per complaint with what its clocks match
on, its escalation level and its latest agent reply."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from complaint_runtime.database import Base, OutboxMessage, ProcessedEvent, UTCDateTime
from sqlalchemy import (
    JSON,
    Boolean,
    Index,
    Integer,
    Select,
    String,
    false,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from sla_watch.domain.clock import ClockView, Pause

__all__ = [
    "Base",
    "Clock",
    "ClockRepository",
    "ComplaintSla",
    "ComplaintSlaRepository",
    "OutboxMessage",
    "ProcessedEvent",
]

_RUNNING = text("state = 'running'")
# Clocks that can still breach: the at-risk view's indexes cover only these, so the
# query's WHERE (the same two conditions) lets PostgreSQL and SQLite use them.
_AT_RISK = text("state = 'running' AND breached = false")
TEAM_LENGTH = 200


def pauses_to_json(pauses: Sequence[Pause]) -> list[list[str | None]]:
    return [[start.isoformat(), end.isoformat() if end else None] for start, end in pauses]


def pauses_from_json(value: Any) -> tuple[Pause, ...]:
    return tuple(
        (datetime.fromisoformat(start), datetime.fromisoformat(end) if end else None)
        for start, end in value or ()
    )


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
        # The supervisor view: running, not yet breached, by deadline; all, one team or one
        # priority (several teams or priorities combine in the query, not in more indexes).
        Index("ix_clocks_at_risk", "due_at", postgresql_where=_AT_RISK, sqlite_where=_AT_RISK),
        Index(
            "ix_clocks_at_risk_team",
            "team",
            "due_at",
            postgresql_where=_AT_RISK,
            sqlite_where=_AT_RISK,
        ),
        Index(
            "ix_clocks_at_risk_priority",
            "priority",
            "due_at",
            postgresql_where=_AT_RISK,
            sqlite_where=_AT_RISK,
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
    # What the policy matched on (besides priority) and who works the complaint.
    category: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(TEAM_LENGTH))
    # next_response clocks: the customer message the clock answers.
    message_id: Mapped[str | None] = mapped_column(String)
    # The pause history, [[paused_at, resumed_at or null], ...] as ISO 8601: paused_seconds
    # is recounted from it when the calendar changes.
    pauses: Mapped[list[list[str | None]]] = mapped_column(JSON, default=list)
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
            pauses=pauses_from_json(self.pauses),
        )

    def apply(self, view: ClockView) -> None:
        """Copy what the rules changed back onto the row."""
        self.paused_seconds = view.paused_seconds
        self.paused_at = view.paused_at
        self.state = view.state
        self.fired_percents = sorted(view.fired_percents)
        self.breached = view.breached
        self.stopped_at = view.stopped_at
        self.pauses = pauses_to_json(view.pauses)


class ComplaintSla(Base):
    """Per complaint: the facts its clocks match policies on (from triage, assignment and
    recategorization), its escalation level, and the latest agent reply seen (a customer
    message older than that was already answered: it starts no next-response clock)."""

    __tablename__ = "complaint_sla"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    priority: Mapped[str] = mapped_column(String(4))
    category: Mapped[str | None] = mapped_column(String(40))
    tier: Mapped[str | None] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(TEAM_LENGTH))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    last_agent_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplaintSlaRepository:
    def __init__(self, session: AsyncSession, *, lock: bool = False):
        self.session = session
        # Locked on PostgreSQL: the firing loop (escalation level) and the consumers (facts,
        # replies) change the same row.
        self._lock = lock and session.get_bind().dialect.name == "postgresql"

    async def get(self, complaint_id: str) -> ComplaintSla | None:
        query = select(ComplaintSla).where(ComplaintSla.complaint_id == complaint_id)
        if self._lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    def add(self, row: ComplaintSla) -> None:
        self.session.add(row)


def at_risk_query(
    *,
    limit: int,
    teams: Sequence[str] | None = None,
    priorities: Sequence[str] | None = None,
    metric: str | None = None,
) -> Select[Clock]:
    """Running clocks not breached yet, soonest deadline first. Its WHERE repeats the
    partial indexes' predicate, so they serve it: by due_at, or by team / priority and
    due_at, reading no more index entries than ``limit`` (plus those a filter skips)."""
    query = select(Clock).where(Clock.state == "running", Clock.breached == false())
    if teams is not None:
        query = query.where(Clock.team.in_(teams))
    if priorities is not None:
        query = query.where(Clock.priority.in_(priorities))
    if metric is not None:
        query = query.where(Clock.metric == metric)
    return query.order_by(Clock.due_at).limit(limit)


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

    async def set_team(self, complaint_id: str, team: str) -> None:
        await self.session.execute(
            update(Clock).where(Clock.complaint_id == complaint_id).values(team=team)
        )

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

    async def at_risk(
        self,
        *,
        limit: int,
        teams: Sequence[str] | None = None,
        priorities: Sequence[str] | None = None,
        metric: str | None = None,
    ) -> Sequence[Clock]:
        query = at_risk_query(limit=limit, teams=teams, priorities=priorities, metric=metric)
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
