"""The tables several of intake's capabilities share: each complaint (raw contacts live here
only, encrypted) and its history. Submissions write them, the projection folds every other
service's events into them, and both are read to answer a front end or the customer."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, cast

from complaint_runtime.database import Base, BigId, OutboxMessage, ProcessedEvent, UTCDateTime
from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

__all__ = [
    "COMPLAINTS",
    "HISTORY",
    "Base",
    "Complaint",
    "ComplaintRepository",
    "HistoryEntry",
    "OutboxMessage",
    "ProcessedEvent",
    "StagedRows",
]


ID_LENGTH = 36  # UUIDv7, as text


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
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
    # The latest closure, projected from routing's complaint.closed: a customer message on a
    # closed complaint reopens it within the reopen window, else opens a new complaint
    # (intake.complaints.domain.follow_ups); the status says whether it is closed now.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_reason: Mapped[str | None] = mapped_column(String(20))
    # The earlier complaint this one follows up (opened by a message after the window).
    related_complaint_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    # The customer's IANA time zone as the front end knew it (optional): the tracking page
    # shows the promised times in it, else in ORGANISATION_TIMEZONE.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The front end whose key posted it (a follow-up: the one of the complaint it follows
    # up); its keys reach it (intake.access.domain.callers). None: made before front ends
    # were recorded.
    front_end: Mapped[str | None] = mapped_column(String(100))


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


COMPLAINTS: Final = cast(Table, Complaint.__table__)
HISTORY: Final = cast(Table, HistoryEntry.__table__)


def complaint_from_row(row: dict[str, Any]) -> Complaint:
    """The ORM object of a ``complaints`` row keyed by column name (as :class:`StagedRows`
    takes it; the ``metadata`` column is the ``extra_metadata`` attribute)."""
    return Complaint(**{_attribute_names()[name]: value for name, value in row.items()})


@functools.cache
def _attribute_names() -> dict[str, str]:
    mapper = sa_inspect(Complaint)
    return {column.key: mapper.get_property_by_column(column).key for column in COMPLAINTS.c}


# Where a transaction's staged rows are kept, in ``Session.info``.
_STAGED_ROWS: Final = "intake.staged_rows"


class StagedRows:
    """New rows of one transaction, kept as plain dicts (keyed by column name) and written
    with one INSERT statement per table, parents before children (foreign-key order).

    A group commit writes hundreds of complaints at once: an ORM object per row and the
    unit of work's flush (which read every history id back, one INSERT per row on SQLite)
    cost more than the rest of what intake does to store a complaint. Each table's rows go
    to the driver as one executemany of one cached statement (asyncpg sends them in one
    round trip); with ``insert(table).values(rows)``, compiled afresh for every group size,
    storing a complaint measured three times dearer. The rows of a table must all name the
    same columns.

    Whoever opens the staging writes it before the commit (:meth:`write`); staging in a
    session where none was opened fails at once (:meth:`of`) rather than losing rows.
    """

    def __init__(self) -> None:
        self._rows: dict[Table, list[dict[str, Any]]] = {}

    @classmethod
    def open(cls, session: AsyncSession) -> StagedRows:
        """Start staging rows in ``session``'s transaction (a fresh, empty staging)."""
        staged = cls()
        session.info[_STAGED_ROWS] = staged
        return staged

    @staticmethod
    def of(session: AsyncSession) -> StagedRows:
        """The staging :meth:`open` started in ``session``."""
        staged = session.info.get(_STAGED_ROWS)
        if not isinstance(staged, StagedRows):
            raise RuntimeError("no staged rows in this session: StagedRows.open it first")
        return staged

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self._rows.setdefault(table, []).append(row)

    async def write(self, session: AsyncSession) -> None:
        """INSERT what is staged, one statement per table in foreign-key order, in staging
        order within a table; the staging is empty afterwards."""
        staged, self._rows = self._rows, {}
        order = [table for table in Base.metadata.sorted_tables if table in staged]
        if len(order) != len(staged):
            raise RuntimeError("rows staged for a table that is not intake's")
        for table in order:
            await session.execute(insert(table), staged[table])


class ComplaintRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, complaint_id: str) -> Complaint | None:
        """None for an unknown id, without a query when it is too long to be one."""
        if len(complaint_id) > ID_LENGTH:
            return None
        return await self.session.get(Complaint, complaint_id)

    async def load_many(self, complaint_ids: Iterable[str]) -> None:
        """Read these complaints in one query into the session, where :meth:`get` then finds
        them without a round trip each (a consumer's batch names hundreds)."""
        wanted = sorted({i for i in complaint_ids if len(i) <= ID_LENGTH})
        if wanted:
            rows = await self.session.scalars(select(Complaint).where(Complaint.id.in_(wanted)))
            # The session's identity map holds objects weakly: kept here for the session.
            self.session.info.setdefault("loaded_complaints", []).extend(rows.all())

    async def get_for_update(self, complaint_id: str) -> Complaint | None:
        """Like :meth:`get`, with the row locked until the transaction ends (PostgreSQL), so
        that two concurrent requests that change the complaint's state run one after the
        other and the second sees the first's change."""
        if len(complaint_id) > ID_LENGTH:
            return None
        return await self.session.get(
            Complaint, complaint_id, with_for_update=True, populate_existing=True
        )

    async def by_token_hash(self, token_hash: str) -> Complaint | None:
        """The complaint a tracking link opens (the hash is unique and indexed)."""
        rows = await self.session.scalars(
            select(Complaint).where(Complaint.tracking_token_hash == token_hash).limit(1)
        )
        return rows.first()

    async def by_reference(self, reference: str) -> Complaint | None:
        """The complaint with this human reference (unique and indexed), if any."""
        rows = await self.session.scalars(
            select(Complaint).where(Complaint.reference == reference).limit(1)
        )
        return rows.first()

    async def follow_ups(self, complaint_id: str, *, limit: int) -> Sequence[Complaint]:
        """The complaints that follow ``complaint_id`` up, oldest first."""
        rows = await self.session.scalars(
            select(Complaint)
            .where(Complaint.related_complaint_id == complaint_id)
            .order_by(Complaint.received_at, Complaint.id)
            .limit(limit)
        )
        return rows.all()

    async def history(self, complaint_id: str) -> Sequence[HistoryEntry]:
        rows = await self.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.complaint_id == complaint_id)
            .order_by(HistoryEntry.occurred_at, HistoryEntry.id)
        )
        return rows.all()
