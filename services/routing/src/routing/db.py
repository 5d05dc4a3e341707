"""Routing's tables: one case per complaint, with the triage decision that explains it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from complaint_runtime.database import Base, OutboxMessage, ProcessedEvent, UTCDateTime
from sqlalchemy import JSON, Float, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

__all__ = ["Base", "Case", "CaseRepository", "OutboxMessage", "ProcessedEvent"]


class Case(Base):
    __tablename__ = "cases"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reference: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    customer_ref: Mapped[str] = mapped_column(String(40), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(40))
    subcategory: Mapped[str | None] = mapped_column(String(60))
    confidence: Mapped[float] = mapped_column(Float)
    priority: Mapped[str] = mapped_column(String(4))
    emotion: Mapped[str] = mapped_column(String(8))
    rules_fired: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    team: Mapped[str | None] = mapped_column(String(60))
    assignee: Mapped[str | None] = mapped_column(String(100))
    owner: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, complaint_id: str) -> Case | None:
        return await self.session.get(Case, complaint_id)

    def add(self, case: Case) -> None:
        self.session.add(case)
