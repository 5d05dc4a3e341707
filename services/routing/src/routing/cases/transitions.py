"""What every use case that moves a case does: decide with the pure state machine, apply
the outcome to the row, stage the event, write the history entry (one transaction).

Every change to the case goes through :func:`changed` (``move`` calls it), which moves the
case's version on; :func:`check_version` refuses a command made on an older version
(:mod:`routing.cases.domain.versions`) before anything is changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.events import ComplaintReceived
from complaint_contracts.privacy import redact_contacts
from complaint_runtime.database import UnitOfWork
from complaint_runtime.errors import NotFound
from complaint_runtime.identity import Principal

from routing.casefile.domain.visibility import visibility_of
from routing.cases.domain.errors import refusal
from routing.cases.domain.lifecycle import (
    Command,
    IllegalTransition,
    State,
    Transition,
    command_name,
    decide,
)
from routing.cases.domain.versions import MAX_CHANGES, CaseChange, StaleCaseError, is_stale
from routing.db import Case, CaseAction, CaseRepository

SOURCE = "routing"
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asked for a transition: a user id (JWT ``sub``), ``customer`` or a service."""

    id: str


ROUTING = Actor(SOURCE)


def now_utc() -> datetime:
    return datetime.now(UTC)


def masked(text: str | None) -> str | None:
    """Free text from staff, with any phone number or e-mail address masked (§10)."""
    return None if text is None else redact_contacts(text)


async def load_case(
    uow: UnitOfWork, complaint_id: str, *, seen_by: Principal | None = None
) -> Case:
    """The case, locked for this transaction; ``NotFound`` when there is none, and when
    ``seen_by`` may not see it (the same answer: it must not tell that the case exists)."""
    case = None
    if len(complaint_id) <= 36:
        case = await CaseRepository(uow.session).get_for_update(complaint_id)
    if case is None or (seen_by is not None and not _sees(seen_by, case)):
        raise NotFound(title="Case not found")
    return case


def _sees(principal: Principal, case: Case) -> bool:
    sight = visibility_of(roles=principal.roles, subject=principal.subject, team=principal.team)
    return sight.admits(case_team=case.team, case_assignee=case.assignee)


def decide_or_raise(case: Case, command: Command) -> Transition:
    """A staff command's transition; raises the refusal when the state machine says no."""
    outcome = decide(_state(case), command)
    if isinstance(outcome, IllegalTransition):
        raise refusal(outcome)
    return outcome


def decide_or_none(
    uow: UnitOfWork, case: Case, command: Command, *, actor: Actor, event_id: str
) -> Transition | None:
    """For consumed events: an event that is illegal in the case's state is a disagreement
    between services, not a poison record. It is logged and kept in the history, and the
    case is left as it is (retrying would never make it legal, dead-lettering would only
    hide it from the case's history)."""
    outcome = decide(_state(case), command)
    if isinstance(outcome, Transition):
        return outcome
    log.warning(
        "event ignored: illegal transition",
        complaint_id=case.complaint_id,
        state=outcome.state,
        command=outcome.command,
    )
    record(
        uow,
        case,
        actor=actor,
        action=f"ignored:{command_name(command)}",
        from_status=outcome.state,
        to_status=outcome.state,
        event_id=event_id,
        detail={"reason": outcome.reason},
    )
    return None


async def check_version(uow: UnitOfWork, case: Case, expected: int | None) -> None:
    """Refuse a command made on an older version of the case (``StaleCaseError``, with the
    history entries written since); call it on the locked row, before any change."""
    if expected is None or not is_stale(expected=expected, current=case.version):
        return
    actions = await CaseRepository(uow.session).actions_after(
        case.complaint_id, expected, limit=MAX_CHANGES
    )
    raise StaleCaseError(
        expected=expected,
        current=case.version,
        changes=[CaseChange(a.action, a.actor, a.at, a.case_version) for a in actions],
    )


def changed(case: Case, *, at: datetime) -> None:
    """The case changed (state, priority, category, emotion, team, assignee, resolution,
    escalation level): its update time and its version move on, in the change's
    transaction. Bookkeeping does not call it: the SLA summary, the latest activity and
    history-only entries (customer messages, notes, tasks) leave the version alone, so an
    agent's form is not stale because a clock ticked."""
    case.updated_at = at
    case.version = (case.version or 1) + 1


def apply(case: Case, transition: Transition, *, at: datetime) -> None:
    case.status = transition.new_state
    if transition.new_priority is not None:
        case.priority = transition.new_priority
    changed(case, at=at)


def emit(uow: UnitOfWork, case: Case, event: EventData, *, at: datetime) -> str:
    return uow.add_event(
        event, topic=topics.ROUTING.name, source=SOURCE, subject=case.complaint_id, time=at
    )


def move(
    uow: UnitOfWork,
    case: Case,
    transition: Transition,
    *,
    actor: Actor,
    action: str,
    event: EventData | None,
    at: datetime,
    detail: dict[str, Any] | None = None,
    recorded_by: str | None = None,
) -> str | None:
    """Apply a decided transition: the row, its event (if any) and its history entry.

    Without an event of ours, ``recorded_by`` names the other service's event that is the
    record of the change (the history entry points at it)."""
    from_status = case.status
    apply(case, transition, at=at)
    event_id = emit(uow, case, event, at=at) if event is not None else recorded_by
    record(
        uow,
        case,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=transition.new_state,
        event_id=event_id,
        detail=detail,
        at=at,
    )
    return event_id


def received_case(
    received: ComplaintReceived,
    *,
    category: str,
    subcategory: str | None,
    confidence: float,
    priority: str,
    emotion: str,
    rules_fired: list[dict[str, Any]],
    team: str | None,
    at: datetime,
) -> Case:
    """The new, ``received`` row of a complaint intake reported, unassigned, with the
    triage it stands under (its own, or its original's for a duplicate)."""
    return Case(
        complaint_id=received.complaint_id,
        reference=received.reference,
        status="received",
        channel=received.channel,
        customer_ref=received.customer.customer_ref,
        tier=received.customer.tier,
        language=received.customer.language,
        category=category,
        subcategory=subcategory,
        confidence=confidence,
        priority=priority,
        emotion=emotion,
        rules_fired=rules_fired,
        team=team,
        assignee=None,
        owner=None,
        received_at=received.received_at,
        updated_at=at,
        reopen_count=0,
        version=1,
        # No clock yet: the summary the case file computes for none, so opening the case
        # file changes nothing and costs no UPDATE of the new row.
        sla_due_at=None,
        sla_at_risk=False,
        sla_breached=False,
        sla_state=None,
    )


def record_received(
    uow: UnitOfWork, case: Case, received: ComplaintReceived, *, event_id: str | None
) -> None:
    """A case's first history entry: intake's ``complaint.received``, at its own time."""
    record(
        uow,
        case,
        actor=Actor("intake"),
        action="received",
        from_status=None,
        to_status="received",
        event_id=event_id,
        detail={"channel": received.channel},
        at=received.received_at,
    )


def record(
    uow: UnitOfWork,
    case: Case,
    *,
    actor: Actor,
    action: str,
    from_status: str | None,
    to_status: str | None,
    event_id: str | None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """One history entry of the case, in the same transaction as the change it records
    (stamped with the case's version after it); it is the case's latest activity unless it
    is dated earlier. It does not move the version: a change calls :func:`changed`."""
    at = at or now_utc()
    CaseRepository(uow.session).add_action(
        CaseAction(
            complaint_id=case.complaint_id,
            actor=actor.id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            event_id=event_id,
            detail=detail or {},
            at=at,
            case_version=case.version,
        )
    )
    if case.last_activity_at is None or at > case.last_activity_at:
        case.last_activity_at = at


def _state(case: Case) -> State:
    return case.status  # type: ignore[return-value]  # the column only ever holds a State
