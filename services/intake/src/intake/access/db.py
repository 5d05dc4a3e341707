"""The front ends' API keys, stored as SHA-256 hashes only, with who made, rotated and
revoked each one and when (the rules: :mod:`intake.access.domain.front_ends`)."""

from __future__ import annotations

from datetime import datetime

from complaint_runtime.database import Base, BigId, UTCDateTime, utcnow
from sqlalchemy import JSON, ForeignKey, String, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    # The front end the key belongs to: stable across its keys' rotations.
    front_end: Mapped[str] = mapped_column(String(100), index=True)
    channels: Mapped[list[str]] = mapped_column(JSON)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(100))
    # When the key stops working: a future time while it is rotated out, a past one once
    # revoked (see intake.access.domain.front_ends).
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
    # The key this one replaced (intake-admin rotate-api-key).
    rotated_from: Mapped[int | None] = mapped_column(BigId, ForeignKey("api_keys.id"))


class ApiKeyRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def active_by_hash(self, key_hash: str, *, now: datetime) -> ApiKey | None:
        """The key with this hash, unless it stopped working by ``now``."""
        return await self.session.scalar(
            select(ApiKey).where(
                ApiKey.key_hash == key_hash,
                or_(ApiKey.revoked_at.is_(None), ApiKey.revoked_at > now),
            )
        )

    async def locked(self, key_id: int) -> ApiKey | None:
        """The key, locked for a change (two rotations of one key cannot both win)."""
        return await self.session.get(ApiKey, key_id, with_for_update=True)

    async def all(self, *, front_end: str | None = None) -> list[ApiKey]:
        """Every key (of one front end), by front end, oldest first."""
        query = select(ApiKey).order_by(ApiKey.front_end, ApiKey.id)
        if front_end is not None:
            query = query.where(ApiKey.front_end == front_end)
        return list(await self.session.scalars(query))

    async def add(
        self,
        *,
        key_hash: str,
        front_end: str,
        label: str,
        channels: list[str],
        scopes: list[str],
        created_by: str | None,
        rotated_from: int | None = None,
    ) -> ApiKey:
        key = ApiKey(
            key_hash=key_hash,
            front_end=front_end,
            label=label,
            channels=channels,
            scopes=scopes,
            created_by=created_by,
            rotated_from=rotated_from,
        )
        self.session.add(key)
        await self.session.flush()  # its id, for the answer
        return key
