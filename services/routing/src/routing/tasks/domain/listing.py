"""The task list's filters, order and cursor.

**Order**: due time, then task id: the task that falls due first comes first, and the order
is total and stable. **Overdue**: an open task past its due time (``overdue=true``; the list
also counts them, see ``routing.tasks.service.list_tasks``). **Cursor**: keyset, like the case lists
(:mod:`routing.casefile.domain.listing`): the sort key of a page's last row and a digest of
the filters it was made for, URL-safe base64 of a small JSON document; a cursor that does
not decode or was made for other filters is refused (422 ``invalid-cursor``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from routing.casefile.domain.listing import invalid_cursor
from routing.tasks.domain.rules import TaskKind, TaskStatus

DEFAULT_LIMIT: Final = 25
MAX_LIMIT: Final = 100
MAX_CURSOR_LENGTH: Final = 300
_CURSOR_VERSION: Final = 1


@dataclass(frozen=True, slots=True)
class TaskFilters:
    """None: no restriction. ``assignee`` may be ``me``. ``overdue``: true, open tasks past
    their due time; false, the others."""

    status: TaskStatus | None = None
    team: str | None = None
    assignee: str | None = None
    kind: TaskKind | None = None
    overdue: bool | None = None

    def digest(self) -> str:
        canonical: dict[str, str | bool | None] = {
            "status": self.status,
            "team": self.team,
            "assignee": self.assignee,
            "kind": self.kind,
        }
        if self.overdue is not None:  # cursors of lists without it stay valid
            canonical["overdue"] = self.overdue
        text = json.dumps(canonical, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class TaskPosition:
    """A task's place in the list order."""

    due_at: datetime
    task_id: int


def encode_cursor(position: TaskPosition, *, filters_digest: str) -> str:
    document = {
        "v": _CURSOR_VERSION,
        "f": filters_digest,
        "d": position.due_at.astimezone(UTC).isoformat(),
        "i": position.task_id,
    }
    raw = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, filters_digest: str) -> TaskPosition:
    """The position a cursor holds; ``InvalidInput`` (422, field ``cursor``) otherwise."""
    document = _document(cursor)
    if document.get("f") != filters_digest:
        raise invalid_cursor(
            "The cursor was made for other filters: repeat the filters of the first page, "
            "or start again without a cursor."
        )
    due, task_id = document.get("d"), document.get("i")
    if not isinstance(due, str) or not isinstance(task_id, int) or isinstance(task_id, bool):
        raise invalid_cursor()
    try:
        parsed = datetime.fromisoformat(due)
    except ValueError as exc:
        raise invalid_cursor() from exc
    if parsed.tzinfo is None:
        raise invalid_cursor()
    return TaskPosition(parsed.astimezone(UTC), task_id)


def _document(cursor: str) -> dict[str, Any]:
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_cursor()
    try:
        document = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise invalid_cursor() from exc
    if not isinstance(document, dict) or document.get("v") != _CURSOR_VERSION:
        raise invalid_cursor()
    return document
