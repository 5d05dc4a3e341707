"""What of a complaint's history its customer sees.

Customers see the steps of their complaint, not the internals (root causes, staff ids,
rules, SLA clocks, escalations, deliveries): an escalation is staff-only (it names who is
chasing the case internally), while a duplicate's customer is told which reference stands,
and nothing more about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from complaint_contracts.events import ComplaintDuplicateLinked, ComplaintEscalated

CUSTOMER_VISIBLE_PREFIX = "org.opencomplaints.complaint."
STAFF_ONLY_TYPES: frozenset[str] = frozenset({ComplaintEscalated.ce_type()})
DUPLICATE_LINKED = ComplaintDuplicateLinked.ce_type()


def visible_to_customer(event_type: str) -> bool:
    return event_type.startswith(CUSTOMER_VISIBLE_PREFIX) and event_type not in STAFF_ONLY_TYPES


def customer_data(event_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a history entry's data a customer may read (usually nothing)."""
    if event_type == DUPLICATE_LINKED:
        return {"duplicate_of_reference": data.get("duplicate_of_reference")}
    return {}
