"""Bodies of the rights API: the export's request and answer, the contact correction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from complaint_contracts.vocabulary import PreferredChannel
from complaint_runtime.text import SingleLine
from pydantic import AfterValidator, BaseModel, Field, StringConstraints, model_validator

# The POST's own validators: a correction and an export accept what a complaint accepts.
from intake.complaints.schemas import Name, ShortText, Strict, _email, _phone

Phone = Annotated[str, StringConstraints(max_length=24), AfterValidator(_phone)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
FrontEndName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SingleLine
]


class ExportIn(Strict):
    """The customer whose data is exported: exactly one of ``external_ref`` (the front end's
    customer id), ``phone`` or ``email``."""

    external_ref: ShortText | None = Field(
        None, description="The front end's customer id (an administrator names `front_end`)"
    )
    phone: Phone | None = None
    email: Email | None = None
    front_end: FrontEndName | None = Field(
        None,
        description=(
            "Administrators: the front end the customer belongs to (required with "
            "`external_ref`; with a phone or e-mail, only that front end's complaints). A "
            "front end's key exports its own front end's customers only"
        ),
    )
    after: Annotated[str, StringConstraints(min_length=1, max_length=36), SingleLine] | None = (
        Field(None, description="The previous page's `next_after`: the next page")
    )

    @model_validator(mode="after")
    def _one_identifier(self) -> ExportIn:
        given = [name for name in ("external_ref", "phone", "email") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("name the customer by exactly one of external_ref, phone, email")
        return self


class ExportedCustomerOut(BaseModel):
    external_ref: str | None
    name: str | None
    phone: str | None
    email: str | None
    preferred_channel: str | None
    language: str
    tier: str
    timezone: str | None


class ExportedMessageOut(BaseModel):
    id: str
    channel: str
    text: str
    attachments: list[dict[str, Any]]
    received_at: datetime


class ExportedStepOut(BaseModel):
    type: str
    time: datetime
    data: dict[str, Any] = Field(description="What the customer's tracking view shows of it")


class ExportedComplaintOut(BaseModel):
    id: str
    reference: str
    channel: str
    status: str
    close_reason: str | None
    received_at: datetime
    closed_at: datetime | None
    subject: str
    description: str
    order_ref: str | None
    occurred_at: datetime | None
    attachments: list[dict[str, Any]] = Field(description="url, media_type, size")
    metadata: dict[str, str]
    related_complaint_id: str | None
    customer: ExportedCustomerOut
    messages: list[ExportedMessageOut] = Field(description="The customer's messages")
    timeline: list[ExportedStepOut] = Field(description="The steps the customer sees")


class CustomerExportOut(BaseModel):
    export_id: str = Field(description="The export's entry in intake's audit chain")
    exported_at: datetime
    complaints: list[ExportedComplaintOut]
    next_after: str | None = Field(
        description="More complaints follow: send it as `after` for the next page (null: none)"
    )


class ContactsPatchIn(Strict):
    """A JSON merge patch (RFC 7396) of the complaint's contact details: a member replaces
    the field, `null` removes it, an absent member keeps it."""

    name: Name | None = None
    phone: Phone | None = None
    email: Email | None = None
    preferred_channel: PreferredChannel | None = None

    def patch(self) -> dict[str, str | None]:
        """The members given (null ones included), as the merge takes them."""
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class ContactsCorrectedOut(BaseModel):
    complaint_id: str
    reference: str
    has_name: bool
    masked_phone: str | None
    masked_email: str | None
    preferred_channel: str | None
    corrected: list[str] = Field(description="The fields whose value changed (none: no change)")
    corrected_at: datetime
