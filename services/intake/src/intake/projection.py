"""The derived facts intake projects beside status and history (§2): escalation level
(sla-watch), duplicate-of and repeat count (routing); and what of them a customer sees.

Customers see the steps of their complaint, not the internals: an escalation is staff-only
(it names who is chasing the case internally), while a duplicate's customer is told which
reference stands, and nothing more about it.
"""

from __future__ import annotations

from typing import Any

from complaint_contracts.base import EventData
from complaint_contracts.events import (
    ComplaintDuplicateLinked,
    ComplaintEscalated,
    ComplaintTriaged,
)
from sqlalchemy.ext.asyncio import AsyncSession

from intake.db import Complaint, ComplaintRepository, HistoryEntry

CUSTOMER_VISIBLE_PREFIX = "org.opencomplaints.complaint."
STAFF_ONLY_TYPES: frozenset[str] = frozenset({ComplaintEscalated.ce_type()})
DUPLICATE_LINKED = ComplaintDuplicateLinked.ce_type()


async def apply_derived_facts(
    *, session: AsyncSession, complaint: Complaint, data: EventData
) -> dict[str, Any]:
    """Fold an event's derived facts into the complaint row.

    Returns what the history entry records beyond the event's own data: for a duplicate,
    the reference of the complaint that stands, looked up here because the event carries
    only its id and a customer knows complaints by reference.
    """
    if isinstance(data, ComplaintEscalated):
        # One producer, ordered per complaint on the sla topic: the latest level wins.
        complaint.escalation_level = data.level
    elif isinstance(data, ComplaintTriaged):
        complaint.repeat_count = data.repeat_count
    elif isinstance(data, ComplaintDuplicateLinked):
        original = await ComplaintRepository(session).get(data.duplicate_of)
        reference = original.reference if original is not None else None
        complaint.duplicate_of = data.duplicate_of
        complaint.duplicate_of_reference = reference
        return {"duplicate_of_reference": reference}
    return {}


def visible_to_customer(event_type: str) -> bool:
    return event_type.startswith(CUSTOMER_VISIBLE_PREFIX) and event_type not in STAFF_ONLY_TYPES


def customer_data(entry: HistoryEntry) -> dict[str, Any]:
    """The part of a history entry's data a customer may read (usually nothing)."""
    if entry.event_type == DUPLICATE_LINKED:
        return {"duplicate_of_reference": entry.data.get("duplicate_of_reference")}
    return {}
