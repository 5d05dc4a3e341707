"""Recording a complaint's team (routing's ``complaint.assigned``) and checking who may
read a complaint's delivery log with it.

A consumer's batch records its teams in one statement: they are kept in the session and
upserted just before the commit (the last assignment of a complaint in the batch wins);
inside a savepoint (a batch applied record by record) they are written at once, and roll
back with it."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.identity import Principal
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from notify.teams.db import ComplaintTeamRepository, upsert_teams
from notify.teams.domain.visibility import may_read_deliveries

TEAM_LENGTH: Final = 60
_STAGED: Final = "notify.staged_teams"


async def record_team(*, uow: UnitOfWork, complaint_id: str, team: str, at: datetime) -> None:
    """The complaint's team is now ``team`` (a later assignment replaces it)."""
    row = {"complaint_id": complaint_id, "team": team[:TEAM_LENGTH], "updated_at": at}
    if uow.session.in_nested_transaction():
        await uow.session.run_sync(upsert_teams, [row])
        return
    _staged(uow)[complaint_id] = row


def _staged(uow: UnitOfWork) -> dict[str, dict[str, object]]:
    staged: dict[str, dict[str, object]] | None = uow.session.info.get(_STAGED)
    if staged is not None:
        return staged
    staged = uow.session.info[_STAGED] = {}

    def write_before_commit(session: Session) -> None:
        if staged:
            upsert_teams(session, list(staged.values()))
            staged.clear()

    def drop_on_rollback(_session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:
            staged.clear()

    event.listen(uow.session.sync_session, "before_commit", write_before_commit)
    event.listen(uow.session.sync_session, "after_soft_rollback", drop_on_rollback)
    return staged


async def may_read_log(*, database: Database, principal: Principal, complaint_id: str) -> bool:
    if may_read_deliveries(roles=principal.roles, team=principal.team, complaint_team=None):
        return True  # sees every complaint's: no need to look the team up
    async with database.sessions() as session:
        team = await ComplaintTeamRepository(session).team_of(complaint_id)
    return may_read_deliveries(roles=principal.roles, team=principal.team, complaint_team=team)
