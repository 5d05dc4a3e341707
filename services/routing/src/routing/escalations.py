"""Escalations reported by sla-watch (§3, §6): the case's escalation level and its history.

The level is orthogonal to the case's state: it never moves the state machine, and routing
emits no event of its own (sla-watch's ``complaint.escalated`` is the record of the change;
the history entry points at it). The assignment engine reads ``Case.escalation_level``.
"""

from __future__ import annotations

from complaint_contracts.events import ComplaintEscalated
from complaint_runtime.database import UnitOfWork

from routing.db import CaseRepository
from routing.transitions import Actor, now_utc, record


async def apply_escalation(
    *, uow: UnitOfWork, escalated: ComplaintEscalated, event_id: str
) -> None:
    """Set the case's escalation level to the one sla-watch decided and record why.

    sla-watch owns the level: the case takes the new level even when its own level differs
    from the event's ``previous_level`` (an earlier escalation routing never saw, e.g. one
    dead-lettered); the history keeps both so the gap is visible.
    """
    case = await CaseRepository(uow.session).get_for_update(escalated.complaint_id)
    if case is None:
        # sla-watch arms clocks from routing's own triaged event, so an escalation of a case
        # routing never created is a poison record (dead-lettered after retries).
        raise LookupError(f"event {event_id} escalates unknown case {escalated.complaint_id}")
    now = now_utc()
    recorded_level = case.escalation_level
    case.escalation_level = escalated.level
    case.updated_at = now
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
