"""What submitting complaints needs besides the complaint itself: the customers' messages
(the raw text stays here), the answers given to Idempotency-Keys, and the per-day
reference counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from complaint_runtime.database import UTCDateTime, dialect_insert, utcnow
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    delete,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import Base


class CustomerMessage(Base):
    """A message the customer sent about their complaint (raw text stays here)."""

    __tablename__ = "customer_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """The answer given to one Idempotency-Key of one API key, replayed on a retry."""

    __tablename__ = "idempotency_keys"

    api_key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DayKey(TypeDecorator[datetime]):
    """A day as the counter table has always keyed it: midnight, in a ``timestamp without
    time zone`` column. Python gives and gets it as an aware UTC datetime; the column keeps
    the same wall-clock value, without an offset."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a day key")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, _dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class ReferenceCounter(Base):
    __tablename__ = "reference_counters"

    day: Mapped[datetime] = mapped_column(DayKey, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class SubmissionRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def next_reference_numbers(self, day: date, count: int) -> range:
        """Reserve ``count`` consecutive numbers of ``day`` in one atomic upsert: the first
        of the day inserts the row, later ones add to it under its row lock, so concurrent
        transactions (processes) wait for each other and never get the same numbers."""
        day_key = datetime(day.year, day.month, day.day, tzinfo=UTC)
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

    async def messages_of(self, complaint_id: str, *, limit: int) -> Sequence[CustomerMessage]:
        """The customer's messages on a complaint, oldest first."""
        rows = await self.session.scalars(
            select(CustomerMessage)
            .where(CustomerMessage.complaint_id == complaint_id)
            .order_by(CustomerMessage.received_at, CustomerMessage.id)
            .limit(limit)
        )
        return rows.all()

    async def idempotency_record(self, api_key_id: int, key: str) -> IdempotencyRecord | None:
        return await self.session.get(IdempotencyRecord, (api_key_id, key))

    def add_idempotency_record(
        self, *, api_key_id: int, key: str, request_hash: str, response: dict[str, Any]
    ) -> None:
        """Inserted with the complaint: a concurrent request with the same key fails on the
        primary key (``IntegrityError``) and replays this answer instead."""
        self.session.add(
            IdempotencyRecord(
                api_key_id=api_key_id,
                key=key,
                request_hash=request_hash,
                status_code=201,
                response=response,
            )
        )

    async def delete_idempotency_records(self, *, created_before: datetime, limit: int) -> int:
        """Delete at most ``limit`` answers (front ends' and the pages') given before
        ``created_before``; returns how many went. Rows another transaction holds are
        skipped (PostgreSQL), not waited for."""
        expired = (
            select(IdempotencyRecord.api_key_id, IdempotencyRecord.key)
            .where(IdempotencyRecord.created_at < created_before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(
            delete(IdempotencyRecord).where(
                tuple_(IdempotencyRecord.api_key_id, IdempotencyRecord.key).in_(expired)
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
