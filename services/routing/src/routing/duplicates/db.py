"""Routing's customer index (§4 duplicates and repeats).

Nothing here is a raw contact: identity keys are intake's keyed hashes, the fingerprint is
the already-masked description, normalised. An erasure removes both (``forget``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from complaint_runtime.database import Base, UTCDateTime
from sqlalchemy import Index, Integer, String, Text, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from routing.db import Case
from routing.duplicates.domain.detection import CUSTOMER_REF_KIND, Earlier, Incoming
from routing.duplicates.domain.manual import HELD

KEY_LENGTH = 80  # "ref:cus_" + 32 hex digits, "email:" + 32 hex digits, …
ORDER_REF_LENGTH = 100


class CustomerComplaint(Base):
    """One complaint as the duplicate and repeat rules see it."""

    __tablename__ = "customer_complaints"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    order_ref: Mapped[str | None] = mapped_column(String(ORDER_REF_LENGTH))
    fingerprint: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duplicate_of: Mapped[str | None] = mapped_column(String(36), index=True)
    repeat_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CustomerIdentityKey(Base):
    """identity key → complaint: every complaint is reachable from each of its keys."""

    __tablename__ = "customer_identity_keys"
    __table_args__ = (
        Index("ix_customer_identity_keys_key_received", "identity_key", "received_at"),
    )

    identity_key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerIndex:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def earlier(self, *, keys: Iterable[str], since: datetime) -> list[Earlier]:
        """The customer's complaints received since ``since``, with their current case
        status and category (a supervisor's correction counts)."""
        ids = set(
            await self.session.scalars(
                select(CustomerIdentityKey.complaint_id).where(
                    CustomerIdentityKey.identity_key.in_(list(keys)),
                    CustomerIdentityKey.received_at >= since,
                )
            )
        )
        if not ids:
            return []
        rows = await self.session.execute(
            select(CustomerComplaint, Case.status, Case.category)
            .join(Case, Case.complaint_id == CustomerComplaint.complaint_id)
            .where(CustomerComplaint.complaint_id.in_(ids))
        )
        key_rows = await self.session.execute(
            select(CustomerIdentityKey.complaint_id, CustomerIdentityKey.identity_key).where(
                CustomerIdentityKey.complaint_id.in_(ids)
            )
        )
        keys_of: dict[str, set[str]] = {}
        for complaint_id, key in key_rows:
            keys_of.setdefault(complaint_id, set()).add(key)
        return [
            Earlier(
                complaint_id=row.complaint_id,
                keys=frozenset(keys_of.get(row.complaint_id, ())),
                order_ref=row.order_ref,
                fingerprint=row.fingerprint,
                received_at=row.received_at,
                category=category,
                is_open=status != "closed",
                duplicate_of=row.duplicate_of,
            )
            for row, status, category in rows
        ]

    def add(self, incoming: Incoming, *, duplicate_of: str | None, repeat_count: int) -> None:
        self.session.add(
            CustomerComplaint(
                complaint_id=incoming.complaint_id,
                order_ref=(incoming.order_ref or "")[:ORDER_REF_LENGTH] or None,
                fingerprint=incoming.fingerprint,
                received_at=incoming.received_at,
                duplicate_of=duplicate_of,
                repeat_count=repeat_count,
            )
        )
        for key in sorted(incoming.keys):
            self.session.add(
                CustomerIdentityKey(
                    identity_key=key[:KEY_LENGTH],
                    complaint_id=incoming.complaint_id,
                    received_at=incoming.received_at,
                )
            )

    async def get(self, complaint_id: str) -> CustomerComplaint | None:
        return await self.session.get(CustomerComplaint, complaint_id)

    async def fresh(self, complaint_id: str) -> CustomerComplaint | None:
        """The entry as committed now, not as this session first read it: call it once the
        case row is locked (every change of a link locks its copy's case row first)."""
        return await self.session.get(CustomerComplaint, complaint_id, populate_existing=True)

    async def keys_of(self, complaint_id: str) -> frozenset[str]:
        rows = await self.session.scalars(
            select(CustomerIdentityKey.identity_key).where(
                CustomerIdentityKey.complaint_id == complaint_id
            )
        )
        return frozenset(rows)

    async def link(self, *, complaint_id: str, duplicate_of: str, received_at: datetime) -> None:
        """Staff linked ``complaint_id`` to ``duplicate_of`` by hand; a case older than the
        index gets an entry (no keys, no text: it only carries the link)."""
        entry = await self.get(complaint_id)
        if entry is not None:
            entry.duplicate_of = duplicate_of
            return
        self.session.add(
            CustomerComplaint(
                complaint_id=complaint_id,
                order_ref=None,
                fingerprint="",
                received_at=received_at,
                duplicate_of=duplicate_of,
                repeat_count=0,
            )
        )

    async def open_duplicates_of(self, original_id: str) -> list[str]:
        """The copies of ``original_id`` that are not closed yet, oldest first."""
        rows = await self.session.scalars(
            select(CustomerComplaint.complaint_id)
            .join(Case, Case.complaint_id == CustomerComplaint.complaint_id)
            .where(CustomerComplaint.duplicate_of == original_id, Case.status != "closed")
            .order_by(CustomerComplaint.received_at, CustomerComplaint.complaint_id)
        )
        return list(rows)

    async def held_copies_of(self, original_id: str) -> int:
        """How many copies of ``original_id`` routing holds back (``received``), waiting on
        it to close; a copy reopened after its merge waits on nothing."""
        found = await self.session.scalar(
            select(func.count())
            .select_from(CustomerComplaint)
            .join(Case, Case.complaint_id == CustomerComplaint.complaint_id)
            .where(CustomerComplaint.duplicate_of == original_id, Case.status == HELD)
        )
        return int(found or 0)

    async def copies_of(self, original_id: str, *, limit: int) -> list[Case]:
        """Every copy linked to ``original_id`` (open or closed), oldest first."""
        rows = await self.session.scalars(
            select(Case)
            .join(CustomerComplaint, CustomerComplaint.complaint_id == Case.complaint_id)
            .where(CustomerComplaint.duplicate_of == original_id)
            .order_by(Case.received_at, Case.complaint_id)
            .limit(limit)
        )
        return list(rows)

    async def earlier_of(self, complaint: Case, *, limit: int) -> list[Case]:
        """The same customer's other complaints received up to ``complaint`` (sharing any
        identity key with it), newest first."""
        mine = aliased(CustomerIdentityKey)
        theirs = aliased(CustomerIdentityKey)
        same_customer = (
            select(theirs.complaint_id)
            .join(mine, mine.identity_key == theirs.identity_key)
            .where(
                mine.complaint_id == complaint.complaint_id,
                theirs.complaint_id != complaint.complaint_id,
            )
        )
        rows = await self.session.scalars(
            select(Case)
            .where(Case.complaint_id.in_(same_customer), Case.received_at <= complaint.received_at)
            .order_by(Case.received_at.desc(), Case.complaint_id.desc())
            .limit(limit)
        )
        return list(rows)

    async def replace_contact_keys(self, complaint_id: str, identity_keys: Iterable[str]) -> bool:
        """The complaint's keys from the customer's identifiers become ``identity_keys``;
        its ``ref:`` key stays. Only the difference is written, so applying the same keys
        again changes nothing. False, and nothing changed, for a complaint the index holds
        no key of (older than the index, or erased: re-keying would link it again)."""
        current = await self.keys_of(complaint_id)
        entry = await self.get(complaint_id)
        if not current or entry is None:
            return False
        wanted = {key[:KEY_LENGTH] for key in identity_keys}
        ref_prefix = f"{CUSTOMER_REF_KIND}:"
        stale = [k for k in current if not k.startswith(ref_prefix) and k not in wanted]
        if stale:
            await self.session.execute(
                delete(CustomerIdentityKey).where(
                    CustomerIdentityKey.complaint_id == complaint_id,
                    CustomerIdentityKey.identity_key.in_(stale),
                )
            )
        for key in sorted(wanted - current):
            self.session.add(
                CustomerIdentityKey(
                    identity_key=key, complaint_id=complaint_id, received_at=entry.received_at
                )
            )
        return True

    async def forget(self, complaint_id: str) -> None:
        """Erasure (§10): the keys that link the customer's complaints and the text go."""
        await self.session.execute(
            delete(CustomerIdentityKey).where(CustomerIdentityKey.complaint_id == complaint_id)
        )
        values: dict[str, Any] = {"fingerprint": "", "order_ref": None}
        await self.session.execute(
            update(CustomerComplaint)
            .where(CustomerComplaint.complaint_id == complaint_id)
            .values(**values)
        )
