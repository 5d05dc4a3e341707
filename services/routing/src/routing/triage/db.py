"""Triage's table: the irritation streak of each case (§4), kept between customer messages.

Nothing here is a raw contact: the runs are counts per irritation word. An erasure removes
the row (``forget``).
"""

from __future__ import annotations

from datetime import datetime

from complaint_runtime.database import Base, UTCDateTime, utcnow
from sqlalchemy import JSON, Integer, String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column


class EmotionStreak(Base):
    """The run length of each irritation word over the case's latest customer messages."""

    __tablename__ = "emotion_streaks"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    runs: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    messages: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmotionStreakRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get_for_update(self, complaint_id: str) -> EmotionStreak | None:
        return await self.session.get(EmotionStreak, complaint_id, with_for_update=True)

    def start(self, complaint_id: str, runs: dict[str, int], *, messages: int = 1) -> EmotionStreak:
        streak = EmotionStreak(
            complaint_id=complaint_id, runs=runs, messages=messages, updated_at=utcnow()
        )
        self.session.add(streak)
        return streak

    async def forget(self, complaint_id: str) -> None:
        """Erasure (§10): the case's streak goes with the customer's other data."""
        await self.session.execute(
            delete(EmotionStreak).where(EmotionStreak.complaint_id == complaint_id)
        )
