"""Events produced by intake on the intake topic."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from complaint_contracts.base import EventData
from complaint_contracts.vocabulary import Channel, Language, PreferredChannel, Tier


class CustomerView(BaseModel):
    """The customer as events show them: a reference and masked contacts, never raw ones."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_ref: str = Field(description="Keyed hash identifying the customer across channels")
    external_ref: str | None = Field(None, description="The front end's customer id, if given")
    masked_phone: str | None = Field(None, examples=["138****5678"])
    masked_email: str | None = Field(None, examples=["z***@example.com"])
    tier: Tier = "standard"
    language: Language = "zh-CN"
    preferred_channel: PreferredChannel | None = None


class AttachmentRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    media_type: str
    size: int = Field(ge=0)


class ComplaintReceived(EventData):
    """A front end posted a complaint and intake stored it."""

    event_name: ClassVar[str] = "complaint.received"

    complaint_id: str
    reference: str = Field(examples=["C-20261123-000042"])
    channel: Channel
    customer: CustomerView
    subject: str = Field(description="Subject with contact details masked")
    description: str = Field(description="Description with contact details masked")
    order_ref: str | None = None
    occurred_at: datetime | None = None
    received_at: datetime
    attachments: tuple[AttachmentRef, ...] = ()
    metadata: dict[str, str] = Field(default_factory=dict)
