"""Routing's use cases on SQLite with the runtime's unit of work: every transition's
events and history, the closure guard, assignment, and feedback's facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintAutoClosed,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintRecategorized,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResumed,
    CustomerMessageReceived,
)
from complaint_runtime.auth import Principal
from complaint_runtime.database import Database
from complaint_runtime.errors import DomainError
from complaint_runtime.problems import status_of
from routing.cases import service as cases
from routing.db import Case

Names = Callable[[list[Envelope]], list[str]]
NOW = datetime.now(UTC)
SOLUTION = {
    "solution_summary": "Refund re-sent; call 13812345678 if late",
    "solution_type": "refund",
    "root_cause": "the refund batch job failed",
}


def agent(sub: str = "agent-li") -> Principal:
    return Principal(sub, frozenset({"agent"}), "billing")


def lead(team: str | None = "billing") -> Principal:
    return Principal("lead-zhao", frozenset({"lead"}), team)


async def case_of(database: Database, complaint_id: str) -> Case:
    view = await cases.view_case(database=database, complaint_id=complaint_id)
    return view.case


async def to_in_progress(database: Database, complaint_id: str) -> None:
    await cases.record_first_response(
        database=database, complaint_id=complaint_id, principal=agent(), message="hi"
    )


async def to_resolved(database: Database, complaint_id: str) -> None:
    await to_in_progress(database, complaint_id)
    await cases.resolve(database=database, complaint_id=complaint_id, principal=agent(), **SOLUTION)


@pytest.fixture
async def li(seed: Any) -> None:
    # agent-wang lacks the billing_refund skill: never picked by triage, but a valid
    # transfer target (skills are the lead's call; capacity and availability are not).
    await seed(
        [
            {"id": "agent-li", "team": "billing", "level": "senior", "capacity": 10},
            {
                "id": "agent-wang",
                "team": "billing",
                "level": "senior",
                "capacity": 5,
                "categories": ["other"],
            },
        ]
    )


# -- triage and assignment


async def test_triage_without_agents_queues_in_the_team(
    database: Database, new_case: Any, outbox: Any, names: Names
) -> None:
    complaint_id = await new_case()
    case = await case_of(database, complaint_id)
    assert (case.status, case.team, case.assignee, case.owner) == (
        "assigned",
        "billing",
        None,
        None,
    )
    assert names(await outbox(complaint_id)) == ["complaint.triaged", "complaint.assigned"]
    view = await cases.view_case(database=database, complaint_id=complaint_id)
    assert [a.action for a in view.actions] == ["received", "triaged", "assigned"]
    assert view.actions[1].event_id == (await outbox(complaint_id))[0].id


async def test_triage_assigns_the_least_loaded_agent_and_makes_it_owner(
    database: Database, new_case: Any, seed: Any, outbox: Any
) -> None:
    await seed(
        [
            {"id": "agent-b", "team": "billing", "capacity": 2},
            {"id": "agent-a", "team": "billing", "capacity": 2},
            {"id": "agent-q", "team": "quality", "capacity": 9},
        ]
    )
    ids = [await new_case() for _ in range(5)]
    assignees = [(await case_of(database, i)).assignee for i in ids]
    # ties by id: a, then b (a has 1), then a, b; both at capacity 2 → the fifth is queued
    assert assignees == ["agent-a", "agent-b", "agent-a", "agent-b", None]
    first = (await outbox(ids[0]))[-1].data
    assert isinstance(first, ComplaintAssigned)
    assert (first.assignee, first.owner, first.handoff) == ("agent-a", "agent-a", False)
    last = (await outbox(ids[4]))[-1].data
    assert isinstance(last, ComplaintAssigned)
    assert "capacity" in last.reason


async def test_resolved_cases_free_capacity(database: Database, new_case: Any, seed: Any) -> None:
    await seed([{"id": "agent-li", "team": "billing", "capacity": 1}])
    first = await new_case()
    await to_resolved(database, first)
    second = await new_case()
    assert (await case_of(database, second)).assignee == "agent-li"


async def test_seeding_upserts(database: Database, seed: Any, new_case: Any) -> None:
    await seed([{"id": "agent-li", "team": "quality", "capacity": 5}])
    await seed([{"id": "agent-li", "team": "billing", "capacity": 5}])
    assert (await case_of(database, await new_case())).assignee == "agent-li"


# -- staff transitions


async def test_each_staff_transition_emits_its_event_with_the_actor(
    database: Database, new_case: Any, li: None, outbox: Any, names: Names
) -> None:
    complaint_id = await new_case()
    await cases.record_first_response(
        database=database, complaint_id=complaint_id, principal=agent(), channel="sms"
    )
    await cases.record_reply(
        database=database, complaint_id=complaint_id, principal=agent(), in_reply_to="m-1"
    )
    await cases.await_customer(
        database=database, complaint_id=complaint_id, principal=agent(), reason="photo please"
    )
    await cases.resume(database=database, complaint_id=complaint_id, principal=agent())
    view = await cases.resolve(
        database=database, complaint_id=complaint_id, principal=agent(), **SOLUTION
    )
    events = (await outbox(complaint_id))[2:]
    assert names(events) == [
        "complaint.first_response_sent",
        "complaint.agent_replied",
        "complaint.awaiting_customer",
        "complaint.resumed",
        "complaint.resolved",
    ]
    assert all(e.data.actor == "agent-li" for e in events)  # type: ignore[attr-defined]
    resolved = events[-1].data
    assert isinstance(resolved, ComplaintResolved)
    assert "13812345678" not in resolved.solution_summary  # masked (§10)
    assert view.case.status == "resolved"
    assert view.case.first_response_at is not None
    assert [a.action for a in view.actions][-5:] == [
        "first_response_sent",
        "agent_replied",
        "awaiting_customer",
        "resumed",
        "resolved",
    ]
    assert {a.actor for a in view.actions[-5:]} == {"agent-li"}


async def test_closure_guard_names_the_missing_fields_and_changes_nothing(
    database: Database, new_case: Any, li: None, outbox: Any
) -> None:
    complaint_id = await new_case()
    await to_in_progress(database, complaint_id)
    before = len(await outbox(complaint_id))
    with pytest.raises(DomainError) as caught:
        await cases.resolve(
            database=database,
            complaint_id=complaint_id,
            principal=agent(),
            solution_summary=" ",
            solution_type="refund",
        )
    assert status_of(caught.value) == 422
    assert caught.value.kind == "closure-guard"
    assert [e["field"] for e in caught.value.errors or []] == ["solution_summary", "root_cause"]
    assert (await case_of(database, complaint_id)).status == "in_progress"
    assert len(await outbox(complaint_id)) == before


async def test_illegal_transition_is_a_409_naming_state_and_command(
    database: Database, new_case: Any, li: None
) -> None:
    complaint_id = await new_case()
    with pytest.raises(DomainError) as caught:
        await cases.resume(database=database, complaint_id=complaint_id, principal=agent())
    problem = caught.value
    assert (status_of(problem), problem.kind) == (409, "illegal-transition")
    assert problem.extensions == {"state": "assigned", "command": "Resume"}


async def test_unknown_case_is_a_404(database: Database) -> None:
    with pytest.raises(DomainError) as caught:
        await cases.resume(database=database, complaint_id="nope", principal=agent())
    assert status_of(caught.value) == 404


async def test_agents_act_only_on_their_cases(database: Database, new_case: Any, li: None) -> None:
    complaint_id = await new_case()
    with pytest.raises(DomainError) as caught:
        await cases.record_first_response(
            database=database, complaint_id=complaint_id, principal=agent("agent-wang")
        )
    assert status_of(caught.value) == 403
    with pytest.raises(DomainError):
        await cases.record_first_response(
            database=database, complaint_id=complaint_id, principal=lead("quality")
        )
    await cases.record_first_response(
        database=database, complaint_id=complaint_id, principal=lead("billing")
    )


async def test_reassign_is_a_handoff_keeping_the_owner(
    database: Database, new_case: Any, li: None, outbox: Any
) -> None:
    complaint_id = await new_case()
    await to_in_progress(database, complaint_id)
    view = await cases.reassign(
        database=database,
        complaint_id=complaint_id,
        principal=lead(),
        assignee="agent-wang",
        reason="holiday",
    )
    assert (view.case.status, view.case.assignee, view.case.owner) == (
        "in_progress",
        "agent-wang",
        "agent-li",
    )
    event = (await outbox(complaint_id))[-1].data
    assert isinstance(event, ComplaintAssigned)
    assert event.handoff
    assert event.previous_assignee == "agent-li"
    assert (event.actor, event.owner, event.previous_team) == ("lead-zhao", "agent-li", "billing")
    with pytest.raises(DomainError) as caught:
        await cases.reassign(
            database=database, complaint_id=complaint_id, principal=agent(), reason="x"
        )
    assert status_of(caught.value) == 403  # an agent, even the owner, cannot hand off


async def test_reassign_to_an_unknown_agent_or_team_is_refused(
    database: Database, new_case: Any, li: None
) -> None:
    complaint_id = await new_case()
    for target in ({"assignee": "agent-nobody"}, {"team": "no-such-team"}):
        with pytest.raises(DomainError) as caught:
            await cases.reassign(
                database=database,
                complaint_id=complaint_id,
                principal=lead(),
                reason="try",
                **target,
            )
        assert status_of(caught.value) == 422
        assert caught.value.kind == "unknown-target"


async def test_reassign_to_another_team_picks_its_free_agent(
    database: Database, new_case: Any, seed: Any
) -> None:
    await seed([{"id": "agent-q", "team": "quality", "capacity": 3}])
    complaint_id = await new_case()
    view = await cases.reassign(
        database=database,
        complaint_id=complaint_id,
        principal=lead(),
        team="quality",
        reason="it is a product defect",
    )
    assert (view.case.team, view.case.assignee, view.case.owner) == (
        "quality",
        "agent-q",
        "agent-q",  # nobody owned it: the first assignee becomes the owner
    )
    with pytest.raises(DomainError) as caught:
        await cases.reassign(
            database=database,
            complaint_id=complaint_id,
            principal=lead("quality"),
            team="quality",
            assignee="agent-q",
            reason="again",
        )
    assert caught.value.kind == "no-change"


# -- consumed events


async def test_customer_message_resumes_only_a_case_awaiting_the_customer(
    database: Database, new_case: Any, li: None, feed: Any, outbox: Any, names: Names
) -> None:
    complaint_id = await new_case()
    message = CustomerMessageReceived(
        complaint_id=complaint_id,
        message_id="m-1",
        channel="web",
        customer_ref="ref-1",
        text="any news?",
        received_at=NOW,
    )
    await feed(message)
    assert (await case_of(database, complaint_id)).status == "assigned"
    await to_in_progress(database, complaint_id)
    await cases.await_customer(
        database=database, complaint_id=complaint_id, principal=agent(), reason="receipt?"
    )
    await feed(message.model_copy(update={"message_id": "m-2"}))
    assert (await case_of(database, complaint_id)).status == "in_progress"
    resumed = (await outbox(complaint_id))[-1].data
    assert isinstance(resumed, ComplaintResumed)
    assert (resumed.trigger, resumed.message_id, resumed.actor) == (
        "customer_message",
        "m-2",
        "customer",
    )
    view = await cases.view_case(database=database, complaint_id=complaint_id)
    assert "customer_message_received" in [a.action for a in view.actions]


def _requested(complaint_id: str, *, reminder: bool = False) -> ComplaintConfirmationRequested:
    return ComplaintConfirmationRequested(
        complaint_id=complaint_id,
        request_id="req-1",
        channel="sms",
        reminder=reminder,
        requested_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )


async def test_confirmation_then_confirmed_closes_with_evidence(
    database: Database, new_case: Any, li: None, feed: Any, outbox: Any, names: Names
) -> None:
    complaint_id = await new_case()
    await to_resolved(database, complaint_id)
    before = len(await outbox(complaint_id))
    await feed(_requested(complaint_id))
    await feed(_requested(complaint_id, reminder=True))
    assert (await case_of(database, complaint_id)).status == "awaiting_confirmation"
    assert len(await outbox(complaint_id)) == before  # feedback's event is the record
    confirmed_id = await feed(
        ComplaintConfirmed(complaint_id=complaint_id, request_id="req-1", csat=5, answered_at=NOW)
    )
    case = await case_of(database, complaint_id)
    assert (case.status, case.close_reason) == ("closed", "confirmed")
    closed = (await outbox(complaint_id))[-1].data
    assert isinstance(closed, ComplaintClosed)
    assert (closed.reason, closed.evidence_event_id, closed.confirmation_request_id) == (
        "confirmed",
        confirmed_id,
        "req-1",
    )


async def test_auto_close_closes_as_auto_closed(
    database: Database, new_case: Any, li: None, feed: Any, outbox: Any
) -> None:
    complaint_id = await new_case()
    await to_resolved(database, complaint_id)
    await feed(_requested(complaint_id))
    auto_id = await feed(
        ComplaintAutoClosed(
            complaint_id=complaint_id, request_id="req-1", requested_at=NOW, expired_at=NOW
        )
    )
    closed = (await outbox(complaint_id))[-1].data
    assert isinstance(closed, ComplaintClosed)
    assert (closed.reason, closed.evidence_event_id, closed.actor) == (
        "auto_closed",
        auto_id,
        "feedback",
    )


async def test_reopen_raises_priority_and_returns_to_the_owner(
    database: Database, new_case: Any, li: None, feed: Any, outbox: Any, names: Names
) -> None:
    complaint_id = await new_case()
    await to_resolved(database, complaint_id)
    await cases.reassign(
        database=database,
        complaint_id=complaint_id,
        principal=lead(),
        assignee="agent-wang",
        reason="after-care",
    )
    await feed(_requested(complaint_id))
    before = len(await outbox(complaint_id))
    await feed(ComplaintReopened(complaint_id=complaint_id, reason="not_solved", reopened_at=NOW))
    events = (await outbox(complaint_id))[before:]
    assert names(events) == ["complaint.recategorized", "complaint.assigned"]
    recategorized, assigned = events[0].data, events[1].data
    assert isinstance(recategorized, ComplaintRecategorized)
    assert (recategorized.old_priority, recategorized.new_priority) == ("P3", "P2")
    assert recategorized.old_category == recategorized.new_category == "billing_refund"
    assert recategorized.reason == "reopened: not_solved"
    assert isinstance(assigned, ComplaintAssigned)
    assert (assigned.assignee, assigned.owner, assigned.reason) == (
        "agent-li",
        "agent-li",
        "reopen",
    )
    assert not assigned.handoff
    assert assigned.previous_assignee == "agent-wang"
    case = await case_of(database, complaint_id)
    assert (case.status, case.priority, case.assignee, case.reopen_count) == (
        "assigned",
        "P2",
        "agent-li",
        1,
    )
    await to_in_progress(database, complaint_id)  # the owner picks it up again


async def test_feedback_events_illegal_in_the_state_are_kept_in_history_only(
    database: Database, new_case: Any, li: None, feed: Any, outbox: Any
) -> None:
    complaint_id = await new_case()
    before = len(await outbox(complaint_id))
    await feed(ComplaintConfirmed(complaint_id=complaint_id, request_id="req-1", answered_at=NOW))
    assert (await case_of(database, complaint_id)).status == "assigned"
    assert len(await outbox(complaint_id)) == before
    view = await cases.view_case(database=database, complaint_id=complaint_id)
    assert view.actions[-1].action == "ignored:Confirm"


async def test_an_event_about_an_unknown_case_fails_for_the_dead_letter_topic(
    feed: Any,
) -> None:
    with pytest.raises(LookupError):
        await feed(
            ComplaintReopened(
                complaint_id="01890a5d-ac96-774b-bcce-b302099a8057",
                reason="low_csat",
                reopened_at=NOW,
            )
        )
