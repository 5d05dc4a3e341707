"""The read model of live updates: ``live_cases`` (whose each case is),
``case_changes`` (one row per event about a case, in id order) and ``case_presence`` (who
is writing on a case, until when), and their repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from complaint_runtime.database import Base, BigId, UTCDateTime, dialect_insert
from sqlalchemy import String, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from console.live.domain.changes import CaseChange, KnownCase
from console.live.domain.presence import Writer, activity_of

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


class CasePresence(Base):
    """A user writing on a case, until ``expires_at`` (each keystroke report moves it on;
    expired rows are ignored at once and pruned with the changes)."""

    __tablename__ = "case_presence"

    complaint_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(USER), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(USER))
    activity: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


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

    async def prune(
        self, *, changes_before: datetime, closed_before: datetime, now: datetime
    ) -> int:
        changes = await self._session.execute(
            delete(CaseChangeRow).where(CaseChangeRow.recorded_at < changes_before)
        )
        cases = await self._session.execute(
            delete(LiveCase).where(LiveCase.closed_at < closed_before)
        )
        present = await self._session.execute(
            delete(CasePresence).where(CasePresence.expires_at <= now)
        )
        results: tuple[Any, ...] = (changes, cases, present)
        return sum(int(r.rowcount or 0) for r in results)

    async def note_writing(
        self,
        *,
        complaint_id: str,
        user_id: str,
        display_name: str,
        activity: str,
        expires_at: datetime,
    ) -> None:
        """One row per user and case, moved on by each report (an upsert: two replicas
        handling the same user's reports never conflict)."""
        values = {"display_name": display_name, "activity": activity, "expires_at": expires_at}
        statement = (
            dialect_insert(self._session)(CasePresence)
            .values(complaint_id=complaint_id, user_id=user_id, **values)
            .on_conflict_do_update(index_elements=["complaint_id", "user_id"], set_=values)
        )
        await self._session.execute(statement)

    async def clear_writing(self, *, complaint_id: str, user_id: str) -> None:
        """The user is no longer writing on the case (they sent what they wrote)."""
        await self._session.execute(
            delete(CasePresence).where(
                CasePresence.complaint_id == complaint_id, CasePresence.user_id == user_id
            )
        )

    async def writers(self, complaint_id: str, *, now: datetime, besides: str) -> list[Writer]:
        """Who is writing on the case at ``now``, ``besides`` the asking user, by name."""
        rows = await self._session.scalars(
            select(CasePresence)
            .where(
                CasePresence.complaint_id == complaint_id,
                CasePresence.user_id != besides,
                CasePresence.expires_at > now,
            )
            .order_by(CasePresence.display_name)
        )
        return [Writer(r.user_id, r.display_name, activity_of(r.activity)) for r in rows]


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
