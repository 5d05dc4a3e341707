"""Rescheduling an open clock under new terms (policy, calendar or priority change)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import structlog
from complaint_contracts.events import SlaClockRescheduled
from complaint_runtime.database import UnitOfWork

from sla_watch.clocks.domain import clock as clock_rules
from sla_watch.clocks.recording import stage_event, write_back
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock
from sla_watch.policies.domain.terms import ClockTerms

log = structlog.get_logger(__name__)

RescheduleReason = Literal["policy_changed", "calendar_changed", "priority_changed"]


async def reschedule_clock(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    clock: Clock,
    terms: ClockTerms,
    reason: RescheduleReason,
    now: datetime,
) -> bool:
    """Give an open clock new terms: target, policy and calendar; its paused time is
    counted again under the new calendar, its deadline and next firing instant follow.

    Thresholds already sent stay sent; one the new terms put in the past is due at once and
    goes out (late) on the firing loop's next round. Sends ``sla.clock_rescheduled`` when
    the deadline moved; returns whether it did. A stopped clock is left alone (False).
    The caller holds the clock's row lock (or the firing loop could fire it meanwhile).
    """
    if clock.state == "stopped":
        return False
    previous_due_at = clock.due_at
    view = clock_rules.reschedule(
        clock.view(), target_seconds=terms.target_seconds, calendar=terms.calendar
    )
    clock.target_seconds = terms.target_seconds
    clock.policy_id = terms.policy_id
    clock.calendar_id = terms.calendar.calendar_id
    write_back(clock, view, settings, now, calendar=terms.calendar)
    if clock.due_at == previous_due_at:
        return False
    stage_event(
        uow,
        clock,
        SlaClockRescheduled(
            complaint_id=clock.complaint_id,
            clock_id=clock.clock_id,
            metric=clock.metric,
            reason=reason,
            target_seconds=terms.target_seconds,
            previous_due_at=previous_due_at,
            due_at=clock.due_at,
            calendar_id=clock.calendar_id,
            policy_id=clock.policy_id,
        ),
        time=now,
    )
    log.info(
        "sla clock rescheduled",
        clock_id=clock.clock_id,
        reason=reason,
        previous_due_at=previous_due_at.isoformat(),
        due_at=clock.due_at.isoformat(),
    )
    return True
