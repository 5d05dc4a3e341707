"""Routing's use cases driven by events: triage of a new complaint, and the facts other
services report (customer messages, confirmations, reopenings, auto-closures).

Each runs in the consumer's transaction; the state change, its events (outbox) and its
history entries commit together. Staff commands are in :mod:`routing.handling`.
"""

from __future__ import annotations

from typing import cast

from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintAutoClosed,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintConfirmed,
    ComplaintRecategorized,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintResumed,
    ComplaintTriaged,
    CustomerMessageReceived,
)
from complaint_contracts.events.routing import FiredRule
from complaint_contracts.vocabulary import Priority
from complaint_runtime.database import UnitOfWork

from routing import duplicates, streaks, triage_classifiers
from routing.assignment import assign_new, assign_reopened
from routing.db import Case, CaseRepository
from routing.domain.classification import Classifier
from routing.domain.lifecycle import (
    Assign,
    AutoClose,
    Confirm,
    Reopen,
    RequestConfirmation,
    Resume,
    Transition,
    Triage,
    decide,
)
from routing.domain.teams import team_for_category
from routing.domain.triage import triage
from routing.transitions import (
    SOURCE,
    Actor,
    decide_or_none,
    move,
    now_utc,
    received_case,
    record,
    record_received,
)

ROUTING = Actor(SOURCE)
CUSTOMER = Actor("customer")


def _legal(outcome: object) -> Transition:
    # Triage of a fresh case and Assign after Reopen/Triage are legal by construction.
    assert isinstance(outcome, Transition), outcome
    return outcome


async def triage_and_assign(
    *,
    uow: UnitOfWork,
    received: ComplaintReceived,
    classifier: Classifier | None = None,
    event_id: str | None = None,
) -> Case | None:
    """Classify and prioritise a new complaint, then give it to the team owning its
    category and, when one is free, to that team's least-loaded agent (also its owner)."""
    cases = CaseRepository(uow.session)
    if await cases.get(received.complaint_id) is not None:
        return None  # already triaged under another event id (e.g. a re-sent copy)
    # §4 duplicates: a copy of an open complaint is linked to it, never triaged or assigned.
    screening = await duplicates.screen(uow=uow, received=received)
    if screening.original is not None:
        return await duplicates.link_duplicate(
            uow=uow, received=received, screening=screening, event_id=event_id
        )
    # None: the configured one (rules over the current category tree, or the model).
    classifier = classifier or await triage_classifiers.classifier_for(uow.session)
    decision = triage(
        subject=received.subject,
        description=received.description,
        language=received.customer.language,
        tier=received.customer.tier,
        classifier=classifier,
        count_repeats=screening.repeat_count,
    )
    repeat_count = screening.repeat_count(decision.category)
    now = now_utc()
    team = team_for_category(decision.category)  # until assign_new reads the ownership table
    rules = tuple(FiredRule(rule=r.rule, detail=r.detail) for r in decision.rules_fired)
    case = received_case(
        received,
        category=decision.category,
        subcategory=decision.subcategory,
        confidence=decision.confidence,
        priority=decision.priority,
        emotion=decision.emotion,
        rules_fired=[r.model_dump() for r in rules],
        team=team,
        at=now,
    )
    cases.add(case)
    duplicates.index(uow, screening, repeat_count=repeat_count)
    streaks.start(uow=uow, complaint_id=case.complaint_id, description=received.description)
    await uow.session.flush()  # the history rows reference the case row
    record_received(uow, case, received, event_id=event_id)
    triaged = ComplaintTriaged(
        complaint_id=case.complaint_id,
        category=decision.category,
        subcategory=decision.subcategory,
        confidence=decision.confidence,
        priority=decision.priority,
        emotion=decision.emotion,
        rules_fired=rules,
        repeat_count=repeat_count,
        channel=received.channel,
        customer_tier=received.customer.tier,
    )
    move(
        uow,
        case,
        _legal(decide("received", Triage())),
        actor=ROUTING,
        action="triaged",
        event=triaged,
        at=now,
        detail={"category": decision.category, "priority": decision.priority},
    )
    # The engine (routing.assignment): owning team, best free agent or the team queue.
    reason = await assign_new(uow=uow, case=case, at=now)
    team, agent = case.team or team, case.assignee
    assigned = ComplaintAssigned(
        complaint_id=case.complaint_id,
        team=team,
        assignee=agent,
        owner=agent,
        actor=SOURCE,
        reason=reason,
    )
    move(
        uow,
        case,
        _legal(decide("triaged", Assign())),
        actor=ROUTING,
        action="assigned",
        event=assigned,
        at=now,
        detail={"team": team, "assignee": agent},
    )
    return case


async def _case_for(uow: UnitOfWork, complaint_id: str, event_id: str) -> Case:
    case = await CaseRepository(uow.session).get_for_update(complaint_id)
    if case is None:
        # Routing created every case it knows of from complaint.received: an event about an
        # unknown complaint is a poison record (the consumer dead-letters it after retries).
        raise LookupError(f"event {event_id} is about unknown case {complaint_id}")
    return case


async def apply_customer_message(
    *, uow: UnitOfWork, message: CustomerMessageReceived, event_id: str
) -> None:
    """A customer message resumes a case awaiting the customer; otherwise it is history."""
    case = await _case_for(uow, message.complaint_id, event_id)
    await streaks.observe_message(uow=uow, case=case, message=message, event_id=event_id)
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
    transition = _legal(decide("awaiting_customer", Resume(trigger="customer_message")))
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
    (the closure guard of §2)."""
    case = await _case_for(uow, feedback.complaint_id, event_id)
    confirmed = isinstance(feedback, ComplaintConfirmed)
    actor = Actor(feedback.actor)
    command = Confirm() if confirmed else AutoClose()
    transition = decide_or_none(uow, case, command, actor=actor, event_id=event_id)
    if transition is None:
        return
    now = now_utc()
    reason = "confirmed" if confirmed else "auto_closed"
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
        detail={"reason": reason, "evidence_event_id": event_id},
    )
    # §4: a duplicate shares its original's SLA, and so its end.
    await duplicates.close_duplicates_of(uow=uow, original=case, at=now, closed_event_id=event_id)


async def apply_reopened(*, uow: UnitOfWork, reopened: ComplaintReopened, event_id: str) -> None:
    """Reopened (§3): priority one level up, then back to the same owner; both events and
    both history entries in this one transaction."""
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
        _legal(decide("reopened", Assign())),
        actor=ROUTING,
        action="assigned",
        event=assigned,
        at=now,
        detail={"team": case.team, "assignee": assignee, "reason": "reopen"},
    )
