"""Intake's tables and the queries on them. Raw contacts live here only, encrypted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from complaint_runtime.database import (
    Base,
    BigId,
    OutboxMessage,
    ProcessedEvent,
    UTCDateTime,
    dialect_insert,
    utcnow,
)
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["Base", "OutboxMessage", "ProcessedEvent"]


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32), default="received")
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    order_ref: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    extra_metadata: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    customer_ref: Mapped[str] = mapped_column(String(40), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(100))
    customer_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    email_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    masked_phone: Mapped[str | None] = mapped_column(String(32))
    masked_email: Mapped[str | None] = mapped_column(String(320))
    tier: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    tracking_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Encrypted too, because notify must put the customer's tracking link in messages.
    tracking_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    category: Mapped[str | None] = mapped_column(String(40))
    subcategory: Mapped[str | None] = mapped_column(String(60))
    priority: Mapped[str | None] = mapped_column(String(4))
    emotion: Mapped[str | None] = mapped_column(String(8))
    team: Mapped[str | None] = mapped_column(String(60))
    assignee: Mapped[str | None] = mapped_column(String(100))
    # Projected from sla-watch (escalation) and routing (duplicates, repeats); see
    # intake.projection.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duplicate_of: Mapped[str | None] = mapped_column(String(36))
    duplicate_of_reference: Mapped[str | None] = mapped_column(String(32))
    repeat_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class HistoryEntry(Base):
    """One event of a complaint's life, as intake saw it (projected from every topic)."""

    __tablename__ = "complaint_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class CustomerMessage(Base):
    """A message the customer sent about their complaint (raw text stays here)."""

    __tablename__ = "customer_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    channels: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """The answer given to one Idempotency-Key of one API key, replayed on a retry."""

    __tablename__ = "idempotency_keys"

    api_key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReferenceCounter(Base):
    __tablename__ = "reference_counters"

    day: Mapped[date] = mapped_column(DateTime(timezone=False), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class ComplaintRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, complaint_id: str) -> Complaint | None:
        return await self.session.get(Complaint, complaint_id)

    async def history(self, complaint_id: str) -> Sequence[HistoryEntry]:
        rows = await self.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.complaint_id == complaint_id)
            .order_by(HistoryEntry.occurred_at, HistoryEntry.id)
        )
        return rows.all()

    async def next_reference_numbers(self, day: date, count: int) -> range:
        """Reserve ``count`` consecutive numbers of ``day``; the row lock serialises writers."""
        day_key = datetime(day.year, day.month, day.day)
        statement = (
            dialect_insert(self.session)(ReferenceCounter)
            .values(day=day_key, last_number=count)
            .on_conflict_do_update(
                index_elements=[ReferenceCounter.day],
                set_={"last_number": ReferenceCounter.last_number + count},
            )
            .returning(ReferenceCounter.last_number)
        )
        last = (await self.session.execute(statement)).scalar_one()
        return range(last - count + 1, last + 1)

    async def api_key_by_hash(self, key_hash: str) -> ApiKey | None:
        return await self.session.scalar(
            select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        )

    async def idempotency_record(self, api_key_id: int, key: str) -> IdempotencyRecord | None:
        return await self.session.get(IdempotencyRecord, (api_key_id, key))
