"""Tasks on the suite's PostgreSQL: a reopen's task inserted with ON CONFLICT DO NOTHING ...
RETURNING (once per event), and concurrent completions of one task: the row locks (case,
then task, read again under the lock) make exactly one win, the rest get 409 task-done."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import ComplaintReceived, CustomerView
from complaint_runtime.database import Database
from complaint_runtime.identity import Principal
from routing import messaging
from routing.bootstrap import build_dependencies
from routing.config import AgentConfig, RoutingSettings
from routing.db import Case
from routing.main import MIGRATIONS
from routing.staffing.service import seed_agents
from routing.tasks import service as tasks
from routing.tasks.db import Task
from routing.tasks.domain.errors import TaskDoneError
from sqlalchemy import select

from .conftest import reopened, requested, resolve

NewDatabase = Callable[[Path], Awaitable[Database]]
LOCK_WAIT_S = 5.0
LEAD = Principal("lead-zhao", frozenset({"lead"}), "billing")
MANAGER = Principal("mgr-sun", frozenset({"manager"}))
AGENT_MA = Principal("agent-ma", frozenset({"agent"}), "billing")


async def _feed(database: Database, data: EventData, event_id: str | None = None) -> None:
    handlers = messaging.handlers(build_dependencies(RoutingSettings(), database=database))
    event_id = event_id or str(uuid.uuid4())
    envelope = Envelope(
        id=event_id,
        type=data.ce_type(),
        source="test",
        subject=data.complaint_id,  # type: ignore[attr-defined]
        time=datetime.now(UTC),
        data=data,
        correlation_id=event_id,
        causation_id=None,
    )
    async with database.unit_of_work() as uow:
        await handlers[type(data)](uow, envelope)


async def _reopened_case(database: Database) -> str:
    await seed_agents(
        database=database,
        agents=[
            AgentConfig(id="agent-li", team="billing", capacity=10),
            AgentConfig(id="agent-ma", team="billing", capacity=10, categories=("other",)),
        ],
    )
    cid = str(uuid.uuid4())
    await _feed(
        database,
        ComplaintReceived(
            complaint_id=cid,
            reference="C-20261208-000001",
            channel="web",
            customer=CustomerView(customer_ref=f"ref-{cid}"),
            subject="退款迟迟未到账",
            description="我10月28日申请的退款到现在还没到账，退款延迟太久了。",
            received_at=datetime.now(UTC),
        ),
    )
    await resolve(database, cid)
    await _feed(database, requested(cid))
    await _feed(database, reopened(cid), event_id="ev-reopened")
    return cid


async def _task(database: Database, cid: str) -> Task:
    async with database.sessions() as session:
        [task] = list(await session.scalars(select(Task).where(Task.complaint_id == cid)))
    return task


async def test_a_reopens_task_is_inserted_once_per_event(postgres_database: NewDatabase) -> None:
    database = await postgres_database(MIGRATIONS)
    cid = await _reopened_case(database)
    task = await _task(database, cid)
    assert (task.kind, task.team, task.source_event_id) == (
        "review_reopen",
        "billing",
        "ev-reopened",
    )
    async with database.unit_of_work() as uow:
        case = await uow.session.get(Case, cid)
        assert case is not None
        again = await tasks.open_review_task(
            uow=uow,
            case=case,
            reason="not_solved",
            detail={},
            event_id="ev-reopened",
            within=timedelta(hours=1),
            at=datetime.now(UTC),
        )
    assert again is None
    assert (await _task(database, cid)).id == task.id


async def test_of_concurrent_completions_exactly_one_wins(postgres_database: NewDatabase) -> None:
    database = await postgres_database(MIGRATIONS)
    cid = await _reopened_case(database)
    task = await _task(database, cid)
    await tasks.assign_task(database=database, task_id=task.id, principal=LEAD, assignee="agent-ma")
    completions = [
        tasks.complete_task(
            database=database, task_id=task.id, principal=who, outcome=outcome, note=outcome
        )
        for who, outcome in (
            (AGENT_MA, "confirmed_fix"),
            (LEAD, "coached"),
            (MANAGER, "no_action"),
            (AGENT_MA, "reassigned"),
        )
    ]
    outcomes = await asyncio.wait_for(
        asyncio.gather(*completions, return_exceptions=True), LOCK_WAIT_S * 2
    )
    won = [o for o in outcomes if isinstance(o, tasks.TaskView)]
    refused = [o for o in outcomes if isinstance(o, TaskDoneError)]
    assert (len(won), len(refused)) == (1, 3), outcomes
    done = await _task(database, cid)
    assert (done.status, done.outcome, done.note) == ("done", won[0].outcome, won[0].outcome)
