"""When a complaint's personal data has been kept long enough (§10, retention).

A complaint is due when it is closed now (its status) and its latest closure
(``closed_at``, routing's time) lies more than the retention period back; the end belongs to
the period (a complaint closed exactly ``RETENTION_DAYS`` ago is not yet due). A reopened
complaint is open, so it is not due whatever its earlier closure; after its next closure the
period starts again. Whether it was already anonymised or is under a legal hold is the
erasure's to say (:mod:`intake.erasure`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

CLOSED: Final = "closed"
DEFAULT_RETENTION_DAYS: Final = 1095  # §10: three years


def retention_cutoff(now: datetime, period: timedelta) -> datetime:
    """Complaints closed strictly before this are due."""
    if period <= timedelta(0):
        raise ValueError("the retention period must be positive")
    return now - period


def is_due(*, status: str, closed_at: datetime | None, now: datetime, period: timedelta) -> bool:
    return status == CLOSED and closed_at is not None and closed_at < retention_cutoff(now, period)
