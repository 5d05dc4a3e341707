"""Webhook tables: subscriptions (with their breaker) and deliveries (the webhook log).

A delivery row is written by the consumer (``pending``) in the transaction that consumed the
event; UNIQUE (subscription, event) makes a redelivered event add nothing. The dispatcher
claims due rows straight into ``sending`` (committed before the POST), then finishes them as
``delivered``, ``failed``, or ``pending`` again with a later ``next_attempt_at``; a row left
``sending`` by a dead process becomes ``uncertain`` and is never resent automatically. An
erasure makes unsent rows ``cancelled``, and so does the dispatcher's sweep for a pending
row whose subscription was deleted (another replica's stale cache may still write one).
The row id is the Standard Webhooks message id (``webhook-id``), the same on every attempt
and on a redelivery.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, cast

from complaint_runtime.database import Base, UTCDateTime, utcnow
from sqlalchemy import (
    JSON,
    Boolean,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

STATUSES: Final = ("pending", "sending", "delivered", "failed", "uncertain", "cancelled")
REDELIVERABLE: Final = frozenset({"delivered", "failed", "uncertain"})
MAX_LOG: Final = 200


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Sealed (notify.webhooks.sealing): never the secret itself.
    secret: Mapped[str] = mapped_column(String(200))
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breaker_state: Mapped[str] = mapped_column(String(10), default="closed")
    breaker_failures: Mapped[int] = mapped_column(Integer, default=0)
    breaker_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    description: Mapped[str | None] = mapped_column(String(200))
    # Why it was paused by notify itself (the receiver answered 410 Gone); None otherwise.
    deactivated_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # At most one delivery of an event per subscription, however often it is consumed.
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_log", "subscription_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(120))
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    first_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    last_response_body: Mapped[str | None] = mapped_column(String(1024))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


_DELIVERIES = cast(Table, WebhookDelivery.__table__)


class WebhookRepository:
    """Reads and writes of both tables; every change after the claim is conditional on the
    claimer still holding the row."""

    def __init__(self, session: AsyncSession):
        self.session = session

    # -- subscriptions

    async def count_subscriptions(self) -> int:
        return int(await self.session.scalar(select(func.count(WebhookSubscription.id))) or 0)

    async def subscriptions(self, *, active_only: bool = False) -> list[WebhookSubscription]:
        query = select(WebhookSubscription).order_by(
            WebhookSubscription.created_at, WebhookSubscription.id
        )
        if active_only:
            query = query.where(WebhookSubscription.active.is_(True))
        return list(await self.session.scalars(query))

    async def subscription(
        self, subscription_id: str, *, lock: bool = False
    ) -> WebhookSubscription | None:
        query = select(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
        if lock:
            query = query.with_for_update()
        return cast(WebhookSubscription | None, await self.session.scalar(query))

    async def subscriptions_locked(self, ids: Sequence[str]) -> dict[str, WebhookSubscription]:
        """The subscriptions, row-locked in id order (no deadlock between two claimers)."""
        if not ids:
            return {}
        query = (
            select(WebhookSubscription)
            .where(WebhookSubscription.id.in_(sorted(set(ids))))
            .order_by(WebhookSubscription.id)
            .with_for_update()
        )
        return {s.id: s for s in await self.session.scalars(query)}

    async def delete_subscription(self, subscription_id: str) -> None:
        await self.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        )
        await self.session.execute(
            delete(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
        )

    # -- deliveries

    async def add_new(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert planned deliveries, skipping any (subscription, event) already recorded
        (ON CONFLICT DO NOTHING); how many were new."""
        if not rows:
            return 0
        is_pg = self.session.get_bind().dialect.name == "postgresql"
        insert = pg_insert if is_pg else sqlite_insert
        statement = (
            insert(_DELIVERIES)
            .on_conflict_do_nothing(index_elements=["subscription_id", "event_id"])
            .returning(_DELIVERIES.c.id)
        )
        # RETURNING, not rowcount: a driver's executemany may not report a count.
        return len(list((await self.session.execute(statement, list(rows))).scalars()))

    async def due_locked(self, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        """Due pending rows of active subscriptions, locked; SKIP LOCKED lets replicas take
        disjoint rows (SQLite serialises writers with BEGIN IMMEDIATE instead)."""
        active = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))
        query = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                WebhookDelivery.subscription_id.in_(active),
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
        return list(await self.session.scalars(query))

    async def delivery(
        self, delivery_id: str, *, subscription_id: str, lock: bool = False
    ) -> WebhookDelivery | None:
        query = select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.subscription_id == subscription_id,
        )
        if lock:
            query = query.with_for_update()
        return cast(WebhookDelivery | None, await self.session.scalar(query))

    async def finish(self, *, delivery_id: str, claimer: str, values: dict[str, Any]) -> bool:
        """Leave ``sending`` if this claimer still holds the row; False when it does not
        (declared uncertain, cancelled by an erasure, or deleted meanwhile)."""
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == "sending",
                WebhookDelivery.claimed_by == claimer,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def cancel_orphaned(self, *, now: datetime, reason: str) -> int:
        """Pending rows whose subscription no longer exists become ``cancelled``; how many.

        The claim only takes rows of active subscriptions, so such a row (written from
        another replica's stale subscription cache after a delete) would wait for ever."""
        exists = (
            select(WebhookSubscription.id)
            .where(WebhookSubscription.id == WebhookDelivery.subscription_id)
            .exists()
        )
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == "pending", ~exists)
            .values(
                status="cancelled",
                last_error=reason,
                finished_at=now,
                updated_at=now,
                claimed_by=None,
            )
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def abandoned_sending(
        self, *, not_claimer: str, claimed_before: datetime, limit: int
    ) -> list[WebhookDelivery]:
        query = (
            select(WebhookDelivery)
            .where(
                WebhookDelivery.status == "sending",
                WebhookDelivery.claimed_at <= claimed_before,
                (WebhookDelivery.claimed_by != not_claimer) | WebhookDelivery.claimed_by.is_(None),
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(query))

    async def of_complaint_locked(self, complaint_id: str) -> list[WebhookDelivery]:
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.complaint_id == complaint_id)
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
            .with_for_update()
        )
        return list(await self.session.scalars(query))

    async def of_complaint(self, complaint_id: str, *, limit: int) -> list[WebhookDelivery]:
        """A complaint's webhook deliveries, every subscription's, in the order recorded."""
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.complaint_id == complaint_id)
            .order_by(WebhookDelivery.created_at, WebhookDelivery.id)
            .limit(min(limit, MAX_LOG))
        )
        return list(await self.session.scalars(query))

    async def log(
        self, subscription_id: str, *, status: str | None, limit: int
    ) -> list[WebhookDelivery]:
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(
            min(limit, MAX_LOG)
        )
        return list(await self.session.scalars(query))
