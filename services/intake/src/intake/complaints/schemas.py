"""Request and response bodies of intake's HTTP API (requirements §2), strictly bounded."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from complaint_contracts.vocabulary import Channel, Language, PreferredChannel, Tier
from complaint_customer_web.times import is_zone_name
from complaint_runtime.text import MultiLine, SingleLine
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,22}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_MEDIA_TYPE = re.compile(r"^[a-z]+/[a-z0-9.+-]+$", re.IGNORECASE)


def _phone(value: str) -> str:
    if not _PHONE.match(value) or sum(c.isdigit() for c in value) < 6:
        raise ValueError("must be a phone number, e.g. +8613812345678")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("must be an e-mail address")
    return value


# One-line values (names, subject, ids, metadata) go into e-mail headers, signatures and
# one-line displays: no line break or control character. Texts keep their line breaks.
# Neither takes NUL, which PostgreSQL cannot store: a 422 here, not a storage error.
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SingleLine
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), SingleLine]
Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000), MultiLine
]
MetadataKey = Annotated[str, StringConstraints(min_length=1, max_length=64), SingleLine]
MetadataValue = Annotated[str, StringConstraints(max_length=500), SingleLine]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=10_000)


class CustomerIn(Strict):
    customer_id: ShortText | None = Field(None, description="The customer's id in your CRM")
    external_ref: ShortText | None = Field(None, description="Alias of customer_id")
    name: Name | None = None
    phone: Annotated[str, StringConstraints(max_length=24), AfterValidator(_phone)] | None = None
    email: Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)] | None = None
    preferred_channel: PreferredChannel | None = None
    language: Language = "zh-CN"
    tier: Tier = "standard"

    @model_validator(mode="after")
    def _identifiable(self) -> CustomerIn:
        if not (self.customer_id or self.external_ref or self.phone or self.email):
            raise ValueError("give at least one of customer_id, external_ref, phone, email")
        return self

    @property
    def identity(self) -> str | None:
        return self.customer_id or self.external_ref


class AttachmentIn(Strict):
    url: Annotated[
        str, StringConstraints(min_length=8, max_length=2000, pattern=r"^https?://\S+$"), SingleLine
    ]
    media_type: Annotated[
        str,
        StringConstraints(max_length=100),
        AfterValidator(
            lambda v: v if _MEDIA_TYPE.match(v) else _raise("must be a media type like image/png")
        ),
    ]
    size: int = Field(ge=0, le=100 * 1024 * 1024, description="Bytes")


def _zone(value: str) -> str:
    if not is_zone_name(value):
        raise ValueError("must be an IANA time zone name, e.g. Asia/Shanghai or Europe/Berlin")
    return value


def _raise(message: str) -> Any:
    raise ValueError(message)


class ComplaintIn(Strict):
    """A complaint as a front end posts it."""

    channel: Channel
    customer: CustomerIn
    subject: Subject
    description: Description
    order_ref: ShortText | None = None
    occurred_at: datetime | None = None
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    metadata: dict[MetadataKey, MetadataValue] = Field(default_factory=dict, max_length=50)
    timezone: Annotated[str, StringConstraints(max_length=64), AfterValidator(_zone)] | None = (
        Field(
            None,
            description=(
                "The customer's time zone (IANA name, e.g. Asia/Shanghai), when the front end "
                "knows it: the tracking page shows the promised times in it (else in the "
                "organisation's zone)"
            ),
            examples=["Asia/Shanghai"],
        )
    )

    @model_validator(mode="after")
    def _occurred_at_has_zone(self) -> ComplaintIn:
        if self.occurred_at is not None and self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at needs a time zone offset, e.g. 2026-11-23T10:00:00+08:00")
        return self


class MessageIn(Strict):
    """A customer's message about their complaint (e.g. the information an agent asked for)."""

    text: Description
    channel: Channel | None = Field(None, description="Defaults to the complaint's channel")
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


class MessageAccepted(BaseModel):
    """The message joined the complaint (it resumes one awaiting the customer, and reopens
    one closed within the reopen window)."""

    outcome: Literal["message_added"] = Field(
        "message_added", description="The message was added to this complaint"
    )
    message_id: str
    complaint_id: str
    received_at: datetime
    reopens: bool = Field(
        False,
        description=(
            "The complaint was closed within the reopen window (30 days by default): the "
            "message reopens it"
        ),
    )


class FollowUpOpened(BaseModel):
    """The complaint was closed longer ago than the reopen window (30 days by default): the
    message was not added to it but opened a new complaint, linked to it, with the message
    as its description. Give the customer the new complaint's tracking token or link: the
    old one's does not open it."""

    outcome: Literal["new_complaint"] = Field(
        "new_complaint", description="A new complaint was opened for the message"
    )
    detail: str = Field(description="What happened, for people")
    id: str = Field(description="The new complaint's id")
    reference: str = Field(description="The new complaint's reference")
    status: str
    tracking_token: str = Field(description="The new complaint's token: shown once")
    tracking_url: str
    received_at: datetime
    related_complaint_id: str = Field(description="The closed complaint it follows up")
    related_reference: str = Field(description="That complaint's reference")


MessageAnswer = Annotated[MessageAccepted | FollowUpOpened, Field(discriminator="outcome")]


class WithdrawalIn(Strict):
    """The customer withdraws their complaint; why is up to them."""

    reason: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), MultiLine] | None
    ) = Field(
        None,
        description=(
            "Why, in the customer's words (optional, 2000 characters at most); phone numbers "
            "and e-mail addresses in it are masked"
        ),
    )


class WithdrawalAccepted(BaseModel):
    """The complaint is withdrawn: closed, with close reason `withdrawn`."""

    complaint_id: str
    reference: str
    status: Literal["closed"] = Field(description="The complaint's status now")
    close_reason: Literal["withdrawn"]
    withdrawn_at: datetime
    reason: str | None = Field(description="The reason as it is kept (contacts masked)")


class ContactCard(BaseModel):
    """Raw contacts, for notify (and routing, for a lead's reveal) only: their own tokens."""

    complaint_id: str
    reference: str
    name: str | None
    email: str | None
    phone: str | None
    language: str
    preferred_channel: str | None
    tracking_url: str | None
    team: str | None
    assignee: str | None
    priority: str | None = Field(None, description="For staff notices, e.g. escalations")
    received_at: datetime = Field(description="When intake received the complaint")
    timezone: str = Field(
        description=(
            "The IANA zone to show times in: the complaint's own, else ORGANISATION_TIMEZONE"
        )
    )
    first_response_due_at: datetime | None = Field(
        None,
        description=(
            "The running first-response clock's due time; null before sla-watch armed it, "
            "while it is paused and after it stopped"
        ),
    )
    resolution_due_at: datetime | None = Field(
        None, description="The running resolution clock's due time; null likewise"
    )
    clocks_expected: bool = Field(
        False,
        description=(
            "True while sla-watch is still to arm the first-response clock (an open "
            "complaint, not a duplicate, no clock yet): an acknowledgement waits a moment"
        ),
    )


class ComplaintAccepted(BaseModel):
    id: str
    reference: str
    status: str
    tracking_token: str = Field(description="Give it to the customer: it opens their complaint")
    tracking_url: str
    received_at: datetime


class ForwardedReplyIn(Strict):
    """A customer's reply to a notification, as notify received it (internal API)."""

    text: Description
    channel: Literal["email", "sms"] = Field(description="How the customer replied")
    external_id: Annotated[
        str, StringConstraints(min_length=1, max_length=58, pattern=r"^[A-Za-z0-9._:-]+$")
    ] = Field(
        description=(
            "notify's id of the reply: the same id again adds nothing and gets the first "
            "answer back"
        )
    )
    received_at: AwareDatetime = Field(
        description="When notify received it (the reopen window is measured to it)"
    )


class ForwardedReplyAccepted(BaseModel):
    outcome: Literal["message_added", "new_complaint"]
    complaint_id: str = Field(
        description="The complaint the message joined, or the follow-up complaint it opened"
    )
    message_id: str | None = Field(None, description="The message's id (message_added)")
