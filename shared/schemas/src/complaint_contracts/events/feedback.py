"""Events produced by feedback on the feedback topic: the closed loop with the customer (§7).

Feedback asks the customer to confirm a resolution and rate it, and decides what the
answer (or the silence) means. Routing applies these events to the case: `confirmed` and
`auto_closed` lead to `complaint.closed`, `reopened` to a new `complaint.assigned`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from complaint_contracts.base import EventData
from complaint_contracts.events.common import Actor, ComplaintId, MaskedText, Timestamp
from complaint_contracts.vocabulary import Language, PreferredChannel

ReopenReason = Literal["not_solved", "low_csat", "customer_message"]

_REQUEST_ID_DESCRIPTION = "Id of the confirmation request (one per resolution)"
_CSAT_DESCRIPTION = "Customer satisfaction, 1 (very dissatisfied) to 5 (very satisfied)"


class ComplaintConfirmationRequested(EventData):
    """The customer was asked to confirm the resolution and rate it (`awaiting_confirmation`).

    The request carries a signed single-use link that never appears in events; notify builds
    the message. Sent again, with `reminder` set, when the customer has not answered.
    """

    event_name: ClassVar[str] = "complaint.confirmation_requested"

    complaint_id: ComplaintId
    request_id: str = Field(min_length=1, description=_REQUEST_ID_DESCRIPTION)
    channel: PreferredChannel = Field(description="The customer's preferred channel")
    language: Language = "zh-CN"
    reminder: bool = Field(
        False,
        description=(
            "A reminder of an earlier, unanswered request (at most one per request, "
            "FEEDBACK_REMINDER_AFTER_H after it): same request_id and expires_at"
        ),
    )
    requested_at: Timestamp = Field(
        description="When the request was first sent (a reminder repeats the request's time)"
    )
    expires_at: Timestamp = Field(
        description="Without an answer by then the complaint is auto-closed"
    )


class ComplaintConfirmed(EventData):
    """The customer confirmed the complaint is solved (with a CSAT above the reopen limit)."""

    event_name: ClassVar[str] = "complaint.confirmed"

    complaint_id: ComplaintId
    request_id: str = Field(min_length=1, description=_REQUEST_ID_DESCRIPTION)
    csat: int | None = Field(None, ge=1, le=5, description=_CSAT_DESCRIPTION)
    comment: MaskedText | None = Field(None, description="The customer's comment, masked")
    answered_at: Timestamp
    actor: Actor = Field(
        "customer",
        description=(
            "'customer' when answered through the link, or the user id of the agent who "
            "recorded the answer (e.g. on a follow-up call)"
        ),
    )


class ComplaintReopened(EventData):
    """The complaint is not solved after all (state `reopened`).

    The customer said it is not solved, rated it CSAT ≤ 2, or wrote on the closed complaint
    (within the reopen window, 30 days by default: intake opens a new complaint for a later
    message). Routing gives it back to the same owner with priority raised by one level
    (never into P1) and a review task for the team lead.
    """

    event_name: ClassVar[str] = "complaint.reopened"

    complaint_id: ComplaintId
    reason: ReopenReason = Field(
        description=(
            "not_solved: the customer said it is not solved; low_csat: the rating was at or "
            "below the reopen limit; customer_message: the customer wrote on a closed complaint"
        )
    )
    request_id: str | None = Field(
        None, description="The confirmation request answered, when one was"
    )
    csat: int | None = Field(None, ge=1, le=5, description=_CSAT_DESCRIPTION)
    comment: MaskedText | None = Field(None, description="The customer's comment, masked")
    message_id: str | None = Field(
        None, description="For customer_message: the message that reopened the complaint"
    )
    reopened_at: Timestamp
    actor: Actor = "customer"


class ComplaintAutoClosed(EventData):
    """The customer did not answer the confirmation request in time (default 7 days).

    Recorded as an auto-closure, never as a confirmation; routing then closes the complaint.
    `not_reached` records that no channel could reach the customer (Decision: unreachable
    customers): the auto-close still applies, the team lead had a task about it.
    """

    event_name: ClassVar[str] = "complaint.auto_closed"

    complaint_id: ComplaintId
    request_id: str = Field(min_length=1, description=_REQUEST_ID_DESCRIPTION)
    requested_at: Timestamp = Field(description="When the first request was sent")
    expired_at: Timestamp = Field(description="When the request expired unanswered")
    reminders_sent: int = Field(0, ge=0, description="Reminders sent for the request (0 or 1)")
    not_reached: bool = Field(
        False,
        description=(
            "True: notify reported that no channel reaches the customer (notification.failed "
            "with reason no_channel for the request), so the customer was never asked"
        ),
    )
    actor: Actor = "feedback"
