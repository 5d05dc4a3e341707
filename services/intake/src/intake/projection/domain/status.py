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


def held_by_withdrawal(data: EventData, *, status: str, close_reason: str | None) -> bool:
    """A withdrawn complaint stays closed in the view: intake closes it the moment the
    customer withdraws it, before routing hears of it, so the steps routing took meanwhile
    (an assignment, a first response) arrive later in event time and must not open it again.
    Only a closure moves it: routing's own, withdrawn too, or the one that won a race with
    the withdrawal (a confirmation), which routing's state machine then keeps."""
    return (
        status == "closed" and close_reason == "withdrawn" and not isinstance(data, ComplaintClosed)
    )


def shown_close_reason(*, status: str, close_reason: str | None) -> str | None:
    """Why the complaint is closed, while it is (the row keeps the latest closure after a
    reopen, for the reopen window)."""
    return close_reason if status == "closed" else None


def moves_forward(*, status_at: datetime | None, event_time: datetime) -> bool:
    """Topics are ordered per complaint but not with each other: a status only moves
    forward in event time, so a late event from another topic cannot roll it back."""
    return status_at is None or event_time >= status_at
