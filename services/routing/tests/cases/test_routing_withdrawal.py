"""§3, Decision (withdrawal): intake's ``complaint.withdrawn`` closes the case from any open
state without the closure guard's fields, through routing's consumer table on SQLite: the
closure event names the customer, the history keeps the reason, the assignee's slot frees
up (and the team queue drains into it), linked duplicates close with it; a withdrawal of a
case already closed changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintConfirmed,
    ComplaintReceived,
    ComplaintWithdrawn,
    CustomerView,
    ErasureRequested,
)
from complaint_runtime.auth import Principal
from complaint_runtime.database import Database
from routing.cases import service as cases
from routing.db import Agent, Case, CaseAction
from sqlalchemy import select

AGENT_LI = Principal("agent-li", frozenset({"agent"}), "billing")
SOLUTION = {"solution_summary": "refund re-sent", "solution_type": "refund", "root_cause": "bug"}
REASON = "退款已经到账了，不用再处理，谢谢"
EMAIL_KEY = "email:" + "e" * 32


def withdrawn(complaint_id: str, reason: str | None = REASON) -> ComplaintWithdrawn:
    return ComplaintWithdrawn(
        complaint_id=complaint_id,
        customer_ref=f"ref-{complaint_id}",
        reason=reason,
        withdrawn_at=datetime.now(UTC),
        actor="customer",
    )


async def _case(database: Database, complaint_id: str) -> Case:
    async with database.sessions() as session:
        case = await session.get(Case, complaint_id)
    assert case is not None
    return case


async def _load(database: Database, agent_id: str = "agent-li") -> int:
    async with database.sessions() as session:
        agent = await session.get(Agent, agent_id)
    assert agent is not None
    return agent.open_load


async def _actions(database: Database, complaint_id: str) -> list[CaseAction]:
    async with database.sessions() as session:
        rows = await session.scalars(
            select(CaseAction)
            .where(CaseAction.complaint_id == complaint_id)
            .order_by(CaseAction.id)
        )
        return list(rows)


@pytest.fixture
async def li(seed: Any) -> None:
    await seed([{"id": "agent-li", "team": "billing", "level": "senior", "capacity": 1}])


@pytest.mark.usefixtures("li")
async def test_a_case_in_progress_closes_as_withdrawn_and_frees_its_agent(
    database: Database, new_case: Any, feed: Any, outbox: Any
) -> None:
    cid = await new_case()
    await cases.record_first_response(database=database, complaint_id=cid, principal=AGENT_LI)
    assert await _load(database) == 1
    before = len(await outbox(cid))
    event_id = await feed(withdrawn(cid))

    case = await _case(database, cid)
    assert (case.status, case.close_reason, case.assignee) == ("closed", "withdrawn", "agent-li")
    assert case.closed_at is not None
    assert (case.solution_summary, case.solution_type, case.root_cause) == (None, None, None)
    assert await _load(database) == 0
    [closed] = [e.data for e in (await outbox(cid))[before:]]
    assert isinstance(closed, ComplaintClosed)
    assert (closed.reason, closed.actor, closed.evidence_event_id) == (
        "withdrawn",
        "customer",
        None,
    )
    assert closed.closed_at == case.closed_at
    entry = (await _actions(database, cid))[-1]
    assert (entry.action, entry.actor, entry.from_status, entry.to_status) == (
        "withdrawn",
        "customer",
        "in_progress",
        "closed",
    )
    assert entry.detail["reason"] == REASON
    assert entry.event_id != event_id  # our closure's id: the event the entry records


@pytest.mark.parametrize("steps", ["queued", "assigned", "resolved"])
async def test_every_open_state_is_withdrawn_without_the_closure_guard(
    database: Database, seed: Any, new_case: Any, feed: Any, outbox: Any, steps: str
) -> None:
    if steps != "queued":  # no agent: the case waits in the team's queue, triaged
        await seed([{"id": "agent-li", "team": "billing", "level": "senior", "capacity": 5}])
    cid = await new_case()
    if steps == "resolved":
        await cases.record_first_response(database=database, complaint_id=cid, principal=AGENT_LI)
        await cases.resolve(database=database, complaint_id=cid, principal=AGENT_LI, **SOLUTION)
    if steps == "queued":
        assert (await _case(database, cid)).queued_at is not None
    else:
        assert await _load(database) == (0 if steps == "resolved" else 1)
    await feed(withdrawn(cid, reason=None))
    case = await _case(database, cid)
    assert (case.status, case.close_reason, case.queued_at) == ("closed", "withdrawn", None)
    closed = (await outbox(cid))[-1].data
    assert isinstance(closed, ComplaintClosed)
    assert closed.reason == "withdrawn"
    if steps != "queued":
        assert await _load(database) == 0  # released once: a resolution already freed it
    assert (await _actions(database, cid))[-1].detail["reason"] is None


@pytest.mark.usefixtures("li")
async def test_the_freed_slot_takes_the_team_s_longest_waiting_case(
    database: Database, new_case: Any, feed: Any, outbox: Any
) -> None:
    first = await new_case()
    queued = await new_case()
    assert (await _case(database, queued)).assignee is None  # agent-li is at capacity
    await feed(withdrawn(first))
    taken = await _case(database, queued)
    assert (taken.assignee, taken.status, taken.queued_at) == ("agent-li", "assigned", None)
    assigned = (await outbox(queued))[-1].data
    assert isinstance(assigned, ComplaintAssigned)
    assert assigned.assignee == "agent-li"
    assert await _load(database) == 1


@pytest.mark.usefixtures("li")
async def test_a_closed_case_ignores_the_withdrawal(
    database: Database, new_case: Any, feed: Any, outbox: Any
) -> None:
    """A redelivery, or the confirmation that won the race: nothing changes, no event."""
    cid = await new_case()
    await cases.record_first_response(database=database, complaint_id=cid, principal=AGENT_LI)
    await cases.resolve(database=database, complaint_id=cid, principal=AGENT_LI, **SOLUTION)
    await feed(
        ComplaintConfirmed(complaint_id=cid, request_id="req-1", answered_at=datetime.now(UTC))
    )
    confirmed = await _case(database, cid)
    before = len(await outbox(cid))
    await feed(withdrawn(cid))
    await feed(withdrawn(cid))
    case = await _case(database, cid)
    assert (case.status, case.close_reason, case.version) == (
        "closed",
        "confirmed",
        confirmed.version,
    )
    assert len(await outbox(cid)) == before
    assert [a.action for a in await _actions(database, cid)][-2:] == [
        "ignored:Withdraw",
        "ignored:Withdraw",
    ]


def _original_and_copy() -> tuple[ComplaintReceived, ComplaintReceived]:
    original, copy = (
        ComplaintReceived(
            complaint_id=str(uuid.uuid4()),
            reference=f"C-20261120-00000{n}",
            channel="web",
            customer=CustomerView(customer_ref="cus-1", identity_keys=(EMAIL_KEY,)),
            subject="退款",
            description="我10月28日申请的退款到现在还没到账，退款延迟太久了。",
            received_at=datetime.now(UTC) - timedelta(minutes=10 - n),
        )
        for n in (1, 2)
    )
    return original, copy


@pytest.mark.usefixtures("li")
async def test_a_withdrawn_original_closes_its_duplicates_with_it(
    database: Database, feed: Any, outbox: Any
) -> None:
    original, copy = _original_and_copy()
    await feed(original)
    await feed(copy)
    assert (await _case(database, copy.complaint_id)).status == "received"  # linked
    await feed(withdrawn(original.complaint_id))
    closed = (await outbox(copy.complaint_id))[-1].data
    assert isinstance(closed, ComplaintClosed)
    assert (closed.reason, closed.actor) == ("duplicate", "routing")
    assert (await _case(database, copy.complaint_id)).close_reason == "duplicate"
    assert (await _case(database, original.complaint_id)).close_reason == "withdrawn"


@pytest.mark.usefixtures("li")
async def test_a_linked_copy_is_withdrawn_on_its_own(
    database: Database, feed: Any, outbox: Any
) -> None:
    original, copy = _original_and_copy()
    await feed(original)
    await feed(copy)
    await feed(withdrawn(copy.complaint_id))
    closed = (await outbox(copy.complaint_id))[-1].data
    assert isinstance(closed, ComplaintClosed)
    assert (closed.reason, closed.actor) == ("withdrawn", "customer")
    entry = (await _actions(database, copy.complaint_id))[-1]
    assert (entry.from_status, entry.to_status) == ("received", "closed")
    assert (await _case(database, original.complaint_id)).status == "assigned"  # untouched


async def test_an_unknown_case_is_a_poison_record(feed: Any) -> None:
    with pytest.raises(LookupError):
        await feed(withdrawn(str(uuid.uuid4())))


@pytest.mark.usefixtures("li")
async def test_an_erasure_blanks_the_reason_in_the_history(
    database: Database, new_case: Any, feed: Any
) -> None:
    cid = await new_case()
    await feed(withdrawn(cid))
    await feed(
        ErasureRequested(
            complaint_id=cid,
            erasure_id="era-1",
            customer_ref=f"ref-{cid}",
            reason="customer_request",
            requested_at=datetime.now(UTC),
            actor="agent-li",
        )
    )
    entry = next(a for a in await _actions(database, cid) if a.action == "withdrawn")
    assert entry.detail["reason"] is None
    assert entry.detail["withdrawn_at"]
