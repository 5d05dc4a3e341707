"""Business calendars: how business seconds map onto wall-clock time.

Every clock computation goes through a :class:`BusinessCalendar`, so working hours, public
holidays and make-up working days (§6) can replace :class:`TwentyFourSeven` without
touching the clock rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol


class BusinessCalendar(Protocol):
    """Maps business seconds onto aware datetimes."""

    @property
    def calendar_id(self) -> str:
        """Stable name, sent in ``sla.clock_started`` as ``calendar_id``."""
        ...

    def add(self, start: datetime, seconds: int) -> datetime:
        """The instant at which ``seconds`` business seconds have passed since ``start``."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> int:
        """Whole business seconds between ``start`` and ``end`` (0 when end <= start)."""
        ...


class TwentyFourSeven:
    """Every second is a business second (P1 everywhere; for now every priority)."""

    calendar_id = "24x7"

    def add(self, start: datetime, seconds: int) -> datetime:
        _require_aware(start)
        return start + timedelta(seconds=seconds)

    def elapsed(self, start: datetime, end: datetime) -> int:
        _require_aware(start)
        _require_aware(end)
        # Floor, so a clock never reports a second it has not fully counted.
        return max(int((end - start) // timedelta(seconds=1)), 0)


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("business calendars need timezone-aware datetimes")


TWENTY_FOUR_SEVEN = TwentyFourSeven()
