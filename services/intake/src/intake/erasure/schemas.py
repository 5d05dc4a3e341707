"""Request and response bodies of the erasure and legal-hold routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from complaint_runtime.text import MultiLine, SingleLine
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Contact = Annotated[str, StringConstraints(max_length=320), SingleLine]


class ErasureIn(BaseModel):
    """The customer, named by exactly one of their phone number and e-mail address."""

    model_config = ConfigDict(extra="forbid")

    phone: Contact | None = Field(None, description="As the complaints gave it, any format")
    email: Contact | None = Field(None, description="Matched case-insensitively")


class ErasureAccepted(BaseModel):
    erasure_id: str
    status: Literal["pending", "completed"]
    complaints: int = Field(description="Complaints of the customer the erasure covers")
    held: int = Field(description="Of those, kept by a legal hold (erased when released)")
    requested_at: datetime
    created: bool = Field(description="False: a pending erasure of this customer answered")
    status_url: str


class ComplaintErasure(BaseModel):
    complaint_id: str
    held: bool
    erased_at: datetime | None = Field(description="When intake anonymised it")
    confirmations: dict[str, datetime] = Field(description="Service → when it erased")
    awaiting: list[str] = Field(description="Services whose confirmation is missing")


class ErasureOut(BaseModel):
    erasure_id: str
    status: Literal["pending", "completed"]
    reason: Literal["customer_request", "retention_expired"]
    requested_at: datetime
    requested_by: str
    completed_at: datetime | None
    complaints: int
    held_complaints: list[str]
    items: list[ComplaintErasure]


class LegalHoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), MultiLine] = Field(
        description="Why (a case, an authority's request); contacts in it are masked"
    )


class LegalHoldOut(BaseModel):
    complaint_id: str
    active: bool
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    erasures: list[str] = Field(
        default_factory=list,
        description="On release: the erasures that waited and now erased the complaint",
    )
