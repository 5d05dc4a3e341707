"""Routing's shared tables: one case per complaint with the triage decision that explains
it, the case's action history, and the agents cases are assigned to. Triage, the case
lifecycle, the assignment engine, duplicates and staffing all read and write them.

Each capability's own tables are in its package's ``db.py`` (``routing.assignment.db``,
``routing.categories.db``, ``routing.duplicates.db``, ``routing.triage.db``), on the same
metadata."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from complaint_runtime.database import (
    Base,
    BigId,
    OutboxMessage,
    ProcessedEvent,
    UTCDateTime,
    utcnow,
)
from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

__all__ = [
    "Agent",
    "Base",
    "Case",
    "CaseAction",
    "CaseRepository",
    "OutboxMessage",
    "ProcessedEvent",
]


class Case(Base):
    __tablename__ = "cases"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    customer_ref: Mapped[str] = mapped_column(String(40), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(40))
    subcategory: Mapped[str | None] = mapped_column(String(60))
    confidence: Mapped[float] = mapped_column(Float)
    priority: Mapped[str] = mapped_column(String(4))
    emotion: Mapped[str] = mapped_column(String(8))
    rules_fired: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    team: Mapped[str | None] = mapped_column(String(60))
    assignee: Mapped[str | None] = mapped_column(String(100), index=True)
    owner: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    solution_summary: Mapped[str | None] = mapped_column(Text)
    solution_type: Mapped[str | None] = mapped_column(String(20))
    root_cause: Mapped[str | None] = mapped_column(Text)
    preventive_measure: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(String(20))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set while the case waits in its team's queue (no assignee), cleared when taken.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 0 agent, 1 team lead, 2 manager, 3 senior escalation group (§3); sla-watch decides it.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The case's SLA clocks summed up for the case lists (routing.casefile keeps the clocks
    # and these columns in the transaction of each clock event): the earliest due time of
    # a running clock (the default sort key, NULL: none running), the two list filters and
    # the state a queue shows.
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_at_risk: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sla_state: Mapped[str | None] = mapped_column(String(12))
    # The time of the case's latest history entry (every change and every message).
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Stale-form protection: one more with every change to the case (routing.cases.transitions
    # ``changed``), in the transaction of the change; a command naming an older version in
    # ``If-Match`` is refused (409 ``stale-case``). Bookkeeping (SLA summary, latest activity,
    # history-only entries such as notes and tasks) leaves it alone.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __table_args__ = (
        # The case lists: sorted by time to breach, then received time and id (keyset).
        Index("ix_cases_sla_order", "sla_due_at", "received_at", "complaint_id"),
        Index("ix_cases_team_sla_order", "team", "sla_due_at", "received_at", "complaint_id"),
    )


class CaseAction(Base):
    """One entry of a case's history: who did what, when, and which event recorded it."""

    __tablename__ = "case_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("cases.complaint_id"), index=True
    )
    # For the order of a flush only (never loaded: the column above is set directly): a new
    # case's INSERT goes before its history's, so both can wait for one flush.
    case: Mapped[Case] = relationship(lazy="raise")
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(60))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    event_id: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The case's version once this entry was written (NULL: written before versions).
    case_version: Mapped[int | None] = mapped_column(Integer)


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    team: Mapped[str] = mapped_column(String(60), index=True)
    level: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The assignment engine's columns (routing.assignment.db keeps them): skills (empty:
    # all), availability, and the open-case counter kept in the transaction of each change.
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability: Mapped[str] = mapped_column(String(8), default="online", server_default="online")
    open_load: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How the agent's answers are signed to the customer (routing.staffing.domain.signature);
    # None: the team's name or a neutral label, never the user id.
    display_name: Mapped[str | None] = mapped_column(String(100))


# The cases a transaction locked for a batch, in ``Session.info`` (held strongly there),
# and the ids its preload found no case of.
_HELD_CASES = "routing.held_cases"
_ABSENT_CASES = "routing.absent_cases"


class CaseRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, complaint_id: str) -> Case | None:
        """The case; from memory when this transaction's batch preload locked it or knows
        there is none (:meth:`lock_for_batch`)."""
        held: dict[str, Case] = self.session.info.get(_HELD_CASES, {})
        if complaint_id in held:
            return held[complaint_id]
        if complaint_id in self.session.info.get(_ABSENT_CASES, ()):
            return None
        return await self.session.get(Case, complaint_id)

    async def get_for_update(self, complaint_id: str) -> Case | None:
        """The case, row-locked on PostgreSQL so that concurrent transitions serialise
        (SQLite serialises writers with BEGIN IMMEDIATE already); from memory when
        :meth:`lock_for_batch` locked it already."""
        held: dict[str, Case] = self.session.info.get(_HELD_CASES, {})
        if complaint_id in held:
            return held[complaint_id]
        return await self.session.get(Case, complaint_id, with_for_update=True)

    async def lock_for_batch(self, complaint_ids: Iterable[str]) -> None:
        """Lock these cases in one statement for the rest of the transaction (a consumer's
        batch); :meth:`get` and :meth:`get_for_update` then answer them without a round
        trip each, also for the ids that have no case (until :meth:`add` adds it). A
        complaint's events share its partition, so no other consumer creates its case
        meanwhile."""
        ids = set(complaint_ids)
        locked = await self.get_many_for_update(ids)
        self.session.info.setdefault(_HELD_CASES, {}).update(locked)
        self.session.info.setdefault(_ABSENT_CASES, set()).update(ids - locked.keys())

    async def get_many_for_update(self, complaint_ids: Iterable[str]) -> dict[str, Case]:
        """The cases found among ``complaint_ids``, row-locked in one statement in
        ``complaint_id`` order: two transactions locking the same rows this way lock them in
        the same order, so they never wait on each other (a deadlock)."""
        ids = sorted(set(complaint_ids))
        if not ids:
            return {}
        rows = await self.session.scalars(
            select(Case)
            .where(Case.complaint_id.in_(ids))
            .order_by(Case.complaint_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {case.complaint_id: case for case in rows}

    def add(self, case: Case) -> None:
        """A new case (pending until the next flush, which later reads of it cause)."""
        self.session.add(case)
        self.session.info.get(_ABSENT_CASES, set()).discard(case.complaint_id)

    def add_action(self, action: CaseAction) -> None:
        self.session.add(action)

    async def actions_after(
        self, complaint_id: str, version: int, *, limit: int
    ) -> list[CaseAction]:
        """The history entries written since the case left ``version``, oldest first."""
        rows = await self.session.scalars(
            select(CaseAction)
            .where(CaseAction.complaint_id == complaint_id, CaseAction.case_version > version)
            .order_by(CaseAction.id)
            .limit(limit)
        )
        return list(rows)

    async def actions(self, complaint_id: str, *, limit: int = 1000) -> list[CaseAction]:
        rows = await self.session.scalars(
            select(CaseAction)
            .where(CaseAction.complaint_id == complaint_id)
            .order_by(CaseAction.id)
            .limit(limit)
        )
        return list(rows)
