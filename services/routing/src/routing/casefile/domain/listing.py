"""The case list's filters, order and cursor (§ case lists).

**Order**: time to breach — the earliest ``due_at`` among the case's running SLA clocks
first; cases without a running clock after them; then received time and complaint id, so
that the order is total and stable.

**Cursor**: keyset pagination. The cursor is the sort key of the last row of a page
(due time, received time, complaint id), so the next page starts strictly after it
whatever was inserted meanwhile: a complaint arriving while a caller pages lands before or
after the cursor and never shifts the rows that existed when paging started (no row of
those is lost or repeated). A case whose own sort key changes while the caller pages (its
clock is paused, stopped or rescheduled) moves in the order like in any keyset list.

The cursor is opaque to callers: URL-safe base64 of a small JSON document holding the
position and a digest of the filters it was made for; a cursor that does not decode, or
that was made for other filters, is refused (422), never taken as "from the start".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from complaint_contracts.vocabulary import Category, Channel, Priority, Status
from complaint_runtime.errors import InvalidInput, field_error

SlaFilter = Literal["at_risk", "breached"]
DEFAULT_LIMIT: Final = 25
MAX_LIMIT: Final = 100
MAX_CURSOR_LENGTH: Final = 400
_CURSOR_VERSION: Final = 1
_ID_LENGTH: Final = 36


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """The list's filters: values of one filter combine with OR, filters with AND. Empty:
    no restriction. ``assignees`` may hold ``me``; ``query`` is the raw search text."""

    assignees: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    statuses: tuple[Status, ...] = ()
    priorities: tuple[Priority, ...] = ()
    sla: tuple[SlaFilter, ...] = ()
    channels: tuple[Channel, ...] = ()
    categories: tuple[Category, ...] = ()
    query: str | None = None

    def digest(self) -> str:
        """A short fingerprint of the filters (order and repetition of values ignored)."""
        canonical: dict[str, Any] = {
            "assignee": sorted(set(self.assignees)),
            "team": sorted(set(self.teams)),
            "status": sorted(set(self.statuses)),
            "priority": sorted(set(self.priorities)),
            "sla": sorted(set(self.sla)),
            "channel": sorted(set(self.channels)),
            "category": sorted(set(self.categories)),
            "q": (self.query or "").strip(),
        }
        text = json.dumps(canonical, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ListPosition:
    """A row's place in the list order (the sort key): ``due_at`` None sorts last."""

    due_at: datetime | None
    received_at: datetime
    complaint_id: str


def encode_cursor(position: ListPosition, *, filters_digest: str) -> str:
    document = {
        "v": _CURSOR_VERSION,
        "f": filters_digest,
        "d": _instant(position.due_at) if position.due_at is not None else None,
        "r": _instant(position.received_at),
        "i": position.complaint_id,
    }
    # UTF-8, not \uXXXX escapes: a position's id of 36 characters always fits the bound.
    raw = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, filters_digest: str) -> ListPosition:
    """The position a cursor holds; ``InvalidInput`` (422, field ``cursor``) when it is not
    a cursor of this list or was made for other filters."""
    document = _document(cursor)
    if document.get("f") != filters_digest:
        raise invalid_cursor(
            "The cursor was made for other filters: repeat the filters of the first page, "
            "or start again without a cursor."
        )
    due, received, complaint_id = document.get("d"), document.get("r"), document.get("i")
    if not isinstance(complaint_id, str) or not 0 < len(complaint_id) <= _ID_LENGTH:
        raise invalid_cursor()
    return ListPosition(
        due_at=None if due is None else _parse_instant(due),
        received_at=_parse_instant(received),
        complaint_id=complaint_id,
    )


def invalid_cursor(
    detail: str = "The cursor is not one this list gave out (use the 'next' of a page).",
) -> InvalidInput:
    return InvalidInput(
        detail,
        title="Invalid cursor",
        kind="invalid-cursor",
        errors=[field_error("cursor", detail, code="invalid_cursor", location="query")],
    )


def _document(cursor: str) -> dict[str, Any]:
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_cursor()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        document = json.loads(raw)
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise invalid_cursor() from exc
    if not isinstance(document, dict) or document.get("v") != _CURSOR_VERSION:
        raise invalid_cursor()
    return document


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _parse_instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise invalid_cursor()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise invalid_cursor() from exc
    if parsed.tzinfo is None:
        raise invalid_cursor()
    return parsed.astimezone(UTC)
