"""Where a new clock's terms come from: the matching policy's target and its calendar.

The use cases in :mod:`sla_watch.service` ask a :class:`ClockSetup`; the running service
uses the one backed by the policies and calendars tables (``sla_watch.setup_db``), unit
tests of the clock rules may use :class:`StaticSetup` (targets by priority, 24×7).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from complaint_contracts.vocabulary import Priority
from sqlalchemy.ext.asyncio import AsyncSession

from sla_watch.domain.calendar import TWENTY_FOUR_SEVEN, BusinessCalendar

Metric = Literal["first_response", "next_response", "resolution"]


@dataclass(frozen=True)
class ComplaintFacts:
    """What policies match on (§6: priority, optionally category, customer tier, channel)."""

    priority: Priority
    category: str | None = None
    tier: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class ClockTerms:
    """What a new (or recomputed) clock gets."""

    target_seconds: int
    policy_id: str
    calendar: BusinessCalendar


class UnknownCalendarError(LookupError):
    """A clock names a calendar that no longer exists."""


class ClockSetup(Protocol):
    async def terms(
        self, session: AsyncSession, *, metric: Metric, facts: ComplaintFacts
    ) -> ClockTerms:
        """The first policy matching ``facts`` gives the target of ``metric`` and the
        calendar it counts in."""
        ...

    async def calendar(self, session: AsyncSession, calendar_id: str) -> BusinessCalendar:
        """The calendar of that id as it is now; raises :class:`UnknownCalendarError`."""
        ...


@dataclass(frozen=True)
class StaticSetup:
    """Targets by priority from fixed tables, every clock 24×7 (for tests of the rules)."""

    first_response: Mapping[str, int]
    resolution: Mapping[str, int]
    next_response: Mapping[str, int] | None = None

    async def terms(
        self, session: AsyncSession, *, metric: Metric, facts: ComplaintFacts
    ) -> ClockTerms:
        table = {
            "first_response": self.first_response,
            "next_response": self.next_response or self.first_response,
            "resolution": self.resolution,
        }[metric]
        return ClockTerms(
            target_seconds=table[facts.priority],
            policy_id=f"default-{facts.priority}",
            calendar=TWENTY_FOUR_SEVEN,
        )

    async def calendar(self, session: AsyncSession, calendar_id: str) -> BusinessCalendar:
        if calendar_id != TWENTY_FOUR_SEVEN.calendar_id:
            raise UnknownCalendarError(calendar_id)
        return TWENTY_FOUR_SEVEN
