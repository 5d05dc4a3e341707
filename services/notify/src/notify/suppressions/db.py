"""The ``suppressions`` table: recipients (by notify's keyed hash, never the address) that
bounced or unsubscribed on a channel, and its one repository."""

from __future__ import annotations

from datetime import datetime

from complaint_runtime.database import Base, UTCDateTime, dialect_insert, utcnow
from sqlalchemy import String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column


class Suppression(Base):
    __tablename__ = "suppressions"

    recipient_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16), primary_key=True)
    # What caused it: the bounced delivery, the unsubscribe link's delivery, an SMS keyword.
    detail: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SuppressionRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(
        self, *, recipient_key: str, channel: str, reason: str, detail: str, now: datetime
    ) -> bool:
        """Record a suppression; False when the recipient was already suppressed so (the
        first cause stays)."""
        statement = (
            dialect_insert(self.session)(Suppression)
            .values(
                recipient_key=recipient_key,
                channel=channel,
                reason=reason,
                detail=detail[:200],
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["recipient_key", "channel", "reason"])
        )
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def reasons(self, *, recipient_key: str, channel: str) -> list[str]:
        query = (
            select(Suppression.reason)
            .where(Suppression.recipient_key == recipient_key, Suppression.channel == channel)
            .order_by(Suppression.reason)
        )
        return list(await self.session.scalars(query))
