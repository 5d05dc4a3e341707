"""The customer withdrew their complaint (§3, Decision: withdrawal), reported by intake
(``complaint.withdrawn``) and applied in the consumer's transaction.

The withdrawal is the customer's own confirmation: ``Withdraw`` closes the case from any
open state without the closure guard's fields, so the case file's resolution stays as it
was (empty, unless an agent had resolved it). Routing emits ``complaint.closed`` (reason
``withdrawn``, the customer as its actor): sla-watch stops the clocks on it, feedback
cancels a survey, notify tells the assignee and confirms to the customer.

Decisions:

- A withdrawal of a case that is already closed (a redelivery, or a confirmation or
  auto-closure that won the race with it) changes nothing: it is kept in the history as
  ignored, not dead-lettered, as every reported fact the state refuses.
- The assignee's slot frees up as on a resolution when the case was still theirs to work
  (an active state); a queued case leaves its team's queue. The team's queue drains into
  the freed slot in the same transaction.
- The case's open follow-up call and unreachable-customer tasks are done with it (outcome
  ``case_closed``, by routing): nobody is to call a customer about a withdrawn complaint.
- Automatic duplicates still linked to the case close with it (reason ``duplicate``): they
  share its SLA, and so its end, as they do on any other closure.
"""

from __future__ import annotations

from complaint_contracts.events import ComplaintClosed, ComplaintWithdrawn
from complaint_runtime.database import UnitOfWork

from routing.assignment.service import release_and_drain
from routing.cases.domain.lifecycle import ACTIVE, Withdraw
from routing.cases.transitions import Actor, decide_or_none, move, now_utc
from routing.db import Case, CaseRepository
from routing.duplicates.service import close_duplicates_of
from routing.tasks.opening import close_tasks_of_closed_case

WITHDRAWN = "withdrawn"


async def apply_withdrawal(
    *, uow: UnitOfWork, withdrawn: ComplaintWithdrawn, event_id: str
) -> None:
    """Close the case as withdrawn (see the module's decisions)."""
    case = await _case_for(uow, withdrawn.complaint_id, event_id)
    actor = Actor(withdrawn.actor)
    transition = decide_or_none(uow, case, Withdraw(), actor=actor, event_id=event_id)
    if transition is None:
        return
    now = now_utc()
    held_a_slot = case.status in ACTIVE
    closed = ComplaintClosed(
        complaint_id=case.complaint_id, reason=WITHDRAWN, actor=actor.id, closed_at=now
    )
    case.closed_at = now
    case.close_reason = WITHDRAWN
    case.queued_at = None
    closed_id = move(
        uow,
        case,
        transition,
        actor=actor,
        action=WITHDRAWN,
        event=closed,
        at=now,
        detail={"reason": withdrawn.reason, "withdrawn_at": withdrawn.withdrawn_at.isoformat()},
    )
    await close_tasks_of_closed_case(uow=uow, case=case, at=now, event_id=closed_id)
    if held_a_slot:
        await release_and_drain(uow=uow, agent_id=case.assignee, at=now)
    await close_duplicates_of(uow=uow, original=case, at=now, closed_event_id=event_id)


async def _case_for(uow: UnitOfWork, complaint_id: str, event_id: str) -> Case:
    case = await CaseRepository(uow.session).get_for_update(complaint_id)
    if case is None:
        # Routing created every case from complaint.received, which comes before the
        # withdrawal on the same partition: an unknown case is a poison record.
        raise LookupError(f"event {event_id} is about unknown case {complaint_id}")
    return case
