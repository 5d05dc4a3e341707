"""The status a customer's view shows, from the events of the services that own each step.

Routing owns the state machine; feedback's events mark the steps routing records without an
event of its own.
"""

from __future__ import annotations

from datetime import datetime

from complaint_contracts.base import EventData
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintFirstResponseSent,
    ComplaintReopened,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
)

# The status each event means for the customer's view.
STATUS_AFTER: dict[type[EventData], str] = {
    ComplaintTriaged: "triaged",
    ComplaintAssigned: "assigned",
    ComplaintFirstResponseSent: "in_progress",
    ComplaintAwaitingCustomer: "awaiting_customer",
    ComplaintResumed: "in_progress",
    ComplaintResolved: "resolved",
    ComplaintConfirmationRequested: "awaiting_confirmation",
    ComplaintReopened: "reopened",
    ComplaintClosed: "closed",
}


def status_after(data: EventData) -> str | None:
    """The status ``data`` moves the complaint to; None when it leaves the status alone."""
    if isinstance(data, ComplaintAssigned) and data.handoff:
        return None  # a transfer changes hands, not the state
    return STATUS_AFTER.get(type(data))


def moves_forward(*, status_at: datetime | None, event_time: datetime) -> bool:
    """Topics are ordered per complaint but not with each other: a status only moves
    forward in event time, so a late event from another topic cannot roll it back."""
    return status_at is None or event_time >= status_at
