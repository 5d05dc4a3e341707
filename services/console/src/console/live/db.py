"""The read model of live updates: ``live_cases`` (whose each case is) and
``case_changes`` (one row per event about a case, in id order), and their repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from complaint_runtime.database import Base, BigId, UTCDateTime
from sqlalchemy import String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from console.live.domain.changes import CaseChange, KnownCase

ID = 36
TEAM = 60
USER = 100


class LiveCase(Base):
    """Whose a case is, as the console learned from ``complaint.assigned``."""

    __tablename__ = "live_cases"

    complaint_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    team: Mapped[str | None] = mapped_column(String(TEAM))
    assignee: Mapped[str | None] = mapped_column(String(USER))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CaseChangeRow(Base):
    """One change of one case, for the live streams (pruned after a while)."""

    __tablename__ = "case_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(String(ID))
    event_type: Mapped[str] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(TEAM))
    assignee: Mapped[str | None] = mapped_column(String(USER))
    previous_team: Mapped[str | None] = mapped_column(String(TEAM))
    previous_assignee: Mapped[str | None] = mapped_column(String(USER))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True, slots=True)
class StoredChange:
    id: int
    recorded_at: datetime
    change: CaseChange


class LiveRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def known(self, complaint_id: str) -> KnownCase | None:
        row = await self._session.get(LiveCase, complaint_id)
        if row is None:
            return None
        return KnownCase(team=row.team, assignee=row.assignee, closed=row.closed_at is not None)

    async def remember(self, complaint_id: str, known: KnownCase, *, now: datetime) -> None:
        row = await self._session.get(LiveCase, complaint_id)
        if row is None:
            row = LiveCase(complaint_id=complaint_id)
            self._session.add(row)
        row.team, row.assignee, row.updated_at = known.team, known.assignee, now
        if known.closed and row.closed_at is None:
            row.closed_at = now

    def add_change(self, change: CaseChange, *, now: datetime) -> None:
        self._session.add(
            CaseChangeRow(
                complaint_id=change.complaint_id,
                event_type=change.event_type[:100],
                team=change.team,
                assignee=change.assignee,
                previous_team=change.previous_team,
                previous_assignee=change.previous_assignee,
                occurred_at=change.occurred_at,
                recorded_at=now,
            )
        )

    async def latest_id(self) -> int:
        return int(await self._session.scalar(select(func.max(CaseChangeRow.id))) or 0)

    async def changes_after(self, cursor: int, *, limit: int) -> list[StoredChange]:
        rows = await self._session.scalars(
            select(CaseChangeRow)
            .where(CaseChangeRow.id > cursor)
            .order_by(CaseChangeRow.id)
            .limit(limit)
        )
        return [_stored(row) for row in rows]

    async def prune(self, *, changes_before: datetime, closed_before: datetime) -> int:
        changes = await self._session.execute(
            delete(CaseChangeRow).where(CaseChangeRow.recorded_at < changes_before)
        )
        cases = await self._session.execute(
            delete(LiveCase).where(LiveCase.closed_at < closed_before)
        )
        return int(changes.rowcount or 0) + int(cases.rowcount or 0)  # type: ignore[attr-defined]


def _stored(row: CaseChangeRow) -> StoredChange:
    return StoredChange(
        id=row.id,
        recorded_at=row.recorded_at,
        change=CaseChange(
            complaint_id=row.complaint_id,
            event_type=row.event_type,
            occurred_at=row.occurred_at,
            team=row.team,
            assignee=row.assignee,
            previous_team=row.previous_team,
            previous_assignee=row.previous_assignee,
        ),
    )
