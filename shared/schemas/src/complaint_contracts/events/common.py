"""Field types shared by the event modules: ids, actors, masked free text, timestamps."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, Field

from complaint_contracts.base import EventData
from complaint_contracts.privacy import find_contacts

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
MASKED_PHONE_PATTERN = r"^(?:[0-9]{3}\*{4}[0-9]{4}|\**[0-9]{0,2})$"
MASKED_EMAIL_PATTERN = r"^[^@\s]?\*{3}@[^@\s]+$"


def reject_raw_contacts(text: str) -> str:
    """Reject text that still carries a raw phone number or e-mail address (§10)."""
    if find_contacts(text):
        raise ValueError("text contains a raw phone number or e-mail address; mask it first")
    return text


ComplaintId = Annotated[
    str,
    Field(
        pattern=UUID_PATTERN,
        json_schema_extra={"format": "uuid"},
        description="The complaint's id (UUIDv7); also the record key and ce_subject",
    ),
]
"""A complaint id: a UUID in its canonical text form."""

Actor = Annotated[
    str,
    AfterValidator(reject_raw_contacts),
    Field(
        min_length=1,
        max_length=200,
        description=(
            "Who acted: a service name (e.g. 'routing', 'sla-watch'), the user id of an "
            "agent, team lead or manager, or 'customer'"
        ),
        examples=["routing", "agent-0042", "customer"],
    ),
]
"""Who did what an event records: a service, a user id, or the customer."""

MaskedText = Annotated[str, AfterValidator(reject_raw_contacts)]
"""Free text that must not contain raw contact details (they are masked before sending)."""

Timestamp = AwareDatetime
"""A point in time with its UTC offset (RFC 3339)."""

ClockId = Annotated[
    str,
    Field(min_length=1, description="Id of one SLA clock of the complaint, stable over its life"),
]


ErasureId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description="Id of the erasure request, the same on every complaint of the customer",
    ),
]


class ErasureCompleted(EventData):
    """Base of each service's confirmation of ``complaint.erasure_requested`` (§10): the
    service has anonymised, in the same transaction as this event, everything it held of the
    complaint's customer. Intake's erasure status counts one per service and complaint; each
    producing service has its own event type on its own topic (one producer per topic)."""

    complaint_id: ComplaintId
    erasure_id: ErasureId
    erased_at: Timestamp
    actor: Actor
