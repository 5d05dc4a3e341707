"""What a customer sends in, as intake's use cases take it: a complaint, or a message about
one. The API turns its validated request bodies into these, attribute for attribute
(the names are the bodies'); nothing here knows HTTP."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from complaint_contracts.vocabulary import Channel, Language, PreferredChannel, Tier


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str
    size: int


@dataclass(frozen=True)
class CustomerDetails:
    """``identity``: the front end's customer id (``customer_id``, else ``external_ref``)."""

    identity: str | None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    preferred_channel: PreferredChannel | None = None
    language: Language = "zh-CN"
    tier: Tier = "standard"


@dataclass(frozen=True)
class NewComplaint:
    channel: Channel
    customer: CustomerDetails
    subject: str
    description: str
    order_ref: str | None = None
    occurred_at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    timezone: str | None = None  # the customer's IANA zone, when the front end knows it


@dataclass(frozen=True)
class NewMessage:
    """``channel`` None: the complaint's own channel."""

    text: str
    channel: Channel | None = None
    attachments: tuple[Attachment, ...] = ()


def attachment_records(attachments: Iterable[Attachment]) -> list[dict[str, Any]]:
    """Attachments as the complaint and message rows store them (JSON)."""
    return [{"url": a.url, "media_type": a.media_type, "size": a.size} for a in attachments]
