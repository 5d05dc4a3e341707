"""Sending a clock's thresholds: its warnings and breach, each exactly once, with the
escalation a breach causes. The firing loop stages a whole round of clocks with these (see
:mod:`sla_watch.firing.service`); the clock use cases fire one clock (e.g. before stopping
it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from complaint_contracts.base import EventData
from complaint_contracts.events import SlaBreached, SlaWarning
from complaint_runtime.database import UnitOfWork

from sla_watch import metrics
from sla_watch.calendars.domain.calendar import BusinessCalendar
from sla_watch.clocks.domain import clock as clock_rules
from sla_watch.clocks.domain.clock import BREACH, Threshold
from sla_watch.clocks.recording import stage_event, write_back
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock
from sla_watch.firing.escalation import BreachLedger

log = structlog.get_logger(__name__)


def due_now(
    clock: Clock,
    settings: ClockSettings,
    now: datetime,
    *,
    calendar: BusinessCalendar,
    reached_by: datetime | None = None,
) -> list[Threshold]:
    """The thresholds of ``clock`` reached by ``now`` (or ``reached_by``) and not sent yet."""
    return clock_rules.due_thresholds(
        clock.view(),
        now,
        settings.warning_percents,
        calendar=calendar,
        late_after_s=settings.late_after_s,
        reached_by=reached_by,
    )


def stage_thresholds(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    clock: Clock,
    due: Sequence[Threshold],
    now: datetime,
    calendar: BusinessCalendar,
    ledger: BreachLedger,
) -> None:
    """Remember ``due`` on the row and stage their events in the same transaction: exactly
    once per threshold. A breach raises the complaint's escalation level when the ladder
    says so (``ledger`` holds the complaint's row and breach count)."""
    write_back(clock, clock_rules.record_fired(clock.view(), due), settings, now, calendar=calendar)
    for threshold in due:
        if threshold.percent == BREACH:
            count, escalated = ledger.breach(clock, now=now)
            data: EventData = SlaBreached(
                complaint_id=clock.complaint_id,
                clock_id=clock.clock_id,
                metric=clock.metric,
                due_at=clock.due_at,
                late=threshold.late,
                priority=clock.priority,
                breach_count=count,
            )
            stage_event(uow, clock, data, time=threshold.reached_at)
            if escalated is not None:
                stage_event(uow, clock, escalated, time=threshold.reached_at)
        else:
            data = SlaWarning(
                complaint_id=clock.complaint_id,
                clock_id=clock.clock_id,
                metric=clock.metric,
                percent=threshold.percent,
                reached_at=threshold.reached_at,
                due_at=clock.due_at,
                late=threshold.late,
                priority=clock.priority,
            )
            stage_event(uow, clock, data, time=threshold.reached_at)


def report_fired(clock: Clock, due: Sequence[Threshold]) -> None:
    """Metrics and the log line of thresholds staged (called once their transaction is sure
    to keep them, so a round retried clock by clock does not count twice).

    One line per clock, with its ids given here rather than bound as context: a round
    catching up reports thousands of clocks, and the line was most of its Python time."""
    if not due:
        return
    for threshold in due:
        kind = "breached" if threshold.percent == BREACH else "warning"
        metrics.EVENTS_FIRED.labels(kind, "true" if threshold.late else "false").inc()
    log.info(
        "sla thresholds reached",
        correlation_id=clock.correlation_id,
        complaint_id=clock.complaint_id,
        clock_id=clock.clock_id,
        metric=clock.metric,
        thresholds=[{"percent": t.percent, "late": t.late} for t in due],
    )


async def fire_thresholds(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    clock: Clock,
    now: datetime,
    reached_by: datetime | None = None,
    calendar: BusinessCalendar | None = None,
) -> list[Threshold]:
    """Send every threshold of ``clock`` reached by ``now`` (or ``reached_by``) and not sent
    yet, and remember them on the row in the same transaction: exactly once per threshold.
    A breach raises the complaint's escalation level when the ladder says so.
    ``calendar``: the clock's calendar when the caller has it at hand."""
    calendar = calendar or await settings.calendar_of(uow.session, clock)
    due = due_now(clock, settings, now, calendar=calendar, reached_by=reached_by)
    breaching = [clock] if any(t.percent == BREACH for t in due) else []
    # Loaded before the clock changes: see BreachLedger.
    ledger = await BreachLedger.load(uow, breaching, now=now)
    stage_thresholds(
        uow=uow, settings=settings, clock=clock, due=due, now=now, calendar=calendar, ledger=ledger
    )
    report_fired(clock, due)
    return due
