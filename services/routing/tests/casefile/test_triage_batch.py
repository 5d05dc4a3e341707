"""A consumer's batch of new complaints: the preload answers "has it a case already?" for
all of them in one statement, the owning team is read once per category and its agents
once per team (the batch's claims keep them true), and a new case
goes in already triaged (no flush of its own, no UPDATE after its INSERT). The cases are
the same as one at a time."""

from __future__ import annotations

from typing import Any

from complaint_runtime.database import Database
from routing import messaging
from routing.bootstrap import Dependencies
from routing.db import Case, CaseAction
from sqlalchemy import event, select

from ..conftest import Seed, consumed
from .conftest import received


def _snapshot(case: Case) -> tuple[Any, ...]:
    return (case.status, case.category, case.priority, case.team, case.assignee, case.version)


async def _cases(database: Database, ids: list[str]) -> list[tuple[Any, ...]]:
    async with database.sessions() as session:
        rows = {c.complaint_id: c for c in await session.scalars(select(Case))}
    return [_snapshot(rows[i]) for i in ids]


async def _history(database: Database, cid: str) -> list[tuple[str, str | None]]:
    async with database.sessions() as session:
        actions = await session.scalars(
            select(CaseAction).where(CaseAction.complaint_id == cid).order_by(CaseAction.id)
        )
        return [(a.action, a.to_status) for a in actions]


async def test_a_batch_of_new_complaints_reads_no_case_and_no_ownership_per_complaint(
    deps: Dependencies, database: Database, seed: Seed
) -> None:
    await seed([{"id": "agent-li", "team": "billing", "capacity": 50}])
    handlers = messaging.handlers(deps)
    one_by_one = [received(reference=f"C-20261201-{i:06d}") for i in range(4)]
    for data in one_by_one:
        async with database.unit_of_work() as uow:
            await handlers[type(data)](uow, consumed(data, source="intake"))
    batch = [received(reference=f"C-20261201-{i:06d}") for i in range(10, 14)]
    envelopes = [consumed(data, source="intake") for data in batch]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        async with database.unit_of_work() as uow:
            await messaging.preload(uow, envelopes)
            for envelope in envelopes:
                await handlers[type(envelope.data)](uow, envelope)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    def matching(prefix: str) -> int:
        return sum(1 for s in statements if s.startswith(prefix))

    assert matching("SELECT cases.") == 1  # the preload, for all four
    assert matching("SELECT team_categories.") == 1  # one category, read once
    assert matching("SELECT agents.") == 1  # one team, read once, kept true by its claims
    assert matching("UPDATE agents SET open_load") == 4  # each claim still checked in SQL
    assert matching("INSERT INTO cases ") == 4
    assert matching("UPDATE cases SET sla_") == 0  # inserted with the empty summary
    assert matching("UPDATE cases SET status=?, last_activity_at=?") == 0  # inserted triaged
    expected = await _cases(database, [d.complaint_id for d in one_by_one])
    assert await _cases(database, [d.complaint_id for d in batch]) == expected
    assert expected[0][0] == "assigned"
    assert expected[0][4] == "agent-li"
    assert await _history(database, batch[0].complaint_id) == await _history(
        database, one_by_one[0].complaint_id
    )


async def test_a_complaint_sent_twice_in_one_batch_gets_one_case(
    deps: Dependencies, database: Database, seed: Seed
) -> None:
    await seed([{"id": "agent-li", "team": "billing", "capacity": 50}])
    handlers = messaging.handlers(deps)
    data = received(reference="C-20261201-000001")
    envelopes = [consumed(data, source="intake"), consumed(data, source="intake")]
    async with database.unit_of_work() as uow:
        await messaging.preload(uow, envelopes)
        for envelope in envelopes:
            await handlers[type(envelope.data)](uow, envelope)

    async with database.sessions() as session:
        cases = list(await session.scalars(select(Case)))
    assert [c.complaint_id for c in cases] == [data.complaint_id]
    assert [a for a, _ in await _history(database, data.complaint_id)].count("assigned") == 1


async def test_the_agents_read_once_are_ranked_with_the_batchs_own_claims(
    deps: Dependencies, database: Database, seed: Seed
) -> None:
    """Two free agents of one team: a batch of four complaints goes two and two, the least
    loaded first, because each claim is counted in the agents the ranking read once."""
    await seed(
        [
            {"id": "agent-li", "team": "billing", "capacity": 10},
            {"id": "agent-wu", "team": "billing", "capacity": 10},
        ]
    )
    handlers = messaging.handlers(deps)
    batch = [received(reference=f"C-20261201-{i:06d}") for i in range(4)]
    envelopes = [consumed(data, source="intake") for data in batch]
    async with database.unit_of_work() as uow:
        await messaging.preload(uow, envelopes)
        for envelope in envelopes:
            await handlers[type(envelope.data)](uow, envelope)

    cases = await _cases(database, [d.complaint_id for d in batch])
    assert sorted(str(c[4]) for c in cases) == ["agent-li", "agent-li", "agent-wu", "agent-wu"]
