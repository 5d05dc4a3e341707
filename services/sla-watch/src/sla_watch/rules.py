"""What every clock use case shares: the rules taken from the settings, the calendar of a
clock, writing a clock's derived instants back, and staging an event on the sla topic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_runtime.database import UnitOfWork
from sqlalchemy.ext.asyncio import AsyncSession

from sla_watch.clock_setup import ClockSetup, ComplaintFacts
from sla_watch.config import SlaSettings
from sla_watch.db import Clock, ComplaintSla
from sla_watch.domain import clock as rules_of
from sla_watch.domain.calendar import BusinessCalendar
from sla_watch.domain.clock import ClockView

SOURCE = topics.SLA.producer
ACTOR = "sla-watch"


@dataclass(frozen=True)
class SlaRules:
    """The configuration the use cases need: where clock terms and calendars come from,
    and the thresholds."""

    setup: ClockSetup
    warning_percents: tuple[int, ...] = (50, 75, 90)
    late_after_s: float = 5.0

    @classmethod
    def from_settings(cls, settings: SlaSettings, *, setup: ClockSetup) -> SlaRules:
        return cls(
            setup=setup,
            warning_percents=settings.sla_warning_percents,
            late_after_s=settings.sla_late_after_s,
        )

    async def calendar_of(self, session: AsyncSession, clock: Clock) -> BusinessCalendar:
        return await self.setup.calendar(session, clock.calendar_id)


def facts_of(row: ComplaintSla) -> ComplaintFacts:
    return ComplaintFacts(
        priority=row.priority,  # type: ignore[arg-type]
        category=row.category,
        tier=row.tier,
        channel=row.channel,
    )


def emit(uow: UnitOfWork, clock: Clock, data: EventData, *, time: datetime) -> None:
    uow.add_event(data, topic=topics.SLA.name, source=SOURCE, subject=clock.complaint_id, time=time)


def save(
    clock: Clock, view: ClockView, rules: SlaRules, now: datetime, *, calendar: BusinessCalendar
) -> None:
    """Write the view back with the deadline and next firing instant it implies."""
    clock.apply(view)
    clock.due_at = rules_of.due_at(view, calendar=calendar)
    clock.next_fire_at = rules_of.next_fire_at(view, rules.warning_percents, calendar=calendar)
    clock.updated_at = now
