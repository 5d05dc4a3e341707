"""What the data subjects' rights read of intake's shared tables (no table of their own): a
customer's complaints, a page at a time, with their messages and history in one query
each, and the complaints retention is due for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.complaints.db import CustomerMessage
from intake.db import Complaint, HistoryEntry
from intake.erasure.domain.anonymisation import ERASED_PREFIX
from intake.rights.domain.retention import CLOSED
from intake.rights.domain.subjects import SubjectQuery


class RightsRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def complaints_of(
        self, query: SubjectQuery, *, after: str | None, limit: int
    ) -> Sequence[Complaint]:
        """The customer's complaints in id order (UUIDv7: the order received), those after
        ``after`` (a page's last id), at most ``limit``."""
        statement = select(Complaint).where(_matches(query)).order_by(Complaint.id).limit(limit)
        if query.front_end is not None:
            statement = statement.where(Complaint.front_end == query.front_end)
        if after is not None:
            statement = statement.where(Complaint.id > after)
        return (await self.session.scalars(statement)).all()

    async def messages_of(self, complaint_ids: Sequence[str]) -> dict[str, list[CustomerMessage]]:
        """The customer's messages on these complaints, oldest first per complaint."""
        rows = await self.session.scalars(
            select(CustomerMessage)
            .where(CustomerMessage.complaint_id.in_(complaint_ids))
            .order_by(CustomerMessage.received_at, CustomerMessage.id)
        )
        found: dict[str, list[CustomerMessage]] = {}
        for message in rows:
            found.setdefault(message.complaint_id, []).append(message)
        return found

    async def history_of(self, complaint_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        """These complaints' history, in the order the complaint's view shows it."""
        rows = await self.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.complaint_id.in_(complaint_ids))
            .order_by(HistoryEntry.occurred_at, HistoryEntry.id)
        )
        found: dict[str, list[HistoryEntry]] = {}
        for entry in rows:
            found.setdefault(entry.complaint_id, []).append(entry)
        return found

    async def due_for_retention(
        self,
        cutoff: datetime,
        *,
        after: tuple[datetime, str] | None,
        limit: int,
        claim: bool = False,
    ) -> Sequence[RetentionCandidate]:
        """Complaints closed now whose closure lies before ``cutoff`` and that were not
        erased yet, in (closure, id) order after ``after`` (the previous batch's last), at
        most ``limit``. ``claim``: locked until the transaction ends, skipping those another
        transaction holds (PostgreSQL; a concurrent run erases those), so two runs never
        erase (and announce) a complaint twice."""
        statement = (
            select(Complaint.id, Complaint.closed_at)
            .where(
                Complaint.status == CLOSED,
                Complaint.closed_at < cutoff,
                Complaint.customer_ref.not_like(f"{ERASED_PREFIX}%"),
            )
            .order_by(Complaint.closed_at, Complaint.id)
            .limit(limit)
        )
        if after is not None:
            # Row-value comparison written out, so the time binds through the column's type.
            closed_at, complaint_id = after
            statement = statement.where(
                or_(
                    Complaint.closed_at > closed_at,
                    and_(Complaint.closed_at == closed_at, Complaint.id > complaint_id),
                )
            )
        if claim:
            statement = statement.with_for_update(of=Complaint, skip_locked=True)
        rows = await self.session.execute(statement)
        return [RetentionCandidate(row.id, row.closed_at) for row in rows]


@dataclass(frozen=True)
class RetentionCandidate:
    complaint_id: str
    closed_at: datetime


def _matches(query: SubjectQuery) -> ColumnElement[bool]:
    column = {
        "external_ref": Complaint.customer_id,
        "phone": Complaint.phone_hash,
        "email": Complaint.email_hash,
    }[query.kind]
    return column == query.value
