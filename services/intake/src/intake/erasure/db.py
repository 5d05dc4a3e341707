"""Erasures, their complaints and the other services' confirmations, and legal holds; and
the statements that anonymise a complaint in intake's own tables.

An ``erasures`` row keeps how its customer was named only as a keyed hash
(``subject_hash``); at most one erasure per name and scope is pending at a time (a partial
unique index), so two identical requests at once cannot both start one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from complaint_runtime.database import BigId, UTCDateTime, dialect_insert
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    String,
    Text,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from intake.complaints.db import CustomerMessage, IdempotencyRecord
from intake.db import Base, Complaint, HistoryEntry
from intake.recovery.db import TrackingCode

ID_LENGTH = 36
_PENDING = text("status = 'pending'")
_ACTIVE = text("released_at IS NULL")


class Erasure(Base):
    """One erasure request: a customer's (``reason`` ``customer_request``) or retention's."""

    __tablename__ = "erasures"
    __table_args__ = (
        Index(
            "uq_erasures_one_pending",
            "subject_kind",
            "subject_hash",
            "scope",
            unique=True,
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    reason: Mapped[str] = mapped_column(String(24))
    # external_ref, phone, email; or retention (no subject: the complaints were chosen).
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_hash: Mapped[str | None] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(100))  # a front end's name, or "*"
    requested_by: Mapped[str] = mapped_column(String(200))
    # The front end whose key asked (it may read the status); None: staff or a job.
    requested_by_front_end: Mapped[str | None] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ErasureComplaint(Base):
    """A complaint an erasure covers: ``held`` while a legal hold keeps it from being
    erased, ``erased_at`` once intake anonymised it."""

    __tablename__ = "erasure_complaints"

    erasure_id: Mapped[str] = mapped_column(ForeignKey("erasures.id"), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(
        ForeignKey("complaints.id"), primary_key=True, index=True
    )
    held: Mapped[bool] = mapped_column(Boolean)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ErasureConfirmation(Base):
    """One service's ``*.erasure_completed`` for one complaint of an erasure (once)."""

    __tablename__ = "erasure_confirmations"

    erasure_id: Mapped[str] = mapped_column(ForeignKey("erasures.id"), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_id: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LegalHold(Base):
    """A legal hold on a complaint, kept after its release (who and when, both ways); at
    most one active per complaint."""

    __tablename__ = "legal_holds"
    __table_args__ = (
        Index(
            "uq_legal_holds_one_active",
            "complaint_id",
            unique=True,
            postgresql_where=_ACTIVE,
            sqlite_where=_ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    released_by: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Declared with the erasure, which is what reads complaints by a front end's customer id
# (POST /v1/customers/{external_ref}/erasure): no scan of every complaint.
COMPLAINTS_BY_EXTERNAL_REF = Index(
    "ix_complaints_customer_id_front_end", Complaint.customer_id, Complaint.front_end
)


class ErasureRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    # -- erasures -------------------------------------------------------------------------

    async def get(self, erasure_id: str, *, for_update: bool = False) -> Erasure | None:
        if len(erasure_id) > ID_LENGTH:
            return None
        return await self.session.get(
            Erasure, erasure_id, with_for_update=for_update, populate_existing=for_update
        )

    async def pending_for(self, *, kind: str, subject_hash: str, scope: str) -> Erasure | None:
        """The pending erasure of this name and scope, locked (PostgreSQL)."""
        return await self.session.scalar(
            select(Erasure)
            .where(
                Erasure.subject_kind == kind,
                Erasure.subject_hash == subject_hash,
                Erasure.scope == scope,
                Erasure.status == "pending",
            )
            .with_for_update()
        )

    def add(self, erasure: Erasure) -> None:
        self.session.add(erasure)

    async def complaints_of(self, erasure_id: str) -> Sequence[ErasureComplaint]:
        rows = await self.session.scalars(
            select(ErasureComplaint)
            .where(ErasureComplaint.erasure_id == erasure_id)
            .order_by(ErasureComplaint.complaint_id)
        )
        return rows.all()

    def add_complaint(self, row: ErasureComplaint) -> None:
        self.session.add(row)

    async def held_rows_of(self, complaint_id: str) -> Sequence[ErasureComplaint]:
        """The pending erasures' rows that wait for this complaint's hold to end."""
        rows = await self.session.scalars(
            select(ErasureComplaint)
            .join(Erasure, Erasure.id == ErasureComplaint.erasure_id)
            .where(
                ErasureComplaint.complaint_id == complaint_id,
                ErasureComplaint.held.is_(True),
                Erasure.status == "pending",
            )
            .order_by(ErasureComplaint.erasure_id)
        )
        return rows.all()

    async def add_confirmation(self, row: dict[str, Any]) -> bool:
        """Insert a confirmation unless it is there already; whether it was new."""
        statement = (
            dialect_insert(self.session)(ErasureConfirmation)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["erasure_id", "complaint_id", "service"])
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def confirmations_of(self, erasure_id: str) -> Sequence[ErasureConfirmation]:
        rows = await self.session.scalars(
            select(ErasureConfirmation).where(ErasureConfirmation.erasure_id == erasure_id)
        )
        return rows.all()

    # -- matching a customer's complaints -------------------------------------------------

    async def complaint_ids_by_external_ref(
        self, external_ref: str, *, front_end: str
    ) -> list[str]:
        rows = await self.session.scalars(
            select(Complaint.id)
            .where(Complaint.customer_id == external_ref, Complaint.front_end == front_end)
            .order_by(Complaint.id)
        )
        return list(rows.all())

    async def complaint_ids_by_contact(
        self, *, kind: str, contact_hash: str, front_end: str | None
    ) -> list[str]:
        """Complaints whose ``phone_hash`` / ``email_hash`` is ``contact_hash``; of one
        front end, or of all (None)."""
        column = Complaint.phone_hash if kind == "phone" else Complaint.email_hash
        statement = select(Complaint.id).where(column == contact_hash)
        if front_end is not None:
            statement = statement.where(Complaint.front_end == front_end)
        rows = await self.session.scalars(statement.order_by(Complaint.id))
        return list(rows.all())

    # -- legal holds ----------------------------------------------------------------------

    async def active_hold(self, complaint_id: str, *, for_update: bool = False) -> LegalHold | None:
        statement = select(LegalHold).where(
            LegalHold.complaint_id == complaint_id, LegalHold.released_at.is_(None)
        )
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def latest_hold(self, complaint_id: str) -> LegalHold | None:
        return await self.session.scalar(
            select(LegalHold)
            .where(LegalHold.complaint_id == complaint_id)
            .order_by(LegalHold.placed_at.desc(), LegalHold.id.desc())
            .limit(1)
        )

    async def held_among(self, complaint_ids: Collection[str]) -> set[str]:
        """Which of ``complaint_ids`` are under an active hold."""
        if not complaint_ids:
            return set()
        rows = await self.session.scalars(
            select(LegalHold.complaint_id).where(
                LegalHold.complaint_id.in_(sorted(complaint_ids)),
                LegalHold.released_at.is_(None),
            )
        )
        return set(rows.all())

    async def all_held(self) -> set[str]:
        rows = await self.session.scalars(
            select(LegalHold.complaint_id).where(LegalHold.released_at.is_(None))
        )
        return set(rows.all())

    def add_hold(self, hold: LegalHold) -> None:
        self.session.add(hold)


class IntakeRecords:
    """The rows of intake's own tables that hold a complaint's personal data or texts, and
    the statements that overwrite them (UPDATE in place: no copy is left in a live row)."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def complaints_for_update(self, complaint_ids: Collection[str]) -> Sequence[Complaint]:
        """The complaints, locked in id order (one lock order for every erasure)."""
        rows = await self.session.scalars(
            select(Complaint)
            .where(Complaint.id.in_(sorted(complaint_ids)))
            .order_by(Complaint.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return rows.all()

    async def history_of(self, complaint_ids: Collection[str]) -> Sequence[HistoryEntry]:
        rows = await self.session.scalars(
            select(HistoryEntry).where(HistoryEntry.complaint_id.in_(sorted(complaint_ids)))
        )
        return rows.all()

    async def blank_messages(self, complaint_ids: Collection[str]) -> None:
        """The customer's messages keep their time and channel, not their text."""
        await self.session.execute(
            update(CustomerMessage)
            .where(CustomerMessage.complaint_id.in_(sorted(complaint_ids)))
            .values(text="", attachments=[])
        )

    async def delete_tracking_codes(self, complaint_ids: Collection[str]) -> None:
        await self.session.execute(
            delete(TrackingCode).where(TrackingCode.complaint_id.in_(sorted(complaint_ids)))
        )

    async def delete_page_answers(self, complaint_id: str) -> None:
        """Delete the customer pages' kept answers about the complaint (their keys name
        it: ``page:<action>:<complaint id>:...``; the answers may hold a tracking token)."""
        await self.session.execute(
            delete(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id == 0,
                IdempotencyRecord.key.like(f"page:%:{complaint_id}:%"),
            )
        )

    async def front_end_answers_near(
        self, received_at: datetime, *, window: timedelta
    ) -> Sequence[IdempotencyRecord]:
        """Front ends' kept answers written in ``window`` after ``received_at`` (the answer
        to a keyed POST is written in the complaint's transaction, just after the request
        took its receipt time; a second's leeway before it)."""
        rows = await self.session.scalars(
            select(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id != 0,
                IdempotencyRecord.created_at >= received_at - timedelta(seconds=1),
                IdempotencyRecord.created_at <= received_at + window,
            )
        )
        return rows.all()

    async def delete_answer(self, record: IdempotencyRecord) -> None:
        await self.session.delete(record)
