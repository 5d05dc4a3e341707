"""§3: a customer message on a closed complaint within the reopen window reopens it.

Intake decides the window and feedback reports the reopen (reason ``customer_message``);
routing applies it like any reopen: the same owner, priority one level up but never into
P1, and a review task for the team's lead, all in the reopen's transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintRecategorized,
    ComplaintReopened,
    CustomerMessageReceived,
)
from complaint_runtime.auth import Principal
from complaint_runtime.database import Database
from routing.cases import service as cases
from routing.db import Case, CaseAction
from routing.tasks.db import Task
from sqlalchemy import select

NOW = datetime.now(UTC)
AGENT_LI = Principal("agent-li", frozenset({"agent"}), "billing")
SOLUTION = {"solution_summary": "refund re-sent", "solution_type": "refund", "root_cause": "bug"}


@pytest.fixture
async def agents(seed: Any) -> None:
    await seed([{"id": "agent-li", "team": "billing", "level": "senior", "capacity": 50}])


async def _closed(database: Database, feed: Any, complaint_id: str) -> None:
    await cases.record_first_response(
        database=database, complaint_id=complaint_id, principal=AGENT_LI
    )
    await cases.resolve(
        database=database, complaint_id=complaint_id, principal=AGENT_LI, **SOLUTION
    )
    await feed(
        ComplaintConfirmationRequested(
            complaint_id=complaint_id,
            request_id="req-1",
            channel="email",
            requested_at=NOW,
            expires_at=NOW + timedelta(days=7),
        )
    )
    await feed(ComplaintConfirmed(complaint_id=complaint_id, request_id="req-1", answered_at=NOW))


def _message(complaint_id: str) -> CustomerMessageReceived:
    return CustomerMessageReceived(
        complaint_id=complaint_id,
        message_id=str(uuid.uuid4()),
        channel="web",
        customer_ref=f"ref-{complaint_id}",
        text="退款又被退回了",
        received_at=datetime.now(UTC),
    )


def _reopened(message: CustomerMessageReceived) -> ComplaintReopened:
    return ComplaintReopened(
        complaint_id=message.complaint_id,
        reason="customer_message",
        message_id=message.message_id,
        reopened_at=datetime.now(UTC),
    )


async def _case(database: Database, complaint_id: str) -> Case:
    async with database.sessions() as session:
        case = await session.get(Case, complaint_id)
    assert case is not None
    return case


async def _tasks(database: Database, complaint_id: str) -> list[Task]:
    async with database.sessions() as session:
        rows = await session.scalars(select(Task).where(Task.complaint_id == complaint_id))
        return list(rows)


@pytest.mark.usefixtures("agents")
async def test_a_message_then_its_reopen_bring_a_closed_case_back_to_its_owner(
    database: Database, new_case: Any, feed: Any, outbox: Any
) -> None:
    cid = await new_case()
    await _closed(database, feed, cid)
    closed = await _case(database, cid)
    assert (closed.status, closed.close_reason, closed.priority) == ("closed", "confirmed", "P3")
    message = _message(cid)
    await feed(message)  # the message alone is history: the case stays closed
    assert (await _case(database, cid)).status == "closed"
    before = len(await outbox(cid))
    await feed(_reopened(message))
    case = await _case(database, cid)
    assert (case.status, case.priority, case.assignee, case.owner) == (
        "assigned",
        "P2",
        "agent-li",
        "agent-li",
    )
    assert (case.closed_at, case.close_reason, case.reopen_count) == (None, None, 1)
    recategorized, assigned = (e.data for e in (await outbox(cid))[before:])
    assert isinstance(recategorized, ComplaintRecategorized)
    assert (recategorized.old_priority, recategorized.new_priority) == ("P3", "P2")
    assert recategorized.reason == "reopened: customer_message"
    assert isinstance(assigned, ComplaintAssigned)
    assert (assigned.assignee, assigned.reason) == ("agent-li", "reopen")
    [task] = await _tasks(database, cid)
    assert (task.kind, task.team, task.reason) == ("review_reopen", "billing", "customer_message")
    assert task.detail["message_id"] == message.message_id
    async with database.sessions() as session:
        actions = list(
            await session.scalars(
                select(CaseAction).where(CaseAction.complaint_id == cid).order_by(CaseAction.id)
            )
        )
    reopen = next(a for a in actions if a.action == "reopened")
    assert (reopen.from_status, reopen.to_status) == ("closed", "reopened")
    # The owner works it again, up to a second closure.
    await _closed(database, feed, cid)
    assert (await _case(database, cid)).status == "closed"


@pytest.mark.usefixtures("agents")
async def test_a_second_reopen_of_the_same_closure_changes_nothing(
    database: Database, new_case: Any, feed: Any
) -> None:
    cid = await new_case()
    await _closed(database, feed, cid)
    message = _message(cid)
    await feed(_reopened(message))
    await feed(_reopened(message))  # e.g. replayed under another id: the case is assigned
    case = await _case(database, cid)
    assert (case.status, case.priority, case.reopen_count) == ("assigned", "P2", 1)
    assert len(await _tasks(database, cid)) == 1


@pytest.mark.usefixtures("agents")
async def test_a_reopen_never_raises_into_p1(database: Database, new_case: Any, feed: Any) -> None:
    cid = await new_case(tier="gold")  # P3 raised one level by the tier: P2
    assert (await _case(database, cid)).priority == "P2"
    await _closed(database, feed, cid)
    await feed(_reopened(_message(cid)))
    assert (await _case(database, cid)).priority == "P2"
