"""The front ends' API keys, stored as SHA-256 hashes only."""

from __future__ import annotations

from datetime import datetime

from complaint_runtime.database import Base, BigId, UTCDateTime, utcnow
from sqlalchemy import JSON, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    channels: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKeyRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def active_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key with this hash, unless it was revoked."""
        return await self.session.scalar(
            select(ApiKey).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))
        )

    def add(self, *, key_hash: str, label: str, channels: list[str]) -> None:
        self.session.add(ApiKey(key_hash=key_hash, label=label, channels=channels))
