"""What notify keeps of each complaint from its events: the team routing last assigned it
(who may read its delivery log), assignee, reference and priority (what staff notices show);
ids and codes only, nothing of the customer."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from complaint_runtime.database import Base, UTCDateTime
from sqlalchemy import String, Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column


class ComplaintTeam(Base):
    __tablename__ = "complaint_teams"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team: Mapped[str | None] = mapped_column(String(60))
    # What staff notices show of the complaint, from its own events (never intake's
    # contacts): its reference (complaint.received), assignee (complaint.assigned) and
    # priority (complaint.triaged).
    reference: Mapped[str | None] = mapped_column(String(40))
    assignee: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


_TEAMS = cast(Table, ComplaintTeam.__table__)


def upsert_facts(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Set facts of ``rows``' complaints in one statement (one row per complaint, each row
    with the same columns: only those are changed). Synchronous, on the ORM session, so that
    it can run from ``before_commit``."""
    if not rows:
        return
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(_TEAMS)
    columns = [c for c in rows[0] if c != "complaint_id"]
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_TEAMS.c.complaint_id],
            set_={column: statement.excluded[column] for column in columns},
        ),
        list(rows),
    )


class ComplaintTeamRepository:
    def __init__(self, session: AsyncSession):
        self.session = session

    async def team_of(self, complaint_id: str) -> str | None:
        return await self.session.scalar(
            select(ComplaintTeam.team).where(ComplaintTeam.complaint_id == complaint_id)
        )

    async def forget(self, complaint_id: str) -> None:
        await self.session.execute(
            update(ComplaintTeam)
            .where(ComplaintTeam.complaint_id == complaint_id)
            .values(reference=None, assignee=None)
        )

    async def facts_of(self, complaint_ids: Collection[str]) -> dict[str, ComplaintTeam]:
        if not complaint_ids:
            return {}
        rows = await self.session.scalars(
            select(ComplaintTeam).where(ComplaintTeam.complaint_id.in_(list(complaint_ids)))
        )
        return {row.complaint_id: row for row in rows}
