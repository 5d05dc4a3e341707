"""When a confirmation request is reminded (§3: "one reminder after 24 h"), and when a
customer counts as not reached (Decision: unreachable customers).

A request is reminded **at most once**, and only while the customer can still answer: it
was sent (pending), nobody answered it, it has not expired, it was not superseded or
cancelled, and no channel was reported missing (a reminder nobody can receive would only
fail again). It is due ``reminder_after_s`` after the request was sent, never earlier.
The database query that finds candidates mirrors this rule; the rule decides on the
claimed rows, so the two cannot drift into sending a wrong reminder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from complaint_contracts.events import ComplaintConfirmationRequested, NotificationFailed

DEFAULT_REMINDER_AFTER_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class ReminderFacts:
    """What the rule reads of a request (a row of ``confirmation_requests``)."""

    status: str
    requested_at: datetime | None
    expires_at: datetime | None
    answered_at: datetime | None = None
    reminded_at: datetime | None = None
    unreached_at: datetime | None = None


def reminder_due_at(*, requested_at: datetime, reminder_after_s: float) -> datetime:
    """The earliest instant a request sent at ``requested_at`` may be reminded."""
    return requested_at + timedelta(seconds=reminder_after_s)


def reminder_due(facts: ReminderFacts, *, now: datetime, reminder_after_s: float) -> bool:
    """Whether the one reminder of the request goes out at ``now``."""
    if facts.status != "pending" or facts.requested_at is None or facts.expires_at is None:
        return False  # waiting (never sent), answered, expired, superseded or cancelled
    if facts.answered_at is not None or facts.reminded_at is not None:
        return False
    if facts.unreached_at is not None:
        return False
    due = reminder_due_at(requested_at=facts.requested_at, reminder_after_s=reminder_after_s)
    return due <= now < facts.expires_at


def reports_unreachable_customer(failed: NotificationFailed) -> bool:
    """notify's final word that no channel reaches the customer about a confirmation request
    (the request or its reminder): the request is recorded as not reached."""
    return (
        failed.reason == "no_channel"
        and failed.recipient_role == "customer"
        and failed.cause_event_type == ComplaintConfirmationRequested.ce_type()
    )
