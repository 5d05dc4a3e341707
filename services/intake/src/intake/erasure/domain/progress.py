"""When an erasure is complete: every complaint it covers erased in intake and confirmed by
each service that keeps data of it (routing, sla-watch, feedback, notify), and none held.

A complaint under a legal hold is not erased while the hold lasts; the erasure stays
``pending`` for it and erases it when the hold is released (then waits for its
confirmations like the others). An erasure that found no complaint is complete at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

ErasureStatus = Literal["pending", "completed"]
PENDING: Final = "pending"
COMPLETED: Final = "completed"

# The services that confirm an erasure, by the event type each confirms with.
CONFIRMING_SERVICES: Final = ("routing", "sla-watch", "feedback", "notify")


@dataclass(frozen=True)
class ComplaintProgress:
    """One complaint of an erasure: held, or erased at ``erased_at`` and confirmed by the
    services in ``confirmations`` (service → when it erased)."""

    complaint_id: str
    held: bool
    erased_at: datetime | None
    confirmations: Mapping[str, datetime]

    @property
    def awaiting(self) -> tuple[str, ...]:
        """The services whose confirmation is still missing (all of them while held)."""
        return tuple(s for s in CONFIRMING_SERVICES if s not in self.confirmations)

    @property
    def done(self) -> bool:
        return not self.held and self.erased_at is not None and not self.awaiting


def status_of(complaints: Collection[ComplaintProgress]) -> ErasureStatus:
    """``completed`` once every complaint is done (at once when there is none)."""
    return COMPLETED if all(c.done for c in complaints) else PENDING
