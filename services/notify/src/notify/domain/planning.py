"""Which notifications an event causes: template, recipient role and the event's facts.

Recipients' addresses are not known here and never stored: customers' come from intake and
staff's from the directory, both resolved just before sending. ``context`` holds only what
the event itself carries (masked text, ids, times), so it is safe to keep in the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from complaint_contracts.base import EventData
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintConfirmationRequested,
    ComplaintReceived,
    ComplaintResolved,
    SlaBreached,
    SlaWarning,
)

TemplateName = Literal[
    "acknowledgement",
    "assignment",
    "sla_warning",
    "sla_breach",
    "resolution",
    "survey_invitation",
]
TEMPLATES: tuple[TemplateName, ...] = (
    "acknowledgement",
    "assignment",
    "sla_warning",
    "sla_breach",
    "resolution",
    "survey_invitation",
)
RecipientRole = Literal["customer", "agent", "team_lead"]
ContextValue = str | int | bool | None

# Stored text fields are bounded so one event cannot make a huge row.
MAX_CONTEXT_TEXT = 2000


@dataclass(frozen=True)
class PlannedDelivery:
    template: TemplateName
    recipient_role: RecipientRole
    recipient_user: str | None = None  # staff user id when the event names one
    context: dict[str, ContextValue] = field(default_factory=dict)


def _text(value: str | None) -> str | None:
    return value[:MAX_CONTEXT_TEXT] if value is not None else None


def plan_deliveries(data: EventData) -> tuple[PlannedDelivery, ...]:
    """The notifications one event causes (none for events nobody is told about)."""
    match data:
        case ComplaintReceived():
            return (
                PlannedDelivery(
                    "acknowledgement", "customer", context={"reference": data.reference}
                ),
            )
        case ComplaintAssigned(assignee=str() as assignee):
            return (
                PlannedDelivery(
                    "assignment",
                    "agent",
                    recipient_user=assignee,
                    context={
                        "team": data.team,
                        "handoff": data.handoff,
                        "reason": _text(data.reason),
                    },
                ),
            )
        case ComplaintResolved():
            return (
                PlannedDelivery(
                    "resolution",
                    "customer",
                    context={
                        "solution_summary": _text(data.solution_summary),
                        "solution_type": data.solution_type,
                        "owner": data.actor,
                    },
                ),
            )
        case SlaWarning():
            return (
                PlannedDelivery(
                    "sla_warning",
                    "team_lead",
                    context={
                        "metric": data.metric,
                        "percent": data.percent,
                        "due_at": data.due_at.isoformat(),
                        "priority": data.priority,
                        "late": data.late,
                    },
                ),
            )
        case SlaBreached():
            return (
                PlannedDelivery(
                    "sla_breach",
                    "team_lead",
                    context={
                        "metric": data.metric,
                        "due_at": data.due_at.isoformat(),
                        "priority": data.priority,
                        "breach_count": data.breach_count,
                        "late": data.late,
                    },
                ),
            )
        case ComplaintConfirmationRequested():
            return (
                PlannedDelivery(
                    "survey_invitation",
                    "customer",
                    context={
                        "request_id": data.request_id,
                        "reminder": data.reminder,
                        "expires_at": data.expires_at.isoformat(),
                    },
                ),
            )
    return ()
