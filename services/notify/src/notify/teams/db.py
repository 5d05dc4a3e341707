"""Each complaint's team as routing last assigned it: what notify needs to answer "may
this lead read the complaint's delivery log?" (ids only, nothing of the customer)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from complaint_runtime.database import Base, UTCDateTime
from sqlalchemy import String, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column


class ComplaintTeam(Base):
    __tablename__ = "complaint_teams"

    complaint_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    team: Mapped[str] = mapped_column(String(60))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


_TEAMS = cast(Table, ComplaintTeam.__table__)


def upsert_teams(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Set the teams of ``rows``' complaints in one statement (one row per complaint).
    Synchronous, on the ORM session, so that it can run from ``before_commit``."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(_TEAMS)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_TEAMS.c.complaint_id],
            set_={"team": statement.excluded.team, "updated_at": statement.excluded.updated_at},
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
