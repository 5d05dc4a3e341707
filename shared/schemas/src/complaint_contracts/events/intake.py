"""Events produced by intake on the intake topic: complaints, customer messages, corrected
contact details, erasure, and one-time codes for a customer who lost their tracking link."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from complaint_contracts.base import EventData
from complaint_contracts.events.common import (
    MASKED_EMAIL_PATTERN,
    MASKED_PHONE_PATTERN,
    Actor,
    ComplaintId,
    MaskedText,
    Timestamp,
    reject_raw_contacts,
)
from complaint_contracts.vocabulary import Channel, Language, PreferredChannel, Tier

MAX_ATTACHMENTS = 10
IDENTITY_KINDS: tuple[str, ...] = ("id", "phone", "email")
IdentityKey = Annotated[
    str,
    Field(
        pattern=r"^(?:id|phone|email):[0-9a-f]{32}$",
        description="kind:keyed-hash of one normalised identifier (HMAC-SHA256, 32 hex digits)",
    ),
]


def _masked_metadata(values: dict[str, str]) -> dict[str, str]:
    for key, value in values.items():
        reject_raw_contacts(key)
        reject_raw_contacts(value)
    return values


class CustomerView(BaseModel):
    """The customer as events show them: a reference and masked contacts, never raw ones."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_ref: str = Field(
        min_length=1, description="Keyed hash identifying the customer across channels"
    )
    external_ref: MaskedText | None = Field(
        None, description="The front end's customer id, if given (never a raw contact)"
    )
    masked_phone: str | None = Field(
        None,
        pattern=MASKED_PHONE_PATTERN,
        description="The phone number masked by privacy.mask_phone",
        examples=["138****5678"],
    )
    masked_email: str | None = Field(
        None,
        pattern=MASKED_EMAIL_PATTERN,
        description="The e-mail address masked by privacy.mask_email",
        examples=["z***@example.com"],
    )
    tier: Tier = "standard"
    language: Language = "zh-CN"
    preferred_channel: PreferredChannel | None = Field(
        None, description="Where the customer wants to be contacted"
    )
    identity_keys: tuple[IdentityKey, ...] = Field(
        (),
        max_length=3,
        description=(
            "One keyed hash per identifier the customer gave (customer id, phone, e-mail), "
            "each prefixed by its kind, so that complaints sharing any one of them are "
            "recognised as the same customer's across channels; never a raw contact"
        ),
        examples=[
            ("phone:5f0c1d2e3a4b5c6d7e8f901a2b3c4d5e", "email:0a1b2c3d4e5f60718293a4b5c6d7e8f9")
        ],
    )


class AttachmentRef(BaseModel):
    """A reference to a file the customer attached; the file itself stays where it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: MaskedText = Field(min_length=1)
    media_type: str = Field(examples=["image/jpeg"])
    size: int = Field(ge=0, description="Size in bytes")


class ComplaintReceived(EventData):
    """A front end posted a complaint and intake stored it (state `received`)."""

    event_name: ClassVar[str] = "complaint.received"

    complaint_id: ComplaintId
    reference: str = Field(
        description="Short human reference of the complaint", examples=["C-20261123-000042"]
    )
    channel: Channel
    customer: CustomerView
    subject: MaskedText = Field(description="Subject with contact details masked")
    description: MaskedText = Field(
        min_length=1,
        description=(
            "Description with contact details masked (the API takes up to 10 000 characters; "
            "masking may lengthen it slightly)"
        ),
    )
    order_ref: str | None = Field(None, description="Order or product reference, if given")
    occurred_at: datetime | None = Field(
        None, description="When the problem happened, as the customer said"
    )
    received_at: Timestamp
    attachments: tuple[AttachmentRef, ...] = Field((), max_length=MAX_ATTACHMENTS)
    metadata: Annotated[dict[str, str], AfterValidator(_masked_metadata)] = Field(
        default_factory=dict, description="Custom flat string map from the front end"
    )
    related_complaint_id: ComplaintId | None = Field(
        None,
        description=(
            "An earlier complaint this one follows up: the customer wrote on a complaint "
            "closed longer ago than the reopen window (intake's REOPEN_WINDOW_DAYS, 30 days "
            "by default), so a new complaint was opened with the message as its description "
            "and linked to it"
        ),
    )


class CustomerMessageReceived(EventData):
    """The customer sent a further message on an existing complaint.

    It resumes a complaint awaiting the customer, starts a next-response clock, and (via
    feedback, `complaint.reopened` with reason `customer_message`) reopens a closed
    complaint. Intake sends it for a closed complaint only within the reopen window (30
    days by default, the end included); a later message opens a new complaint instead
    (`complaint.received` with `related_complaint_id`).
    """

    event_name: ClassVar[str] = "complaint.customer_message_received"

    complaint_id: ComplaintId
    message_id: str = Field(min_length=1, description="Id of the message, unique per complaint")
    channel: Channel
    customer_ref: str = Field(min_length=1, description="Keyed hash identifying the customer")
    text: MaskedText = Field(min_length=1, description="Message with contact details masked")
    attachments: tuple[AttachmentRef, ...] = Field((), max_length=MAX_ATTACHMENTS)
    received_at: Timestamp


class ComplaintWithdrawn(EventData):
    """The customer withdrew their open complaint (requirements §3, Decision: withdrawal).

    The withdrawal is the customer's own confirmation: routing closes the case
    (`complaint.closed` with reason `withdrawn`) from any open state, without the closure
    guard's resolution fields. Intake refuses further messages on it.
    """

    event_name: ClassVar[str] = "complaint.withdrawn"

    complaint_id: ComplaintId
    customer_ref: str = Field(min_length=1, description="Keyed hash identifying the customer")
    reason: MaskedText | None = Field(
        None, max_length=2000, description="Why, in the customer's words (masked); optional"
    )
    withdrawn_at: Timestamp
    actor: Actor


CorrectableField = Literal["name", "phone", "email", "preferred_channel"]


class ComplaintContactsCorrected(EventData):
    """The complaint's contact details were corrected (the right to rectification, §10:
    intake's ``PATCH /v1/complaints/{id}/contacts``), in the transaction of the correction.

    The masked contacts, the preferred channel and the identity keys are the complaint's
    state *after* the correction, in the form ``complaint.received`` carries them
    (``customer.masked_phone``, ``customer.masked_email``, ``customer.preferred_channel``,
    ``customer.identity_keys``): a consumer replaces what it holds with them, so applying
    the event twice or applying a later one leaves the latest (no identity keys: an event
    of v1 before they were added, which changes none).
    ``corrected`` names the fields that changed, never their values (the name is in no
    event: a correction of the name alone is announced for the case's history, the masked
    contacts as they were). The raw contacts stay in intake; the customer reference is not
    changed by a correction. Intake sends none for an erased complaint and none when
    nothing changed.
    """

    event_name: ClassVar[str] = "complaint.contacts_corrected"

    complaint_id: ComplaintId
    customer_ref: str = Field(
        min_length=1, description="Keyed hash identifying the customer (kept by a correction)"
    )
    corrected: tuple[CorrectableField, ...] = Field(
        min_length=1,
        max_length=4,
        description="Which contact fields the correction changed (never their values)",
        examples=[("phone", "preferred_channel")],
    )
    masked_phone: str | None = Field(
        None,
        pattern=MASKED_PHONE_PATTERN,
        description="The phone number after the correction, masked; null: the complaint has none",
        examples=["139****1111"],
    )
    masked_email: str | None = Field(
        None,
        pattern=MASKED_EMAIL_PATTERN,
        description="The e-mail address after the correction, masked; null: the complaint has none",
        examples=["z***@example.com"],
    )
    preferred_channel: PreferredChannel | None = Field(
        None, description="Where the customer wants to be contacted, after the correction"
    )
    identity_keys: tuple[IdentityKey, ...] = Field(
        (),
        max_length=3,
        description=(
            "The complaint's identity keys after the correction, computed as for "
            "`complaint.received` (`customer.identity_keys`: one keyed hash per identifier, "
            "never a raw contact): a consumer that matches complaints by them replaces the "
            "complaint's keys with these. Empty (an event from before the field): the keys "
            "are unchanged"
        ),
        examples=[("phone:7a1b2c3d4e5f60718293a4b5c6d7e8f9",)],
    )
    corrected_at: Timestamp
    actor: Actor = Field(
        description=(
            "Who corrected: an administrator (`admin:<user id>`) or the front end that "
            "filed the complaint (`front-end:<name>`)"
        ),
        examples=["admin:admin-7", "front-end:web"],
    )


class ErasureRequested(EventData):
    """A customer's personal data must be anonymised everywhere (PIPL / GDPR, §10).

    Intake sends one event per complaint of the customer, keyed by that complaint, so every
    service sees it in order with the complaint's other events. Every service anonymises
    what it holds about the complaint (and the customer) when it consumes it.
    """

    event_name: ClassVar[str] = "complaint.erasure_requested"

    complaint_id: ComplaintId
    erasure_id: str = Field(
        min_length=1,
        description="Id of the erasure request, the same on every complaint of the customer",
    )
    customer_ref: str = Field(min_length=1, description="Keyed hash identifying the customer")
    reason: Literal["customer_request", "retention_expired"] = Field(
        description=(
            "customer_request: the customer asked to be erased; retention_expired: the "
            "complaint has been closed longer than the configured retention period"
        )
    )
    requested_at: Timestamp
    actor: Actor


class TrackingCodeRequested(EventData):
    """A customer who lost their tracking link proved the complaint's reference and one of
    the contacts it was filed with (intake's lost-link page), and intake made a one-time
    code for it (6 digits, valid for a few minutes, a few attempts).

    Notify sends the code to the complaint's e-mail address, reading it just in time from
    intake's internal API (``GET /internal/v1/complaints/{id}/tracking-codes/{request_id}``,
    readable once and only while valid): the event never carries the code nor a contact.
    Entering the code on the page gives the customer a new tracking link.
    """

    event_name: ClassVar[str] = "complaint.tracking_code_requested"

    complaint_id: ComplaintId
    request_id: str = Field(
        min_length=1,
        max_length=64,
        description="Id of the code request (notify reads the code by it)",
    )
    channel: Literal["email"] = Field(
        description="Where the code goes: the complaint's e-mail address (the one channel so far)"
    )
    matched_on: Literal["email", "phone"] = Field(
        description="Which contact the customer entered and intake matched (keyed hashes)"
    )
    requested_at: Timestamp
    expires_at: Timestamp = Field(description="After this the code opens nothing")
