"""What of a complaint's history its customer sees.

Customers see the steps of their complaint, not the internals (root causes, staff ids,
rules, SLA clocks, escalations, deliveries): an escalation is staff-only (it names who is
chasing the case internally), while a duplicate's customer is told which reference stands,
and nothing more about it.

What staff told and asked the customer is theirs to read (§3, working the case): the first
response and replies show their text (masked, as the events carry it), the question the
agent asked while waiting for the customer shows that question, each with the name it is
signed with and, through the step, its time. The signature is the agent's display name or
the team's name from the event, else a neutral label in the complaint's language: never the
user id the event names as its actor. A withdrawal shows the customer the reason they gave
(masked, as kept).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from complaint_contracts.events import (
    CaseErasureCompleted,
    ComplaintAgentReplied,
    ComplaintAwaitingCustomer,
    ComplaintDuplicateLinked,
    ComplaintDuplicateUnlinked,
    ComplaintEscalated,
    ComplaintEscalationRequested,
    ComplaintFirstResponseSent,
    ComplaintWithdrawn,
    ErasureRequested,
    FeedbackErasureCompleted,
    NotificationErasureCompleted,
    SlaErasureCompleted,
    TrackingCodeRequested,
)

CUSTOMER_VISIBLE_PREFIX = "org.opencomplaints.complaint."
# Escalations (asked for and decided) and a staff correction of a duplicate link are the
# organisation's business; the customer's history shows what happens to their complaint.
STAFF_ONLY_TYPES: frozenset[str] = frozenset(
    {
        ComplaintEscalated.ce_type(),
        ComplaintEscalationRequested.ce_type(),
        ComplaintDuplicateUnlinked.ce_type(),
        # A lost-link code asked for: an audit step for staff, nothing the page shows.
        TrackingCodeRequested.ce_type(),
        # Erasure and its confirmations: staff's audit trail, never the customer's steps
        # (hidden here even though an erased complaint's link opens nothing any more).
        ErasureRequested.ce_type(),
        CaseErasureCompleted.ce_type(),
        SlaErasureCompleted.ce_type(),
        FeedbackErasureCompleted.ce_type(),
        NotificationErasureCompleted.ce_type(),
    }
)
DUPLICATE_LINKED = ComplaintDuplicateLinked.ce_type()
# The staff answers a customer reads, and the field of the event that holds the text.
ANSWER_TEXT: Final[dict[str, str]] = {
    ComplaintFirstResponseSent.ce_type(): "message",
    ComplaintAgentReplied.ce_type(): "message",
}
QUESTION = ComplaintAwaitingCustomer.ce_type()
WITHDRAWN = ComplaintWithdrawn.ce_type()  # the customer's own step: they read their reason
NEUTRAL_SIGNATURE: Final[dict[str, str]] = {"zh-CN": "客服", "en": "Customer Service"}


def visible_to_customer(event_type: str) -> bool:
    return event_type.startswith(CUSTOMER_VISIBLE_PREFIX) and event_type not in STAFF_ONLY_TYPES


def signature(agent_name: object, *, language: str) -> str:
    """The name a staff message is signed with for the customer."""
    if isinstance(agent_name, str) and agent_name.strip():
        return agent_name
    return NEUTRAL_SIGNATURE.get(language, NEUTRAL_SIGNATURE["zh-CN"])


def customer_data(
    event_type: str, data: Mapping[str, Any], *, language: str = "zh-CN"
) -> dict[str, Any]:
    """The part of a history entry's data a customer may read (usually nothing)."""
    if event_type == DUPLICATE_LINKED:
        return {"duplicate_of_reference": data.get("duplicate_of_reference")}
    if event_type in ANSWER_TEXT:
        return {
            "message": data.get(ANSWER_TEXT[event_type]) or None,
            "agent_name": signature(data.get("agent_name"), language=language),
        }
    if event_type == WITHDRAWN:
        return {"reason": data.get("reason")}
    if event_type == QUESTION:
        return {
            "question": data.get("reason") or None,
            "agent_name": signature(data.get("agent_name"), language=language),
        }
    return {}
