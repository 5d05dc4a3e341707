"""Feedback's tables: what it knows of each complaint (its customer too: the NPS programme
asks customers about their closed complaints), the confirmation requests with the
customers' raw answers (the comment is masked only when it goes into an event), and each
complaint's latest closure with the customer's latest message (a reopen by message). The
NPS programme's own tables are in :mod:`feedback.nps.db`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from complaint_runtime.database import (
    Base,
    OutboxMessage,
    ProcessedEvent,
    UTCDateTime,
    dialect_insert,
)
from sqlalchemy import Boolean, Index, Select, SmallInteger, String, Text, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

__all__ = [
    "Base",
    "Closure",
    "Closures",
    "ComplaintInfo",
    "ConfirmationRequest",
    "OutboxMessage",
    "ProcessedEvent",
    "Requests",
]

_PENDING = text("status = 'pending'")
_WAITING = text("status = 'waiting'")
_UNREMINDED = text("status = 'pending' AND reminded_at IS NULL")


class ComplaintInfo(Base):
    """From complaint.received: how to address the customer about this complaint."""

    __tablename__ = "feedback_complaints"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    customer_ref: Mapped[str | None] = mapped_column(
        String(200),
        index=True,
        doc=(
            "The customer (keyed hash): whom the NPS programme asks about their closed "
            "complaints; None for complaints received before it was kept"
        ),
    )


class ConfirmationRequest(Base):
    """One per resolution of a complaint; answered, expired or superseded at most once."""

    __tablename__ = "confirmation_requests"
    __table_args__ = (
        # The auto-close loop and the contact-wait fallback scan only live rows.
        Index(
            "ix_confirmation_requests_due",
            "expires_at",
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
        Index(
            "ix_confirmation_requests_waiting",
            "created_at",
            postgresql_where=_WAITING,
            sqlite_where=_WAITING,
        ),
        # The reminder loop: pending requests not reminded yet, by the time they were sent.
        Index(
            "ix_confirmation_requests_remind",
            "requested_at",
            postgresql_where=_UNREMINDED,
            sqlite_where=_UNREMINDED,
        ),
    )

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reference: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str | None] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    solved: Mapped[bool | None] = mapped_column(Boolean)
    csat: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))
    reopen_reason: Mapped[str | None] = mapped_column(String(20))
    ended_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, doc="When it expired, was superseded or cancelled"
    )
    reminded_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, doc="When its one reminder was sent (with the reminder's event)"
    )
    unreached_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, doc="When notify reported that no channel reaches the customer"
    )


class Closure(Base):
    """A complaint's latest closure (routing's complaint.closed) and the customer's latest
    message about it (intake's complaint.customer_message_received): a message at or after
    the closure reopens it once (``feedback.domain.reopening``), in whichever order the two
    topics deliver them. Ids and times only: no personal data."""

    __tablename__ = "closures"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The NPS rounds find a period's closures by time.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    close_reason: Mapped[str | None] = mapped_column(String(20))
    reopened_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, doc="When a customer message reopened this closure"
    )
    reopen_message_id: Mapped[str | None] = mapped_column(String(200))
    last_message_id: Mapped[str | None] = mapped_column(String(200))
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Closures:
    """The closure rows, each read under its row lock: the closure and a message of the
    same complaint, consumed from two topics (possibly by two replicas at once), decide on
    the reopen one after the other, so it is sent once."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def locked(self, complaint_id: str, *, now: datetime) -> Closure:
        """The complaint's row, created empty if missing (``ON CONFLICT DO NOTHING``: of two
        transactions creating it, the second waits for the first and finds its row), then
        locked (``FOR UPDATE``) until the transaction ends."""
        await self.session.execute(
            dialect_insert(self.session)(Closure)
            .values(complaint_id=complaint_id, updated_at=now)
            .on_conflict_do_nothing(index_elements=[Closure.complaint_id])
        )
        return (
            await self.session.scalars(
                select(Closure)
                .where(Closure.complaint_id == complaint_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).one()


class Requests:
    """Queries on confirmation requests; state changes are conditional UPDATEs, so two
    writers racing for the same row (two answers, an answer and the auto-close) cannot
    both win."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, request_id: str) -> ConfirmationRequest | None:
        return await self.session.get(ConfirmationRequest, request_id)

    async def complaint(self, complaint_id: str) -> ComplaintInfo | None:
        return await self.session.get(ComplaintInfo, complaint_id)

    async def end_live(self, *, complaint_id: str, status: str, at: datetime) -> int:
        """Supersede or cancel the complaint's waiting and pending requests."""
        result = await self.session.execute(
            update(ConfirmationRequest)
            .where(
                ConfirmationRequest.complaint_id == complaint_id,
                ConfirmationRequest.status.in_(("waiting", "pending")),
            )
            .values(status=status, ended_at=at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def waiting(
        self, *, complaint_id: str | None = None, created_before: datetime | None = None, limit: int
    ) -> Sequence[ConfirmationRequest]:
        query = select(ConfirmationRequest).where(ConfirmationRequest.status == "waiting")
        if complaint_id is not None:
            query = query.where(ConfirmationRequest.complaint_id == complaint_id)
        if created_before is not None:
            query = query.where(ConfirmationRequest.created_at <= created_before)
        query = query.order_by(ConfirmationRequest.created_at).limit(limit)
        return (await self.session.scalars(self._locked(query))).all()

    async def due(self, *, now: datetime, limit: int) -> Sequence[ConfirmationRequest]:
        query = (
            select(ConfirmationRequest)
            .where(
                ConfirmationRequest.status == "pending",
                ConfirmationRequest.expires_at <= now,
                # Sent requests only (a pending request has both instants): a row without
                # one could never close and would hold a place in every batch.
                ConfirmationRequest.requested_at.is_not(None),
            )
            .order_by(ConfirmationRequest.expires_at)
            .limit(limit)
        )
        return (await self.session.scalars(self._locked(query))).all()

    async def reminders_due(
        self, *, sent_before: datetime, now: datetime, limit: int
    ) -> Sequence[ConfirmationRequest]:
        """Pending, unanswered, unreminded requests sent at or before ``sent_before`` that
        have not expired at ``now`` and whose customer is not known unreachable, claimed
        (``SKIP LOCKED``) oldest first; ``feedback.domain.reminders`` decides on each."""
        query = (
            select(ConfirmationRequest)
            .where(
                ConfirmationRequest.status == "pending",
                ConfirmationRequest.reminded_at.is_(None),
                ConfirmationRequest.answered_at.is_(None),
                ConfirmationRequest.unreached_at.is_(None),
                ConfirmationRequest.requested_at <= sent_before,
                ConfirmationRequest.expires_at > now,
            )
            .order_by(ConfirmationRequest.requested_at)
            .limit(limit)
        )
        return (await self.session.scalars(self._locked(query))).all()

    async def mark_reminded(self, *, request_id: str, at: datetime) -> bool:
        """The reminder's claim on the row: only an unreminded, still pending request."""
        result = await self.session.execute(
            update(ConfirmationRequest)
            .where(
                ConfirmationRequest.request_id == request_id,
                ConfirmationRequest.status == "pending",
                ConfirmationRequest.reminded_at.is_(None),
            )
            .values(reminded_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_unreached(self, *, complaint_id: str, at: datetime) -> int:
        """Record on the complaint's live request (at most one is pending) that nobody can
        reach the customer. Reachability is a property of the complaint's contacts, which
        never change, so a failure reported late for an earlier request holds for the
        request that superseded it as well."""
        result = await self.session.execute(
            update(ConfirmationRequest)
            .where(
                ConfirmationRequest.complaint_id == complaint_id,
                ConfirmationRequest.status == "pending",
                ConfirmationRequest.unreached_at.is_(None),
            )
            .values(unreached_at=at)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def _locked(query: Select[Any]) -> Select[Any]:
        """Claim the rows: replicas share the work instead of queueing on each other's rows
        (``SKIP LOCKED``). SQLite has a single writer anyway (BEGIN IMMEDIATE); its compiler
        leaves the clause out."""
        return query.with_for_update(skip_locked=True)

    async def transition(
        self, *, request_id: str, from_status: str, to_status: str, **values: object
    ) -> bool:
        """Move one request on if, and only if, it is still in ``from_status``."""
        result = await self.session.execute(
            update(ConfirmationRequest)
            .where(
                ConfirmationRequest.request_id == request_id,
                ConfirmationRequest.status == from_status,
            )
            .values(status=to_status, **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def record_answer(
        self,
        *,
        request_id: str,
        complaint_id: str,
        now: datetime,
        solved: bool,
        csat: int,
        comment: str | None,
        outcome: str,
        reopen_reason: str | None,
    ) -> bool:
        """The single use of a link: only the first answer before expiry sets answered_at."""
        result = await self.session.execute(
            update(ConfirmationRequest)
            .where(
                ConfirmationRequest.request_id == request_id,
                ConfirmationRequest.complaint_id == complaint_id,
                ConfirmationRequest.status == "pending",
                ConfirmationRequest.answered_at.is_(None),
                ConfirmationRequest.expires_at > now,
            )
            .values(
                status="answered",
                answered_at=now,
                solved=solved,
                csat=csat,
                comment=comment,
                outcome=outcome,
                reopen_reason=reopen_reason,
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def erase_comments(self, *, complaint_id: str) -> None:
        await self.session.execute(
            update(ConfirmationRequest)
            .where(ConfirmationRequest.complaint_id == complaint_id)
            .values(comment=None)
        )
