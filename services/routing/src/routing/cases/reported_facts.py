"""The facts other services report about a case, applied in the consumer's transaction:
customer messages (intake), confirmation requests, confirmations, auto-closures and
reopenings (feedback: after the survey, or a customer message on a closed complaint),
escalations (sla-watch).

The state change, its events (outbox) and its history entries commit together. A fact
that is illegal in the case's state is a disagreement between services, not a poison
record: it is kept in the history and the case is left as it is (``decide_or_none``).

Escalations (§3, §6): the level is orthogonal to the case's state. It never moves the
state machine, and routing emits no event of its own (sla-watch's ``complaint.escalated``
is the record of the change; the history entry points at it). The assignment engine reads
``Case.escalation_level``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintAutoClosed,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintEscalated,
    ComplaintRecategorized,
    ComplaintReopened,
    ComplaintResumed,
    CustomerMessageReceived,
)
from complaint_contracts.vocabulary import Priority
from complaint_runtime.database import UnitOfWork

from routing.assignment.domain.category_ownership import team_for_category
from routing.assignment.service import assign_reopened
from routing.casefile.recording import record_customer_message
from routing.cases.domain.lifecycle import (
    Assign,
    AutoClose,
    Confirm,
    Reopen,
    RequestConfirmation,
    Resume,
)
from routing.cases.transitions import (
    ROUTING,
    SOURCE,
    Actor,
    changed,
    decide_or_none,
    decide_or_raise,
    move,
    now_utc,
    record,
)
from routing.db import Case, CaseRepository
from routing.duplicates.service import close_duplicates_of
from routing.tasks.domain.rules import DEFAULT_REVIEW_DUE
from routing.tasks.service import open_review_task
from routing.triage.emotion_streaks import observe_message

CUSTOMER = Actor("customer")


async def _case_for(uow: UnitOfWork, complaint_id: str, event_id: str) -> Case:
    case = await CaseRepository(uow.session).get_for_update(complaint_id)
    if case is None:
        # Routing created every case it knows of from complaint.received: an event about an
        # unknown complaint is a poison record (the consumer dead-letters it after retries).
        raise LookupError(f"event {event_id} is about unknown case {complaint_id}")
    return case


async def apply_customer_message(
    *, uow: UnitOfWork, message: CustomerMessageReceived, event_id: str, streak_length: int
) -> None:
    """A customer message resumes a case awaiting the customer; otherwise it is history (on
    a closed case, feedback's reopen follows when it came within the reopen window).
    Either way it joins the case's conversation and advances the irritation streak
    (``streak_length`` messages turn blue yellow)."""
    case = await _case_for(uow, message.complaint_id, event_id)
    await record_customer_message(uow=uow, case=case, message=message, event_id=event_id)
    await observe_message(
        uow=uow, case=case, message=message, event_id=event_id, length=streak_length
    )
    now = now_utc()
    detail = {"message_id": message.message_id, "channel": message.channel}
    if case.status != "awaiting_customer":
        status = case.status
        record(
            uow,
            case,
            actor=CUSTOMER,
            action="customer_message_received",
            from_status=status,
            to_status=status,
            event_id=event_id,
            detail=detail,
        )
        return
    transition = decide_or_raise(case, Resume(trigger="customer_message"))
    resumed = ComplaintResumed(
        complaint_id=case.complaint_id,
        trigger="customer_message",
        message_id=message.message_id,
        actor=CUSTOMER.id,
        resumed_at=now,
    )
    move(
        uow,
        case,
        transition,
        actor=CUSTOMER,
        action="resumed",
        event=resumed,
        at=now,
        detail=detail,
    )


async def apply_confirmation_requested(
    *, uow: UnitOfWork, requested: ComplaintConfirmationRequested, event_id: str
) -> None:
    """Feedback asked the customer to confirm: ``awaiting_confirmation``. No event of ours:
    feedback's event is the record of the transition."""
    case = await _case_for(uow, requested.complaint_id, event_id)
    actor = Actor("feedback")
    transition = decide_or_none(uow, case, RequestConfirmation(), actor=actor, event_id=event_id)
    if transition is None:
        return
    move(
        uow,
        case,
        transition,
        actor=actor,
        action="confirmation_reminded" if requested.reminder else "confirmation_requested",
        event=None,
        at=now_utc(),
        detail={"request_id": requested.request_id, "channel": requested.channel},
        recorded_by=event_id,
    )


async def apply_closure(
    *, uow: UnitOfWork, feedback: ComplaintConfirmed | ComplaintAutoClosed, event_id: str
) -> None:
    """A confirmation or an auto-closure closes the case; the closure names it as evidence
    (the closure guard of §2). An auto-closure of a customer no channel reached is recorded
    as not reached (Decision: unreachable customers)."""
    case = await _case_for(uow, feedback.complaint_id, event_id)
    confirmed = isinstance(feedback, ComplaintConfirmed)
    actor = Actor(feedback.actor)
    command = Confirm() if confirmed else AutoClose()
    transition = decide_or_none(uow, case, command, actor=actor, event_id=event_id)
    if transition is None:
        return
    now = now_utc()
    reason = "confirmed" if confirmed else "auto_closed"
    not_reached = isinstance(feedback, ComplaintAutoClosed) and feedback.not_reached
    closed = ComplaintClosed(
        complaint_id=case.complaint_id,
        reason=reason,
        evidence_event_id=event_id,
        confirmation_request_id=feedback.request_id,
        actor=actor.id,
        closed_at=now,
    )
    case.closed_at = now
    case.close_reason = reason
    move(
        uow,
        case,
        transition,
        actor=actor,
        action="closed",
        event=closed,
        at=now,
        detail={
            "reason": reason,
            "evidence_event_id": event_id,
            **({"not_reached": True} if not_reached else {}),
        },
    )
    # §4: a duplicate shares its original's SLA, and so its end.
    await close_duplicates_of(uow=uow, original=case, at=now, closed_event_id=event_id)


async def apply_reopened(
    *,
    uow: UnitOfWork,
    reopened: ComplaintReopened,
    event_id: str,
    review_due: timedelta = DEFAULT_REVIEW_DUE,
) -> None:
    """Reopened (§3): priority one level up, then back to the same owner, and a review task
    for the lead of the case's team due in ``review_due``; both events, the task and the
    history entries in this one transaction. A reopen the case's state refuses (a replay)
    changes nothing and creates no task.

    A closed case reopens too (a customer message within the reopen window, reported by
    feedback with reason ``customer_message``): it is no longer closed, so its closure
    time and reason are cleared (the history keeps them)."""
    case = await _case_for(uow, reopened.complaint_id, event_id)
    actor = Actor(reopened.actor)
    old_priority = cast(Priority, case.priority)  # the column only holds priorities
    transition = decide_or_none(
        uow, case, Reopen(priority=old_priority), actor=actor, event_id=event_id
    )
    if transition is None:
        return
    now = now_utc()
    new_priority = transition.new_priority or old_priority
    recategorized = ComplaintRecategorized(
        complaint_id=case.complaint_id,
        old_category=case.category,
        new_category=case.category,
        old_subcategory=case.subcategory,
        new_subcategory=case.subcategory,
        old_priority=old_priority,
        new_priority=new_priority,
        reason=f"reopened: {reopened.reason}",
        actor=actor.id,
    )
    case.reopen_count += 1
    if case.status == "closed":
        case.closed_at = case.close_reason = None
    move(
        uow,
        case,
        transition,
        actor=actor,
        action="reopened",
        event=recategorized,
        at=now,
        detail={
            "reason": reopened.reason,
            "old_priority": old_priority,
            "new_priority": new_priority,
        },
    )
    previous = case.assignee
    # §3: back to the same owner when they have room (else the team's best free agent or
    # its queue: no agent is ever pushed past capacity).
    assignee = await assign_reopened(uow=uow, case=case, at=now)
    changed = assignee != previous
    # Not a hand-off: the §3 rule moves the case (reopened → assigned), whereas a hand-off
    # keeps the state; consumers projecting the status rely on that difference.
    assigned = ComplaintAssigned(
        complaint_id=case.complaint_id,
        team=case.team or team_for_category(case.category),
        assignee=assignee,
        owner=case.owner,
        actor=SOURCE,
        reason="reopen",
        previous_team=case.team if changed else None,
        previous_assignee=previous if changed else None,
    )
    move(
        uow,
        case,
        decide_or_raise(case, Assign()),
        actor=ROUTING,
        action="assigned",
        event=assigned,
        at=now,
        detail={"team": case.team, "assignee": assignee, "reason": "reopen"},
    )
    await open_review_task(
        uow=uow,
        case=case,
        reason=reopened.reason,
        detail={
            "csat": reopened.csat,
            "request_id": reopened.request_id,
            "message_id": reopened.message_id,
        },
        event_id=event_id,
        within=review_due,
        at=now,
    )


async def apply_escalation(
    *, uow: UnitOfWork, escalated: ComplaintEscalated, event_id: str
) -> None:
    """Set the case's escalation level to the one sla-watch decided and record why.

    sla-watch owns the level: the case takes the new level even when its own level differs
    from the event's ``previous_level`` (an earlier escalation routing never saw, e.g. one
    dead-lettered); the history keeps both so the gap is visible.
    """
    # sla-watch arms clocks from routing's own triaged event, so an escalation of a case
    # routing never created is a poison record (dead-lettered after retries).
    case = await _case_for(uow, escalated.complaint_id, event_id)
    now = now_utc()
    recorded_level = case.escalation_level
    case.escalation_level = escalated.level
    changed(case, at=now)
    record(
        uow,
        case,
        actor=Actor(escalated.actor),
        action="escalated" if escalated.level > escalated.previous_level else "de_escalated",
        from_status=case.status,
        to_status=case.status,
        event_id=event_id,
        detail={
            "level": escalated.level,
            "previous_level": escalated.previous_level,
            "level_before": recorded_level,
            "trigger": escalated.trigger,
            "reason": escalated.reason,
            "clock_id": escalated.clock_id,
            "metric": escalated.metric,
        },
        at=now,
    )
