"""The ``inbound_replies`` table: customers' replies received and not yet (or already)
handed to intake, and its one repository.

A reply is committed here before the SMTP endpoint answers 250 (or the SMS callback 200),
so a reply once accepted is never lost: the forwarder posts it to intake, retried with
back-off while intake is down, and records the outcome. ``(complaint_id, external_id)`` is
unique: the same e-mail (by Message-ID) or SMS (by the provider's sequence id) received
twice is stored once. The text is blanked once intake has it or refused it (notify keeps
no customer's words longer than it needs them, §10).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from complaint_runtime.database import Base, UTCDateTime, dialect_insert, utcnow
from sqlalchemy import Index, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

STATUSES = ("pending", "forwarded", "refused")


class InboundReply(Base):
    __tablename__ = "inbound_replies"
    __table_args__ = (
        UniqueConstraint("complaint_id", "external_id", name="uq_inbound_replies_external"),
        Index("ix_inbound_replies_due", "status", "next_attempt_at"),
    )

    reply_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    # The Message-ID of an e-mail, the provider's sequence id of an SMS (or a digest).
    external_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
    # intake's id of the customer message (or of the follow-up complaint it opened).
    message_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboundReplyRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add_if_new(self, values: dict[str, Any]) -> bool:
        """Store a received reply; False when the same one is already stored."""
        statement = (
            dialect_insert(self.session)(InboundReply)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["complaint_id", "external_id"])
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def claim_due(self, *, now: datetime, limit: int) -> list[InboundReply]:
        """Due pending replies, row-locked (SKIP LOCKED: replicas take disjoint ones)."""
        query = (
            select(InboundReply)
            .where(InboundReply.status == "pending", InboundReply.next_attempt_at <= now)
            .order_by(InboundReply.next_attempt_at, InboundReply.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list(await self.session.scalars(query))

    async def any_due(self, *, now: datetime) -> bool:
        """A plain read: whether a claim would find anything (an idle round writes nothing)."""
        query = (
            select(InboundReply.reply_id)
            .where(InboundReply.status == "pending", InboundReply.next_attempt_at <= now)
            .limit(1)
        )
        return (await self.session.scalar(query)) is not None

    async def of_complaint(self, complaint_id: str) -> list[InboundReply]:
        query = (
            select(InboundReply)
            .where(InboundReply.complaint_id == complaint_id)
            .order_by(InboundReply.received_at, InboundReply.reply_id)
        )
        return list(await self.session.scalars(query))

    async def delete_of_complaint(self, complaint_id: str) -> None:
        await self.session.execute(
            delete(InboundReply).where(InboundReply.complaint_id == complaint_id)
        )
