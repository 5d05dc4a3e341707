"""Notify's tables: one row per notification (the delivery log) plus the runtime's tables.

A row is created by the consumer (``pending``), claimed by the delivery loop (``preparing``,
then ``sending`` committed right before the send) and finished as ``sent``, ``logged``,
``failed``, ``skipped`` or ``uncertain``; a retryable failure puts it back to ``pending``
with a later ``next_attempt_at`` (see ``domain/delivery_log.py``). Raw addresses are never
stored: only the masked form and a keyed hash.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from complaint_runtime.database import (
    Base,
    OutboxMessage,
    ProcessedEvent,
    UTCDateTime,
    dialect_insert,
    utcnow,
)
from sqlalchemy import (
    JSON,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from notify.deliveries.domain.delivery_log import MAX_LIST, STATUSES

# Alembic's env.py reads the metadata from here: the deliveries plus the runtime's tables.
__all__ = ["Base", "Delivery", "DeliveryRepository", "OutboxMessage", "ProcessedEvent"]

# The columns of uq_deliveries_message: one message per event, template and recipient.
MESSAGE_KEY = ("event_id", "template", "recipient_role", "recipient_slot")


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        # The guard behind "never the same message twice for the same event": a redelivered
        # or re-sent event cannot add a second row for the same template and recipient
        # (role, and the member's slot when a group is told one by one).
        UniqueConstraint(*MESSAGE_KEY, name="uq_deliveries_message"),
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
    # The start of the retry window (the first attempt); a retryable failure after
    # NOTIFY_RETRY_WINDOW_S from it is final.
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Channels that refused this message for good: the next one of the fallback order is
    # tried (one notice per event and recipient across channels).
    failed_channels: Mapped[list[str] | None] = mapped_column(JSON)
    # An SMS provider's id for the send, and the delivery receipt it later reported.
    provider_message_id: Mapped[str | None] = mapped_column(String(100), index=True)
    receipt_status: Mapped[str | None] = mapped_column(String(16))
    receipt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receipt_error: Mapped[str | None] = mapped_column(String(200))


_DELIVERIES = cast(Table, Delivery.__table__)

# Where a transaction keeps the deliveries it planned and has not written yet, in
# ``Session.info`` (see ``service.stage_deliveries``).
_STAGED = "notify.staged_deliveries"


@dataclass(eq=False)
class StagedDeliveries:
    """Deliveries planned in one transaction and not written yet: plain dicts of
    :class:`Delivery`'s columns, in the order planned, written in one statement before the
    transaction commits; ``on_new``: what to call after the commit for each of them that
    was new (by delivery id)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    on_new: dict[str, Callable[[], None]] = field(default_factory=dict)
    _by_complaint: dict[str, list[dict[str, Any]]] = field(default_factory=dict, init=False)

    def add(self, rows: Sequence[dict[str, Any]], *, on_new: Callable[[], None] | None) -> None:
        for row in rows:
            self.rows.append(row)
            self._by_complaint.setdefault(row["complaint_id"], []).append(row)
            if on_new is not None:
                self.on_new[row["delivery_id"]] = on_new

    def of_complaint(self, complaint_id: str) -> list[dict[str, Any]]:
        """The complaint's staged rows themselves (a change to one is what gets written)."""
        return self._by_complaint.get(complaint_id, [])

    def clear(self) -> None:
        self.rows, self.on_new, self._by_complaint = [], {}, {}


def staged_deliveries(session: Session | AsyncSession) -> StagedDeliveries | None:
    """The session's staged deliveries; None while nothing was staged in it."""
    staged: StagedDeliveries | None = session.info.get(_STAGED)
    return staged


def start_staging(session: Session | AsyncSession) -> StagedDeliveries:
    """Begin staging deliveries in this session (the caller writes them before commit)."""
    staged = StagedDeliveries()
    session.info[_STAGED] = staged
    return staged


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> set[str]:
    """Insert planned deliveries (dicts of the same columns) in one statement (SQLAlchemy
    pages a very long list), skipping every message already recorded (ON CONFLICT DO
    NOTHING, on PostgreSQL and SQLite alike); returns the ids of the rows it inserted.

    Synchronous, on the ORM session itself, so that it can run from SQLAlchemy's
    ``before_commit`` hook (see ``service.stage_deliveries``); an async caller runs it
    through ``AsyncSession.run_sync``."""
    if not rows:
        return set()
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(_DELIVERIES)
        .on_conflict_do_nothing(index_elements=list(MESSAGE_KEY))
        .returning(_DELIVERIES.c.delivery_id)
    )
    return set(session.execute(statement, list(rows)).scalars())


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
            .on_conflict_do_nothing(index_elements=list(MESSAGE_KEY))
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

    async def start_transmitting(
        self,
        *,
        delivery_id: str,
        claimer: str,
        now: datetime,
        resolved: dict[str, Any] | None = None,
    ) -> bool:
        """``preparing`` → ``sending``, committed right before the send: from here on the
        outcome can be unknown after a crash. ``resolved``: the channel and masked
        recipient preparing chose, kept with it so an uncertain row says where it went."""
        result = await self.session.execute(
            update(Delivery)
            .where(
                Delivery.delivery_id == delivery_id,
                Delivery.status == "preparing",
                Delivery.claimed_by == claimer,
            )
            .values(
                **(resolved or {}),
                status="sending",
                updated_at=now,
                # The retry window starts with the first send (waiting for intake or
                # feedback before it does not use the window up).
                first_attempt_at=func.coalesce(Delivery.first_attempt_at, now),
            )
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

    async def all_of_complaint_locked(self, complaint_id: str) -> list[Delivery]:
        """Every delivery of the complaint (no listing bound), row-locked: a delivery loop
        finishing one of them commits first and the caller sees its outcome."""
        query = (
            select(Delivery)
            .where(Delivery.complaint_id == complaint_id)
            .order_by(Delivery.created_at, Delivery.delivery_id)
            .with_for_update()
        )
        return list(await self.session.scalars(query))

    async def pending_of_complaints(
        self, complaint_ids: Collection[str], *, template: str
    ) -> list[Delivery]:
        """The pending deliveries of one template for these complaints, in one query."""
        if not complaint_ids:
            return []
        query = select(Delivery).where(
            Delivery.complaint_id.in_(complaint_ids),
            Delivery.status == "pending",
            Delivery.template == template,
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

    async def with_status(
        self, status: str, *, limit: int, before: datetime | None = None
    ) -> list[Delivery]:
        """Deliveries in one status, most recently updated first (``before``: older than)."""
        query = select(Delivery).where(Delivery.status == status)
        if before is not None:
            query = query.where(Delivery.updated_at < before)
        query = query.order_by(Delivery.updated_at.desc(), Delivery.delivery_id).limit(
            min(limit, MAX_LIST)
        )
        return list(await self.session.scalars(query))

    async def get_locked(self, delivery_id: str) -> Delivery | None:
        query = select(Delivery).where(Delivery.delivery_id == delivery_id).with_for_update()
        return (await self.session.scalars(query)).first()

    async def count_by_status(self) -> dict[str, int]:
        query = select(Delivery.status, func.count()).group_by(Delivery.status)
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for status, count in await self.session.execute(query):
            counts[status] = count
        return counts
