"""What every clock use case does with a changed clock: write its state back with the
deadline and next firing instant it implies, and stage the event describing the change on
the sla topic, in the caller's transaction (so the row and its events commit together)."""

from __future__ import annotations

from datetime import datetime

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_runtime.database import UnitOfWork

from sla_watch.calendars.domain.calendar import BusinessCalendar
from sla_watch.clocks.domain import clock as clock_rules
from sla_watch.clocks.domain.clock import ClockView
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock

SOURCE = topics.SLA.producer
ACTOR = "sla-watch"


def stage_event(uow: UnitOfWork, clock: Clock, data: EventData, *, time: datetime) -> None:
    uow.add_event(data, topic=topics.SLA.name, source=SOURCE, subject=clock.complaint_id, time=time)


def write_back(
    clock: Clock,
    view: ClockView,
    settings: ClockSettings,
    now: datetime,
    *,
    calendar: BusinessCalendar,
) -> None:
    """Write the view back with the deadline and next firing instant it implies."""
    clock.apply(view)
    clock.due_at = clock_rules.due_at(view, calendar=calendar)
    clock.next_fire_at = clock_rules.next_fire_at(
        view, settings.warning_percents, calendar=calendar
    )
    clock.updated_at = now
