"""A lead or manager asks, with a reason, to escalate a case by hand (§3).

sla-watch owns the escalation level, so routing does not set it: it stages
``complaint.escalation_requested`` and records the request in the case's history, in one
transaction. sla-watch raises its level and answers ``complaint.escalated`` (trigger
``manual``, the requester as actor), which routing applies like any escalation
(:func:`routing.cases.reported_facts.apply_escalation`): the level changes then, and notify
tells the person at the new level.

Who: the lead of the case's team or a manager; a lead of another team does not see the
case (``NotFound``, like every staff command), an agent is ``Forbidden``. What is refused
before anything is staged: :mod:`routing.cases.domain.escalation`.

The request moves the case's version on (:func:`routing.cases.transitions.changed`) like
every staff decision on a case: a second request made on the same picture of the case
(a double submit, or two supervisors at once) is then refused as stale when it carries
``If-Match``, instead of staging a request that sla-watch would have to ignore.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from complaint_contracts.events import ComplaintEscalationRequested
from complaint_runtime.database import Database
from complaint_runtime.errors import Forbidden
from complaint_runtime.identity import Principal

from routing.cases.domain import escalation as rules
from routing.cases.domain.access import may_act
from routing.cases.transitions import (
    Actor,
    changed,
    check_version,
    emit,
    load_case,
    now_utc,
    record,
)
from routing.db import Case

SUPERVISOR_ROLES = frozenset({"lead", "manager"})
ACTION = "escalation_requested"


@dataclass(frozen=True)
class EscalationRequest:
    """The request as it was staged: what the requester is answered."""

    complaint_id: str
    level: int
    current_level: int
    reason: str
    actor: str
    requested_at: datetime
    event_id: str
    case_version: int


def _authorize(principal: Principal, case: Case) -> None:
    # Only the supervising roles count: a lead who is also the case's assignee acts on it
    # as an agent, and an agent does not escalate.
    if not may_act(
        roles=principal.roles & SUPERVISOR_ROLES,
        subject=principal.subject,
        team=principal.team,
        case_team=case.team,
        case_assignee=None,
    ):
        raise Forbidden("Only the lead of the case's team or a manager escalates a case.")


async def request_escalation(
    *,
    database: Database,
    complaint_id: str,
    principal: Principal,
    level: int,
    reason: str,
    expected_version: int | None = None,
) -> EscalationRequest:
    """Stage the request and record it; refused when the case moved on from
    ``expected_version`` (``StaleCaseError``), is closed or not triaged
    (``IllegalTransitionError``) or already stands at ``level`` or higher
    (``EscalationNotHigherError``)."""
    why = rules.request_reason(reason)
    async with database.unit_of_work() as uow:
        case = await load_case(uow, complaint_id, seen_by=principal)
        _authorize(principal, case)
        await check_version(uow, case, expected_version)
        current = rules.check_request(
            state=case.status, current_level=case.escalation_level or 0, level=level
        )
        now = now_utc()
        event = ComplaintEscalationRequested(
            complaint_id=case.complaint_id,
            level=cast(rules.RequestedLevel, level),  # checked by check_request
            current_level=current,
            reason=why,
            actor=principal.subject,
            requested_at=now,
        )
        changed(case, at=now)
        event_id = emit(uow, case, event, at=now)
        record(
            uow,
            case,
            actor=Actor(principal.subject),
            action=ACTION,
            from_status=case.status,
            to_status=case.status,
            event_id=event_id,
            detail={"level": level, "current_level": current, "reason": why},
            at=now,
        )
        version = case.version
    return EscalationRequest(
        complaint_id=complaint_id,
        level=level,
        current_level=current,
        reason=why,
        actor=principal.subject,
        requested_at=now,
        event_id=event_id,
        case_version=version,
    )
