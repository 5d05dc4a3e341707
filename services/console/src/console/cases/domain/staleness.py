"""A stale form: routing refused a command made on an older version of the case (409
``stale-case``) and named the history entries written since; the page shows them, with
the case as it is now, and keeps the user's draft so they can decide again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from console.queue.domain.rows import parse_time

MAX_SHOWN: Final = 20


@dataclass(frozen=True, slots=True)
class ChangeSince:
    action: str
    actor: str
    at: datetime | None


def changes_since(extensions: Mapping[str, Any]) -> tuple[ChangeSince, ...]:
    """The ``changes`` member of a stale-case problem (newest last, at most 20 shown)."""
    changes = extensions.get("changes")
    if not isinstance(changes, list):
        return ()
    found = [
        ChangeSince(
            action=str(c.get("action", "")),
            actor=str(c.get("actor", "")),
            at=parse_time(c.get("at")),
        )
        for c in changes
        if isinstance(c, Mapping)
    ]
    return tuple(found[-MAX_SHOWN:])
