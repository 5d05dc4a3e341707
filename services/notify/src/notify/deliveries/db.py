"""Notify's tables: one row per notification (the delivery log) plus the runtime's tables.

A row is created by the consumer (``pending``), claimed by the delivery loop (``preparing``,
then ``sending`` committed right before the send) and finished as ``sent``, ``logged``,
``failed``, ``skipped`` or ``uncertain``; a retryable failure puts it back to ``pending``
with a later ``next_attempt_at`` (see ``domain/delivery_log.py``). Raw addresses are never
stored: only the masked form and a keyed hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from complaint_runtime.database import (
    Base,
    OutboxMessage,
    ProcessedEvent,
    UTCDateTime,
    dialect_insert,
    utcnow,
)
from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from notify.deliveries.domain.delivery_log import MAX_LIST, STATUSES

# Alembic's env.py reads the metadata from here: the deliveries plus the runtime's tables.
__all__ = ["Base", "Delivery", "DeliveryRepository", "OutboxMessage", "ProcessedEvent"]


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        # The guard behind "never the same message twice for the same event": a redelivered
        # or re-sent event cannot add a second row for the same template and recipient
        # (role, and the member's slot when a group is told one by one).
        UniqueConstraint(
            "event_id",
            "template",
            "recipient_role",
            "recipient_slot",
            name="uq_deliveries_message",
        ),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    delivery_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(40))
    recipient_role: Mapped[str] = mapped_column(String(20))
    recipient_user: Mapped[str | None] = mapped_column(String(200))
    # '' for a single recipient; the member's user id for each message to a group. Fixed
    # when planned (recipient_user of a team lead or manager is filled in only at sending).
    recipient_slot: Mapped[str] = mapped_column(String(200), default="", server_default="")
    recipient_masked: Mapped[str | None] = mapped_column(String(320))
    recipient_key: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryRepository:
    """The delivery log's reads and writes; every change after the claim is conditional on
    the claimer still holding the row."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def add_if_new(self, values: dict[str, Any]) -> bool:
        """Insert one planned delivery; False when the same message is already recorded."""
        insert = dialect_insert(self.session)
        statement = (
            insert(Delivery)
            .values(**values)
            .on_conflict_do_nothing(
                index_elements=["event_id", "template", "recipient_role", "recipient_slot"]
            )
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def claim_due(self, *, now: datetime, limit: int, claimer: str) -> list[Delivery]:
        """Mark up to ``limit`` due pending rows ``preparing`` for ``claimer`` (nothing sent
        yet: safe to hand back after a crash). SKIP LOCKED lets replicas claim disjoint rows
        (SQLite serialises writers with BEGIN IMMEDIATE instead; its compiler drops the
        clause)."""
        query = (
            select(Delivery)
            .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = list(await self.session.scalars(query))
        for row in rows:
            row.status = "preparing"
            row.attempts += 1
            row.claimed_by = claimer
            row.claimed_at = now
            row.updated_at = now
        return rows

    async def start_transmitting(self, *, delivery_id: str, claimer: str, now: datetime) -> bool:
        """``preparing`` → ``sending``, committed right before the SMTP session: from here
        on the outcome can be unknown after a crash."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.delivery_id == delivery_id,
                Delivery.status == "preparing",
                Delivery.claimed_by == claimer,
            )
            .values(status="sending", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def finish(
        self, *, delivery_id: str, claimer: str, now: datetime, values: dict[str, Any]
    ) -> Delivery | None:
        """Leave ``sending`` if this claimer still holds the row; None when it does not
        (another process declared it uncertain meanwhile)."""
        statement = (
            update(Delivery)
            .where(
                Delivery.delivery_id == delivery_id,
                Delivery.status.in_(("preparing", "sending")),
                Delivery.claimed_by == claimer,
            )
            .values(**values, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        if not result.rowcount:  # type: ignore[attr-defined]
            return None
        return await self.session.get(Delivery, delivery_id, populate_existing=True)

    async def abandoned_sending(
        self, *, not_claimer: str, claimed_before: datetime, limit: int
    ) -> list[Delivery]:
        """Rows another process claimed and has not finished within the lease; SKIP LOCKED:
        two replicas recovering at once never both take the same row."""
        query = (
            select(Delivery)
            .where(
                Delivery.status.in_(("preparing", "sending")),
                Delivery.claimed_at <= claimed_before,
                (Delivery.claimed_by != not_claimer) | Delivery.claimed_by.is_(None),
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(query))

    async def pending_of_complaint(self, complaint_id: str) -> list[Delivery]:
        query = select(Delivery).where(
            Delivery.complaint_id == complaint_id, Delivery.status == "pending"
        )
        return list(await self.session.scalars(query))

    async def of_complaint(self, complaint_id: str, *, limit: int = MAX_LIST) -> list[Delivery]:
        query = (
            select(Delivery)
            .where(Delivery.complaint_id == complaint_id)
            .order_by(Delivery.created_at, Delivery.delivery_id)
            .limit(min(limit, MAX_LIST))
        )
        return list(await self.session.scalars(query))

    async def count_by_status(self) -> dict[str, int]:
        query = select(Delivery.status, func.count()).group_by(Delivery.status)
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for status, count in await self.session.execute(query):
            counts[status] = count
        return counts
