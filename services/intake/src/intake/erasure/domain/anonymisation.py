"""What erasure leaves of a complaint: the facts its KPIs need (categories, priorities,
status, team, times, counts, ids of events and complaints), never what names or describes
the customer.

The history keeps each step's type and time and, of its data, only the values that are
structural: numbers, booleans, times and the string fields in :data:`KEPT_FIELDS` (codes,
ids, staff's team and user ids). Every other string is blanked to ``""``, lists and
objects under other fields are emptied, so a step still has the shape it had (the types
of its values) and no text. ``reason`` is kept only when it is a code (``withdrawn``,
``duplicate``), not a sentence someone wrote.

An erased complaint's customer reference is replaced by a random value with the
:data:`ERASED_PREFIX`, linkable to nothing (each complaint gets its own), and which tells
intake the complaint was erased (events arriving later are stored without texts).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, Final

ERASED_PREFIX: Final = "erased_"

KEPT_FIELDS: Final = frozenset(
    {
        # ids of complaints, events, requests, clocks and erasures; the reference
        "complaint_id", "duplicate_of", "related_complaint_id", "reference",
        "duplicate_of_reference", "erasure_id", "cause_event_id", "cause_event_type",
        "evidence_event_id", "confirmation_request_id", "request_id", "notification_id",
        "message_id", "in_reply_to", "clock_id", "calendar_id", "policy_id",
        # codes of the organisation's vocabularies
        "channel", "category", "subcategory", "new_category", "new_subcategory",
        "old_category", "old_subcategory", "priority", "new_priority", "old_priority",
        "emotion", "new_emotion", "old_emotion", "level", "current_level", "previous_level",
        "metric", "outcome", "trigger", "solution_type", "recipient_role", "language",
        "status", "template", "period", "matched_on", "customer_tier",
        # who on the staff side (team, user ids): KPIs per team and agent survive
        "team", "previous_team", "assignee", "previous_assignee", "owner", "actor",
    }
)  # fmt: skip
_CODE: Final = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TIME_FIELD: Final = re.compile(r"(_at|^since)$")


def erased_customer_ref() -> str:
    """A customer reference for an erased complaint: random, linkable to nothing."""
    return f"{ERASED_PREFIX}{secrets.token_hex(16)}"


def is_erased(customer_ref: str) -> bool:
    return customer_ref.startswith(ERASED_PREFIX)


def unusable_token_hash() -> str:
    """A tracking-token hash no token has: the customer's link stops working (the column
    is unique and required, so it is not emptied)."""
    return secrets.token_hex(32)


def blank_history_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A history step's data without free text (see the module's rules)."""
    return {name: _blank(name, value) for name, value in data.items()}


def _blank(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if _kept(name, value) else ""
    if isinstance(value, list):
        return [_blank(name, v) for v in value] if name in KEPT_FIELDS else []
    if isinstance(value, dict):
        return blank_history_data(value) if name in KEPT_FIELDS else {}
    return ""


def _kept(name: str, value: str) -> bool:
    if name in KEPT_FIELDS or _TIME_FIELD.search(name):
        return True
    return name == "reason" and bool(_CODE.match(value))
