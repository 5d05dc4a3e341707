"""The canned replies table and its repository: an administrator's ready-made answer for a
category (NULL: any category) in one language."""

from __future__ import annotations

from datetime import datetime

from complaint_runtime.database import Base, BigId, UTCDateTime
from sqlalchemy import Index, String, Text, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column


class CannedReply(Base):
    __tablename__ = "canned_replies"
    __table_args__ = (Index("ix_canned_replies_category_language", "category", "language"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    category: Mapped[str | None] = mapped_column(String(40))  # NULL: for any category
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CannedReplyRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def matching(
        self, *, category: str | None, language: str | None, limit: int
    ) -> list[CannedReply]:
        """The replies for ``category`` and those for any category (``category`` None:
        every reply), in ``language`` if given: the category's own first, then by
        language, title and id."""
        query = select(CannedReply)
        if category is not None:
            query = query.where(
                or_(CannedReply.category == category, CannedReply.category.is_(None))
            )
        if language is not None:
            query = query.where(CannedReply.language == language)
        query = query.order_by(
            CannedReply.category.is_(None),
            CannedReply.category,
            CannedReply.language,
            CannedReply.title,
            CannedReply.id,
        ).limit(limit)
        return list(await self.session.scalars(query))

    async def get(self, reply_id: int) -> CannedReply | None:
        return await self.session.get(CannedReply, reply_id)

    async def add(self, reply: CannedReply) -> CannedReply:
        self.session.add(reply)
        await self.session.flush()
        return reply

    async def delete(self, reply_id: int) -> bool:
        result = await self.session.execute(delete(CannedReply).where(CannedReply.id == reply_id))
        return bool(getattr(result, "rowcount", 0))
