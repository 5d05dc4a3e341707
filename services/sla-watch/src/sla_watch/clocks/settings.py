"""What the clock use cases are configured with: where a new clock's terms and every
clock's calendar come from, which warning thresholds are sent, and when a send is late."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from sla_watch.calendars.domain.calendar import BusinessCalendar
from sla_watch.db import Clock
from sla_watch.policies.terms_source import TermsSource


@dataclass(frozen=True)
class ClockSettings:
    """Built once by the composition root from the service's settings (and by tests with a
    :class:`~sla_watch.policies.terms_source.StaticTerms`)."""

    terms: TermsSource
    warning_percents: tuple[int, ...] = (50, 75, 90)
    late_after_s: float = 5.0

    async def calendar_of(self, session: AsyncSession, clock: Clock) -> BusinessCalendar:
        """The clock's calendar as it is now (raises ``UnknownCalendarError``)."""
        return await self.terms.calendar(session, clock.calendar_id)
