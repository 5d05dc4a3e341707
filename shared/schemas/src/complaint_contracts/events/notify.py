"""Events produced by notify on the notify topic: the delivery log of notifications (§8).

Notify resolves real contacts just in time over the intake API; events only ever carry the
masked recipient. `notification_id` is stable across retries and redeliveries of the
same message, so "never the same message twice" can be checked from the events.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from complaint_contracts.base import EventData
from complaint_contracts.events.common import (
    Actor,
    ComplaintId,
    ErasureCompleted,
    MaskedText,
    Timestamp,
)
from complaint_contracts.vocabulary import Language

NotificationChannel = Literal["email", "sms", "webhook", "wecom", "dingtalk", "lark"]
RecipientRole = Literal[
    "customer", "agent", "team_lead", "manager", "senior_group", "subscriber", "team_chat"
]
FailureReason = Literal["no_channel"]
"""Why a notification failed, where another service acts on it. no_channel: no channel notify
can use reaches the recipient (e.g. a customer without an e-mail address, and without a phone
number or an SMS provider), or every channel that did failed for good."""

_NOTIFICATION_ID = "Id of the notification (delivery id), stable across retries"
_RECIPIENT = (
    "The recipient, masked: a masked phone or e-mail address, a user id, or the webhook's "
    "or robot's name"
)
_CAUSE_ID = "ce_id of the event that caused the notification"


class NotificationSent(EventData):
    """A notification was delivered to its channel (accepted by the SMTP server, SMS
    provider, webhook or IM robot)."""

    event_name: ClassVar[str] = "notification.sent"

    complaint_id: ComplaintId
    notification_id: str = Field(min_length=1, description=_NOTIFICATION_ID)
    channel: NotificationChannel
    template: str = Field(
        min_length=1,
        description="Template used (per event type and language)",
        examples=["complaint.received.customer"],
    )
    language: Language = "zh-CN"
    recipient_role: RecipientRole
    recipient: MaskedText = Field(
        min_length=1, description=_RECIPIENT, examples=["138****5678", "z***@example.com"]
    )
    cause_event_id: str = Field(min_length=1, description=_CAUSE_ID)
    cause_event_type: str = Field(
        min_length=1,
        description="ce_type of the event that caused the notification",
        examples=["org.opencomplaints.complaint.received.v1"],
    )
    attempts: int = Field(1, ge=1, description="Delivery attempts it took, this one included")
    redelivery: bool = Field(False, description="A manual redelivery of an earlier message")
    sent_at: Timestamp
    actor: Actor = Field(
        "notify", description="'notify', or the user id who asked for a manual redelivery"
    )


class NotificationFailed(EventData):
    """A delivery attempt failed; `final` says whether notify has given up."""

    event_name: ClassVar[str] = "notification.failed"

    complaint_id: ComplaintId
    notification_id: str = Field(min_length=1, description=_NOTIFICATION_ID)
    channel: NotificationChannel
    template: str = Field(min_length=1, description="Template used")
    recipient_role: RecipientRole
    recipient: MaskedText = Field(min_length=1, description=_RECIPIENT)
    cause_event_id: str = Field(min_length=1, description=_CAUSE_ID)
    cause_event_type: str = Field(min_length=1)
    error: MaskedText = Field(
        min_length=1, description="What went wrong, with contact details masked"
    )
    attempts: int = Field(ge=1, description="Delivery attempts made so far")
    final: bool = Field(description="No more automatic retries (manual redelivery is possible)")
    next_attempt_at: Timestamp | None = Field(None, description="When the next retry is due")
    reason: FailureReason | None = Field(
        None,
        description=(
            "Why, when it is a fact others act on: no_channel, no channel reaches the "
            "recipient (final; for a customer's confirmation request routing opens a "
            "customer_unreachable task and feedback records the request as not reached)"
        ),
    )
    failed_at: Timestamp
    actor: Actor = "notify"


class NotificationErasureCompleted(ErasureCompleted):
    """Notify dropped unsent messages to the customer and blanked what its delivery log held of
    them (masked recipients, rendered texts, errors)."""

    event_name: ClassVar[str] = "notification.erasure_completed"

    actor: Actor = "notify"
