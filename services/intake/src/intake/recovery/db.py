"""The one-time codes of lost-link recovery (one row per request, decoys included).

A row belongs to the browser that asked (``flow_hash``: the SHA-256 of the random value in
its recovery cookie), so a code is entered where it was asked for, and the latest row of a
flow is the one its code page checks. ``code_enc`` is the only readable copy of the code:
notify reads it once and it is dropped (see :mod:`intake.recovery.service`).
"""

from __future__ import annotations

from datetime import datetime

from complaint_runtime.database import UTCDateTime
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from intake.db import ID_LENGTH, Base


class TrackingCode(Base):
    """A code request: real (``complaint_id`` and ``code_hash`` set) or a decoy (neither)."""

    __tablename__ = "tracking_codes"

    request_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    flow_hash: Mapped[str] = mapped_column(String(64), index=True)
    complaint_id: Mapped[str | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TrackingCodeRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    def add(self, row: TrackingCode) -> None:
        self.session.add(row)

    async def latest_of_flow(self, flow_hash: str) -> TrackingCode | None:
        """The flow's latest request, locked until the transaction ends (PostgreSQL): two
        entries posted at once count their attempts one after the other."""
        rows = await self.session.scalars(
            select(TrackingCode)
            .where(TrackingCode.flow_hash == flow_hash)
            .order_by(TrackingCode.created_at.desc(), TrackingCode.request_id.desc())
            .limit(1)
            .with_for_update()
        )
        return rows.first()

    async def get_for_update(self, request_id: str) -> TrackingCode | None:
        if len(request_id) > ID_LENGTH:
            return None
        return await self.session.get(
            TrackingCode, request_id, with_for_update=True, populate_existing=True
        )

    async def delete_expired(self, *, before: datetime) -> None:
        """Requests that expired before ``before`` are of no use to anyone any more."""
        await self.session.execute(
            delete(TrackingCode)
            .where(TrackingCode.expires_at < before)
            .execution_options(synchronize_session=False)
        )
