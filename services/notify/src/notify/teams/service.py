"""What notify keeps of each complaint from the complaint's own events: its team (routing's
``complaint.assigned``; who may read its delivery log), assignee, reference (intake's
``complaint.received``) and priority (``complaint.triaged``, ``complaint.recategorized``).

Staff notices are written from these facts, never from the customer's contacts: telling an
agent or a team's group chat about a complaint reads nothing of the customer.

A consumer's batch records its facts in one statement per kind: they are kept in the
session and upserted just before the commit (the last value of a complaint in the batch
wins, each kind of fact leaves the others alone); inside a savepoint (a batch applied record
by record) they are written at once, and roll back with it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Final

from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.identity import Principal
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from notify.teams.db import ComplaintTeam, ComplaintTeamRepository, upsert_facts
from notify.teams.domain.visibility import may_read_deliveries

TEAM_LENGTH: Final = 60
ASSIGNEE_LENGTH: Final = 200
REFERENCE_LENGTH: Final = 40
_STAGED: Final = "notify.staged_facts"

Facts = dict[str, object]


async def record_team(
    *,
    uow: UnitOfWork,
    complaint_id: str,
    team: str,
    at: datetime,
    assignee: str | None = None,
) -> None:
    """The complaint's team and assignee are now these (a later assignment replaces them)."""
    await _record(
        uow,
        complaint_id,
        {"team": team[:TEAM_LENGTH], "assignee": (assignee or None) and assignee[:ASSIGNEE_LENGTH]},
        at,
    )


async def record_reference(
    *, uow: UnitOfWork, complaint_id: str, reference: str, at: datetime
) -> None:
    await _record(uow, complaint_id, {"reference": reference[:REFERENCE_LENGTH]}, at)


async def record_priority(
    *, uow: UnitOfWork, complaint_id: str, priority: str, at: datetime
) -> None:
    await _record(uow, complaint_id, {"priority": priority[:8]}, at)


async def _record(uow: UnitOfWork, complaint_id: str, values: Facts, at: datetime) -> None:
    row: Facts = {"complaint_id": complaint_id, **values, "updated_at": at}
    if uow.session.in_nested_transaction():
        await uow.session.run_sync(upsert_facts, [row])
        return
    staged = _staged(uow)
    kind = tuple(sorted(values))
    staged.setdefault(kind, {})[complaint_id] = row


def _staged(uow: UnitOfWork) -> dict[tuple[str, ...], dict[str, Facts]]:
    staged: dict[tuple[str, ...], dict[str, Facts]] | None = uow.session.info.get(_STAGED)
    if staged is not None:
        return staged
    staged = uow.session.info[_STAGED] = {}

    def write_before_commit(session: Session) -> None:
        for rows in staged.values():
            if rows:
                upsert_facts(session, list(rows.values()))
        staged.clear()

    def drop_on_rollback(_session: Session, previous: SessionTransaction) -> None:
        if not previous.nested:
            staged.clear()

    event.listen(uow.session.sync_session, "before_commit", write_before_commit)
    event.listen(uow.session.sync_session, "after_soft_rollback", drop_on_rollback)
    return staged


async def forget_customer_links(*, uow: UnitOfWork, complaint_id: str) -> None:
    """An erasure: the complaint's reference (it links the customer's other records) and
    assignee go, also from facts staged earlier in this transaction; the team stays (who
    may read the blanked delivery log)."""
    for rows in _staged(uow).values():
        rows.pop(complaint_id, None)
    await ComplaintTeamRepository(uow.session).forget(complaint_id)


async def facts_of(
    *, session: AsyncSession, complaint_ids: Collection[str]
) -> dict[str, ComplaintTeam]:
    """The facts notify holds of these complaints (one query)."""
    return await ComplaintTeamRepository(session).facts_of(complaint_ids)


async def may_read_log(*, database: Database, principal: Principal, complaint_id: str) -> bool:
    if may_read_deliveries(roles=principal.roles, team=principal.team, complaint_team=None):
        return True  # sees every complaint's: no need to look the team up
    async with database.sessions() as session:
        team = await ComplaintTeamRepository(session).team_of(complaint_id)
    return may_read_deliveries(roles=principal.roles, team=principal.team, complaint_team=team)
