"""The NPS programme's tables and their repository.

- ``nps_rounds``: one row per period (its key), created by the loop after the period ended
  or by an operator; the round walks the period's customers in ``customer_ref`` order in
  bounded transactions, remembering where it got to (``cursor``), so a crash resumes it and
  replicas share it under the row's lock (``FOR UPDATE SKIP LOCKED``).
- ``nps_requests``: one per customer and period (unique), keyed by a uuid5 of both, so a
  batch redone after a crash inserts nothing twice; the answer is a conditional UPDATE
  (``answered_at IS NULL``, not expired): one answer per request.
- ``nps_opt_outs``: customers (by reference) who asked never to be asked again.

An erasure (§10) unlinks the complaint's requests from the customer (a random id and a
reference of their own instead of the uuid5 of the customer's), keeping period, score and
times; at the customer's request also their opt-out and any round's cursor at them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from complaint_runtime.database import Base, UTCDateTime, dialect_insert
from sqlalchemy import (
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    delete,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from feedback.db import Closure, ComplaintInfo
from feedback.nps.domain.sampling import Candidate

_OPEN = text("status = 'open'")
# An erased request's customer reference: its own (unique per period still), nobody's.
ERASED_PREFIX: Final = "erased:"
# Closures the customer took part in (routing's CloseReason): a withdrawal (their own
# decision) or a duplicate (its original is the complaint asked about) is not surveyed.
SURVEYED_CLOSURES: Final = ("confirmed", "auto_closed")


class NpsRound(Base):
    """A period's round: open until every customer of the period was considered."""

    __tablename__ = "nps_rounds"
    __table_args__ = (
        Index("ix_nps_rounds_open", "created_at", postgresql_where=_OPEN, sqlite_where=_OPEN),
    )

    period: Mapped[str] = mapped_column(String(41), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8), doc="open or done")
    trigger: Mapped[str] = mapped_column(String(16), doc="schedule or operator")
    sample_percent: Mapped[float] = mapped_column(Float, doc="The share asked, as configured")
    cursor: Mapped[str | None] = mapped_column(
        String(200), doc="The last customer_ref the round considered"
    )
    customers_seen: Mapped[int] = mapped_column(Integer, default=0)
    requests_created: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NpsRequest(Base):
    """One customer asked in one period; the raw comment stays here (masked in events)."""

    __tablename__ = "nps_requests"
    __table_args__ = (UniqueConstraint("period", "customer_ref"),)

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    period: Mapped[str] = mapped_column(String(41))
    customer_ref: Mapped[str] = mapped_column(String(200))
    complaint_id: Mapped[str] = mapped_column(String(36), index=True)
    language: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)


class NpsOptOut(Base):
    """A customer who asked not to be asked again (honoured by every later round)."""

    __tablename__ = "nps_opt_outs"

    customer_ref: Mapped[str] = mapped_column(String(200), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str | None] = mapped_column(
        String(36), doc="The request whose page or invitation the customer used"
    )


class NpsRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    # ---- rounds

    async def create_round(
        self,
        *,
        period: str,
        start: datetime,
        end: datetime,
        trigger: str,
        sample_percent: float,
        now: datetime,
    ) -> bool:
        """The period's round, once (``ON CONFLICT DO NOTHING``): whether this call made it."""
        result = await self.session.execute(
            dialect_insert(self.session)(NpsRound)
            .values(
                period=period,
                period_start=start,
                period_end=end,
                status="open",
                trigger=trigger,
                sample_percent=sample_percent,
                customers_seen=0,
                requests_created=0,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=[NpsRound.period])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get_round(self, period: str) -> NpsRound | None:
        return await self.session.get(NpsRound, period)

    async def claim_open_round(self) -> NpsRound | None:
        """The oldest open round nobody else is working on, locked until the transaction
        ends (``SKIP LOCKED``: a replica busy with it is not waited for)."""
        query = (
            select(NpsRound)
            .where(NpsRound.status == "open")
            .order_by(NpsRound.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(query)).first()

    # ---- the period's customers

    def _closed_in(self, start: datetime, end: datetime) -> list[object]:
        """Closures in ``[start, end)`` still closed (not reopened since), that the customer
        took part in (:data:`SURVEYED_CLOSURES`), of complaints whose customer feedback
        knows (erasure forgets it)."""
        return [
            Closure.closed_at >= start,
            Closure.closed_at < end,
            Closure.close_reason.in_(SURVEYED_CLOSURES),
            Closure.reopened_at.is_(None),
            ComplaintInfo.customer_ref.is_not(None),
        ]

    async def next_customers(
        self, *, start: datetime, end: datetime, after: str | None, limit: int
    ) -> list[str]:
        """The next ``limit`` customers (in ``customer_ref`` order, after ``after``) with a
        complaint closed in the period, leaving out those who opted out."""
        query = (
            select(ComplaintInfo.customer_ref)
            .join(Closure, Closure.complaint_id == ComplaintInfo.complaint_id)
            .where(
                *self._closed_in(start, end),  # type: ignore[arg-type]
                ~exists().where(NpsOptOut.customer_ref == ComplaintInfo.customer_ref),
            )
            .group_by(ComplaintInfo.customer_ref)
            .order_by(ComplaintInfo.customer_ref)
            .limit(limit)
        )
        if after is not None:
            query = query.where(ComplaintInfo.customer_ref > after)
        return [ref for ref in (await self.session.scalars(query)).all() if ref is not None]

    async def candidates(
        self, *, start: datetime, end: datetime, customers: Sequence[str]
    ) -> list[Candidate]:
        """Every complaint of ``customers`` closed in the period, with its addressing."""
        if not customers:
            return []
        query = (
            select(
                ComplaintInfo.customer_ref,
                ComplaintInfo.complaint_id,
                Closure.closed_at,
                ComplaintInfo.language,
                ComplaintInfo.channel,
            )
            .join(Closure, Closure.complaint_id == ComplaintInfo.complaint_id)
            .where(
                *self._closed_in(start, end),  # type: ignore[arg-type]
                ComplaintInfo.customer_ref.in_(list(customers)),
            )
        )
        return [
            Candidate(ref, complaint_id, closed_at, language, channel)
            for ref, complaint_id, closed_at, language, channel in (
                await self.session.execute(query)
            ).all()
            if ref is not None and closed_at is not None
        ]

    # ---- requests

    async def add_request(self, request: NpsRequest) -> bool:
        """Insert unless the customer already has the period's request (a redone batch)."""
        values = {
            column.key: getattr(request, column.key) for column in NpsRequest.__table__.columns
        }
        result = await self.session.execute(
            dialect_insert(self.session)(NpsRequest).values(**values).on_conflict_do_nothing()
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def get_request(self, request_id: str) -> NpsRequest | None:
        return await self.session.get(NpsRequest, request_id)

    async def record_answer(
        self,
        *,
        request_id: str,
        complaint_id: str,
        score: int,
        comment: str | None,
        now: datetime,
    ) -> bool:
        """The single use of the link: only the first answer before expiry is kept."""
        result = await self.session.execute(
            update(NpsRequest)
            .where(
                and_(
                    NpsRequest.request_id == request_id,
                    NpsRequest.complaint_id == complaint_id,
                    NpsRequest.answered_at.is_(None),
                    NpsRequest.expires_at > now,
                )
            )
            .values(answered_at=now, score=score, comment=comment)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def opt_out(self, *, customer_ref: str, request_id: str, now: datetime) -> bool:
        """Record the wish once (the first time is kept); whether it is new."""
        result = await self.session.execute(
            dialect_insert(self.session)(NpsOptOut)
            .values(customer_ref=customer_ref, opted_out_at=now, request_id=request_id)
            .on_conflict_do_nothing(index_elements=[NpsOptOut.customer_ref])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def is_opted_out(self, customer_ref: str) -> bool:
        return await self.session.get(NpsOptOut, customer_ref) is not None

    async def erase_comments(self, *, complaint_id: str) -> None:
        await self.session.execute(
            update(NpsRequest).where(NpsRequest.complaint_id == complaint_id).values(comment=None)
        )

    async def unlink_requests(self, *, complaint_id: str) -> None:
        """The complaint's requests no longer lead to the customer: their id (a uuid5 of
        period and customer reference, so recomputable from the reference) becomes a
        random one and their reference their own; comments go. Requests unlinked before
        (a second erasure) stay as they are."""
        old_ids = await self.session.scalars(
            select(NpsRequest.request_id).where(
                NpsRequest.complaint_id == complaint_id,
                NpsRequest.customer_ref.not_like(f"{ERASED_PREFIX}%"),
            )
        )
        for old_id in list(old_ids):
            new_id = str(uuid.uuid4())
            await self.session.execute(
                update(NpsRequest)
                .where(NpsRequest.request_id == old_id)
                .values(request_id=new_id, customer_ref=f"{ERASED_PREFIX}{new_id}", comment=None)
                .execution_options(synchronize_session=False)
            )

    async def forget_opt_out(self, *, customer_ref: str) -> None:
        await self.session.execute(delete(NpsOptOut).where(NpsOptOut.customer_ref == customer_ref))

    async def move_cursors_off(self, *, customer_ref: str) -> None:
        """Rounds whose cursor is this customer's reference resume after the greatest
        reference below it instead: no customer lies between the two, so the round goes on
        with the same customers (this one's other complaints, until they are erased too,
        are considered again, which asks nobody twice: a request per period and
        customer)."""
        before = await self.session.scalar(
            select(func.max(ComplaintInfo.customer_ref)).where(
                ComplaintInfo.customer_ref < customer_ref
            )
        )
        await self.session.execute(
            update(NpsRound)
            .where(NpsRound.cursor == customer_ref)
            .values(cursor=before)
            .execution_options(synchronize_session=False)
        )

    async def forget_customer(self, *, complaint_id: str) -> None:
        """The complaint's customer is no longer known: no later round samples it."""
        await self.session.execute(
            update(ComplaintInfo)
            .where(ComplaintInfo.complaint_id == complaint_id)
            .values(customer_ref=None)
        )
