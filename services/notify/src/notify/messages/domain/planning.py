"""Which notifications an event causes: template, recipient role and the event's facts.

Recipients' addresses are not known here and never stored: customers' come from intake and
staff's from the directory, both resolved just before sending. ``context`` holds only what
the event itself carries (masked text, ids, times), so it is safe to keep in the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from complaint_contracts.base import EventData
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintFirstResponseSent,
    ComplaintReceived,
    ComplaintResolved,
    NpsSurveyRequested,
    SlaBreached,
    SlaWarning,
    TrackingCodeRequested,
)

TemplateName = Literal[
    "acknowledgement",
    "assignment",
    "sla_warning",
    "sla_breach",
    "resolution",
    "survey_invitation",
    "escalation",
    "duplicate_notice",
    "agent_reply",
    "agent_question",
    "withdrawal_notice",
    "withdrawal_confirmation",
    "nps_invitation",
    "tracking_code",
]
TEMPLATES: tuple[TemplateName, ...] = (
    "acknowledgement",
    "assignment",
    "sla_warning",
    "sla_breach",
    "resolution",
    "survey_invitation",
    "escalation",
    "duplicate_notice",
    "agent_reply",
    "agent_question",
    "withdrawal_notice",
    "withdrawal_confirmation",
    "nps_invitation",
    "tracking_code",
)
RecipientRole = Literal["customer", "agent", "team_lead", "manager", "senior_group", "team_chat"]
# Staff notices that also go to the complaint's team's group chat (a robot), when robots are
# configured: one card per event, beside the e-mails to the people concerned.
TEAM_CHAT_TEMPLATES: frozenset[TemplateName] = frozenset(
    {"assignment", "sla_warning", "sla_breach", "escalation"}
)
# Who is told at each escalation level (§3): 1 the team lead, 2 the team's manager,
# 3 every member of the senior escalation group. Level 0 is the agent: nobody is told.
ESCALATION_RECIPIENTS: dict[int, RecipientRole] = {
    1: "team_lead",
    2: "manager",
    3: "senior_group",
}
ContextValue = str | int | bool | None

# Stored text fields are bounded so one event cannot make a huge row.
MAX_CONTEXT_TEXT = 2000


@dataclass(frozen=True)
class PlannedDelivery:
    template: TemplateName
    recipient_role: RecipientRole
    recipient_user: str | None = None  # staff user id when the event names one
    context: dict[str, ContextValue] = field(default_factory=dict)

    @property
    def slot(self) -> str:
        """What tells apart several messages of one template and role for one event: the
        member, for a group told one by one; empty for a single recipient."""
        if self.recipient_role != "senior_group":
            return ""
        return self.recipient_user or ""


def _text(value: str | None) -> str | None:
    return value[:MAX_CONTEXT_TEXT] if value is not None else None


def _escalation(
    data: ComplaintEscalated, escalation_group: Sequence[str]
) -> tuple[PlannedDelivery, ...]:
    # Only a rise tells anyone: who is at a lower level after a de-escalation already
    # knows the complaint, and a stream of "handed back" mails would be noise.
    if data.level <= data.previous_level:
        return ()
    role = ESCALATION_RECIPIENTS[data.level]
    context: dict[str, ContextValue] = {
        "level": data.level,
        "previous_level": data.previous_level,
        "trigger": data.trigger,
        "reason": _text(data.reason),
        "metric": data.metric,
    }
    if role != "senior_group":
        return (PlannedDelivery("escalation", role, context=context),)
    # One message per member, each with its own row (its own retries and delivery log);
    # without a configured group one row records the gap when it is skipped.
    members: Sequence[str | None] = list(escalation_group) or [None]
    return tuple(
        PlannedDelivery("escalation", role, recipient_user=member, context=context)
        for member in members
    )


def _reply(
    message: str, agent_name: str | None, *, at: datetime, first: bool
) -> tuple[PlannedDelivery, ...]:
    context: dict[str, ContextValue] = {
        "message": _text(message),
        "agent_name": agent_name,
        "first": first,
        "at": at.isoformat(),
    }
    return (PlannedDelivery("agent_reply", "customer", context=context),)


def _sla_notice(data: SlaWarning | SlaBreached) -> PlannedDelivery:
    """A clock's warning or breach: the team lead is told."""
    context: dict[str, ContextValue] = {
        "metric": data.metric,
        "due_at": data.due_at.isoformat(),
        "priority": data.priority,
        "late": data.late,
    }
    if isinstance(data, SlaWarning):
        return PlannedDelivery(
            "sla_warning", "team_lead", context={**context, "percent": data.percent}
        )
    return PlannedDelivery(
        "sla_breach", "team_lead", context={**context, "breach_count": data.breach_count}
    )


def _looked_up_notice(data: ComplaintDuplicateLinked | TrackingCodeRequested) -> PlannedDelivery:
    """A notice to the customer whose substance is looked up when sending: the standing
    complaint's reference (a duplicate), or the lost-link code, read once from intake (the
    event never carries it) and sent to the complaint's e-mail address."""
    if isinstance(data, ComplaintDuplicateLinked):
        return PlannedDelivery(
            "duplicate_notice", "customer", context={"duplicate_of": data.duplicate_of}
        )
    context: dict[str, ContextValue] = {
        "request_id": data.request_id,
        "expires_at": data.expires_at.isoformat(),
    }
    return PlannedDelivery("tracking_code", "customer", context=context)


def _link_invitation(data: ComplaintConfirmationRequested | NpsSurveyRequested) -> PlannedDelivery:
    """An invitation whose link feedback hands out just in time: the confirmation survey
    (and its one reminder), or the NPS survey (with "don't ask me again")."""
    context: dict[str, ContextValue] = {
        "request_id": data.request_id,
        "expires_at": data.expires_at.isoformat(),
    }
    if isinstance(data, NpsSurveyRequested):
        return PlannedDelivery("nps_invitation", "customer", context=context)
    return PlannedDelivery(
        "survey_invitation", "customer", context={**context, "reminder": data.reminder}
    )


def _withdrawal(data: ComplaintClosed) -> tuple[PlannedDelivery, ...]:
    # The customer withdrew it (§3): the assignee stops working on it (who that is, is
    # looked up when sending: the closure does not name them) and the customer gets a
    # short confirmation. Other closures tell nobody here: the customer confirmed it, the
    # survey timed out, or a duplicate's customer was told which complaint stands.
    context: dict[str, ContextValue] = {"closed_at": data.closed_at.isoformat()}
    return (
        PlannedDelivery("withdrawal_notice", "agent", context=context),
        PlannedDelivery("withdrawal_confirmation", "customer", context=context),
    )


def plan_deliveries(
    data: EventData, *, escalation_group: Sequence[str] = (), team_chat: bool = False
) -> tuple[PlannedDelivery, ...]:
    """The notifications one event causes (none for events nobody is told about).

    ``escalation_group``: the user ids of the senior escalation group from the staff
    directory, told one by one about a level-3 escalation. ``team_chat``: group-chat robots
    are configured, so each staff notice of :data:`TEAM_CHAT_TEMPLATES` also goes to the
    complaint's team's chat (once per event, whoever else is told).
    """
    planned = _planned(data, escalation_group)
    if not team_chat:
        return planned
    for notice in planned:
        if notice.template in TEAM_CHAT_TEMPLATES:
            return (*planned, PlannedDelivery(notice.template, "team_chat", context=notice.context))
    return planned


def _planned(data: EventData, escalation_group: Sequence[str]) -> tuple[PlannedDelivery, ...]:
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
        case SlaWarning() | SlaBreached():
            return (_sla_notice(data),)
        case ComplaintEscalated():
            return _escalation(data, escalation_group)
        case ComplaintDuplicateLinked() | TrackingCodeRequested():
            return (_looked_up_notice(data),)
        # What the agent wrote goes to the customer, signed with the name the event carries
        # (never the user id); a first response or reply without text (a phone call
        # logged) sends nothing.
        case ComplaintFirstResponseSent(message=str() as message):
            return _reply(message, data.agent_name, at=data.responded_at, first=True)
        case ComplaintAgentReplied(message=str() as message):
            return _reply(message, data.agent_name, at=data.replied_at, first=False)
        case ComplaintAwaitingCustomer(reason=str() as question) if question.strip():
            return (
                PlannedDelivery(
                    "agent_question",
                    "customer",
                    context={
                        "question": _text(question),
                        "agent_name": data.agent_name,
                        "at": data.since.isoformat(),
                    },
                ),
            )
        case ComplaintClosed(reason="withdrawn"):
            return _withdrawal(data)
        case ComplaintConfirmationRequested() | NpsSurveyRequested():
            return (_link_invitation(data),)
    return ()
