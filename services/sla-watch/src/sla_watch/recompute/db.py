"""Recompute jobs as data: one row per policy or calendar change, worked in batches by the
recompute loop, with its repository."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from complaint_runtime.database import Base, BigId, UTCDateTime, utcnow
from sqlalchemy import Index, Integer, String, Text, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

JobReason = Literal["policy_changed", "calendar_changed"]

_OPEN_JOB = text("state IN ('pending', 'running')")


class RecomputeJob(Base):
    __tablename__ = "sla_recompute_jobs"
    __table_args__ = (
        Index(
            "ix_sla_recompute_jobs_open",
            "id",
            postgresql_where=_OPEN_JOB,
            sqlite_where=_OPEN_JOB,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reason: Mapped[str] = mapped_column(String(20))
    # None: every open clock (a policy change); else the clocks counting in that calendar.
    calendar_id: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    # The last clock_id handled: a job resumes after it (keyset), also after a crash.
    cursor: Mapped[str | None] = mapped_column(String(36))
    clocks_seen: Mapped[int] = mapped_column(Integer, default=0)
    clocks_moved: Mapped[int] = mapped_column(Integer, default=0)
    config_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class JobRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def enqueue(
        self, *, reason: JobReason, calendar_id: str | None, config_version: int
    ) -> RecomputeJob:
        job = RecomputeJob(
            reason=reason,
            calendar_id=calendar_id,
            state="pending",
            clocks_seen=0,
            clocks_moved=0,
            config_version=config_version,
            created_at=utcnow(),
        )
        self.session.add(job)
        await self.session.flush()
        return job

    async def get(self, job_id: int) -> RecomputeJob | None:
        return await self.session.get(RecomputeJob, job_id)

    async def recent(self, *, limit: int) -> Sequence[RecomputeJob]:
        return (
            await self.session.scalars(
                select(RecomputeJob).order_by(RecomputeJob.id.desc()).limit(limit)
            )
        ).all()

    async def next_open(self) -> RecomputeJob | None:
        """The oldest unfinished job, locked for this transaction (PostgreSQL: one replica
        works a job at a time; the others skip it)."""
        query = (
            select(RecomputeJob)
            .where(RecomputeJob.state.in_(("pending", "running")))
            .order_by(RecomputeJob.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(query)).first()
