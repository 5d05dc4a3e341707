"""Events produced by feedback on the feedback topic: the closed loop with the customer (§7)
and the NPS programme.

Feedback asks the customer to confirm a resolution and rate it, and decides what the
answer (or the silence) means. Routing applies these events to the case: `confirmed` and
`auto_closed` lead to `complaint.closed`, `reopened` to a new `complaint.assigned`.

Once a period (a calendar month by default) feedback also asks a sample of the customers
whose complaint closed in it how likely they are to recommend the organisation (NPS,
0 to 10): `nps.survey_requested` (notify sends the invitation) and `nps.answered` (the
score, for the insights that compute the NPS). They are about a customer, not a complaint's
lifecycle: routing ignores them and the customer's tracking view does not show them.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from complaint_contracts.base import EventData
from complaint_contracts.events.common import (
    Actor,
    ComplaintId,
    ErasureCompleted,
    MaskedText,
    Timestamp,
)
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


NPS_PERIOD_PATTERN = (
    r"^(?:[0-9]{4}-[0-9]{2}"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
    r"/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)$"
)
NpsPeriod = Annotated[
    str,
    Field(
        pattern=NPS_PERIOD_PATTERN,
        max_length=41,
        description=(
            "The NPS period: a calendar month in the organisation's time zone (`2026-11`), "
            "or an ISO 8601 interval in UTC (`2026-11-23T00:00:00Z/2026-11-30T00:00:00Z`) "
            "for a period of fixed length or one an operator asked for"
        ),
        examples=["2026-11"],
    ),
]
_NPS_REQUEST_ID_DESCRIPTION = "Id of the NPS request (one per customer and period)"


class NpsSurveyRequested(EventData):
    """A customer sampled for a period's NPS survey is asked how likely they are to
    recommend the organisation (0 to 10).

    Feedback samples, after the period ended, a configured share of the customers with a
    complaint closed in it (reproducibly: a keyed hash of period and customer), at most one
    request per customer and period, never a customer who asked not to be asked again. The
    event is keyed by the customer's latest complaint closed in the period, through which
    notify finds their contacts; the link is fetched from feedback, never in the event.
    """

    event_name: ClassVar[str] = "nps.survey_requested"

    complaint_id: ComplaintId = Field(
        description=(
            "The customer's latest complaint closed in the period: the record key, and how "
            "notify looks up the customer's contacts"
        )
    )
    request_id: str = Field(min_length=1, description=_NPS_REQUEST_ID_DESCRIPTION)
    customer_ref: str = Field(min_length=1, description="The customer asked (keyed hash)")
    period: NpsPeriod
    channel: PreferredChannel = Field(description="The customer's preferred channel")
    language: Language = "zh-CN"
    requested_at: Timestamp
    expires_at: Timestamp = Field(description="The link takes an answer until then")


class NpsAnswered(EventData):
    """The customer answered an NPS survey (once per request).

    Promoters score 9–10, passives 7–8, detractors 0–6; the insights compute the period's
    NPS from these events. The comment goes out masked.
    """

    event_name: ClassVar[str] = "nps.answered"

    complaint_id: ComplaintId = Field(
        description="The complaint the request was keyed by (see nps.survey_requested)"
    )
    request_id: str = Field(min_length=1, description=_NPS_REQUEST_ID_DESCRIPTION)
    period: NpsPeriod
    score: int = Field(
        ge=0, le=10, description="How likely to recommend us, 0 (not at all) to 10 (extremely)"
    )
    comment: MaskedText | None = Field(None, description="The customer's comment, masked")
    answered_at: Timestamp
    actor: Actor = "customer"


class FeedbackErasureCompleted(ErasureCompleted):
    """Feedback dropped the customer's survey and NPS comments (scores and times stay)."""

    event_name: ClassVar[str] = "feedback.erasure_completed"

    actor: Actor = "feedback"
