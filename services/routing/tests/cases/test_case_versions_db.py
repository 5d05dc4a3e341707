"""Stale-form protection on the suite's PostgreSQL, where commands really run at once: two
commands made on the same version, exactly one wins and the other is refused as stale.

The mechanism is the row lock every command takes on its case before it checks the
version (``load_case``: SELECT ... FOR UPDATE): the second command waits for the first to
commit and then checks against the committed version. Without the lock both would read the
same version, both pass the check and both write the next version (the first test shows
the second command waiting; it would finish and win too without the lock).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from complaint_contracts.events import ComplaintReceived, CustomerView
from complaint_runtime.database import Database
from complaint_runtime.identity import Principal
from routing.bootstrap import build_dependencies
from routing.cases import recategorization
from routing.cases import service as cases
from routing.cases.domain.lifecycle import RecordReply
from routing.cases.domain.versions import StaleCaseError
from routing.cases.transitions import ROUTING, check_version, decide_or_raise, load_case, move
from routing.config import AgentConfig, RoutingSettings
from routing.db import Case, CaseAction
from routing.main import MIGRATIONS
from routing.staffing.service import seed_agents
from routing.triage.service import triage_and_assign
from sqlalchemy import func, select

NewDatabase = Callable[[Path], Awaitable[Database]]
LOCK_WAIT_S = 5.0  # longer than any of these commands takes when it does not wait
SETTLE_S = 0.3  # long enough for a command that is not blocked to have finished
LI = Principal("agent-li", frozenset({"agent"}), "billing")
LEAD = Principal("lead-zhao", frozenset({"lead"}), "billing")


async def _case_in_progress(database: Database) -> tuple[str, int]:
    """A billing case of agent-li's after its first response; its id and version."""
    deps = build_dependencies(RoutingSettings(), database=database)
    await seed_agents(
        database=database, agents=[AgentConfig(id="agent-li", team="billing", capacity=10)]
    )
    complaint_id = str(uuid.uuid4())
    received = ComplaintReceived(
        complaint_id=complaint_id,
        reference="C-20261208-000001",
        channel="web",
        customer=CustomerView(customer_ref=f"ref-{complaint_id}"),
        subject="退款迟迟未到账",
        description="我10月28日申请的退款到现在还没到账，退款延迟太久了。",
        received_at=datetime.now(UTC),
    )
    async with database.unit_of_work() as uow:
        await triage_and_assign(
            uow=uow,
            received=received,
            classifiers=deps.classifiers,
            duplicate_policy=deps.duplicate_policy,
            streak_length=deps.streak_length,
            event_id="ev-received",
        )
    view = await cases.record_first_response(
        database=database, complaint_id=complaint_id, principal=LI
    )
    return complaint_id, view.case.version


async def _state(database: Database, complaint_id: str) -> tuple[int, int]:
    async with database.sessions() as session:
        case = await session.get(Case, complaint_id)
        replies = await session.scalar(
            select(func.count())
            .select_from(CaseAction)
            .where(CaseAction.complaint_id == complaint_id, CaseAction.action == "agent_replied")
        )
    assert case is not None
    return case.version, int(replies or 0)


async def test_a_second_command_on_the_same_version_waits_then_is_stale(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    cid, version = await _case_in_progress(database)
    async with database.unit_of_work() as first:
        # The first command holds the case, checked against the version its form showed.
        case = await load_case(first, cid)
        await check_version(first, case, version)
        second = asyncio.create_task(
            cases.record_reply(
                database=database,
                complaint_id=cid,
                principal=LI,
                message="from the second tab",
                expected_version=version,
            )
        )
        await asyncio.sleep(SETTLE_S)
        assert not second.done(), "the second command did not wait for the case's row lock"
        move(
            first,
            case,
            decide_or_raise(case, RecordReply()),
            actor=ROUTING,
            action="agent_replied",
            event=None,
            at=datetime.now(UTC),
        )
    with pytest.raises(StaleCaseError) as refused:
        await asyncio.wait_for(second, LOCK_WAIT_S)
    assert refused.value.extensions["current_version"] == version + 1
    assert [c["action"] for c in refused.value.extensions["changes"]] == ["agent_replied"]
    assert await _state(database, cid) == (version + 1, 1)


async def test_of_concurrent_commands_on_one_version_exactly_one_wins(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    cid, version = await _case_in_progress(database)

    async def reply(n: int) -> object:
        return await cases.record_reply(
            database=database,
            complaint_id=cid,
            principal=LI,
            message=f"reply {n}",
            expected_version=version,
        )

    async def recategorize() -> object:
        return await recategorization.recategorize(
            database=database,
            complaint_id=cid,
            principal=LEAD,
            reason="the customer is a journalist",
            priority="P2",
            expected_version=version,
        )

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(reply(n) for n in range(3)), recategorize(), return_exceptions=True),
        LOCK_WAIT_S * 2,
    )
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    stale = [o for o in outcomes if isinstance(o, StaleCaseError)]
    assert (len(won), len(stale)) == (1, 3), outcomes
    async with database.sessions() as session:
        case = await session.get(Case, cid)
        changes = await session.scalar(
            select(func.count())
            .select_from(CaseAction)
            .where(
                CaseAction.complaint_id == cid,
                CaseAction.action.in_(["agent_replied", "recategorized"]),
            )
        )
    assert case is not None
    assert (case.version, changes) == (version + 1, 1)
