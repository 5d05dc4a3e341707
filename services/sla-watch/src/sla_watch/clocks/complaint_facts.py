"""What a complaint's clocks match policies on changes: assignment (team), priority and
category corrections, reopen. Open clocks follow: the resolution clock restarts on a new
priority (and on reopen), the others are rescheduled under the policy now matching."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from complaint_contracts.vocabulary import Priority
from complaint_runtime.database import UnitOfWork

from sla_watch.clocks.reschedule import RescheduleReason, reschedule_clock
from sla_watch.clocks.service import pause_clocks, start_clock, stop_clocks
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import TEAM_LENGTH, Clock, ClockRepository, ComplaintSlaRepository
from sla_watch.policies.domain.policy import Metric
from sla_watch.policies.domain.terms import ComplaintFacts

log = structlog.get_logger(__name__)

REOPEN_PREFIX = "reopened"


async def set_team(
    *, uow: UnitOfWork, complaint_id: str, team: str, now: datetime | None = None
) -> bool:
    """The complaint's team goes on its clocks (all of them, for the at-risk view and
    reports) and on the clocks it gets later. False for a complaint not triaged yet.

    In a consumer's batch, whose preload locked the complaint's clocks and row
    (:func:`~sla_watch.clocks.service.lock_for_batch`), this sends no statement: the rows
    changed in memory are written by the transaction's flush, every complaint's at once."""
    team = team[:TEAM_LENGTH]
    clocks = ClockRepository(uow.session, lock=True)
    await clocks.open_of_complaint(complaint_id)  # lock order: clocks first
    row = await ComplaintSlaRepository(uow.session, lock=True).get(complaint_id)
    if row is None:
        log.debug("assignment of a complaint without clocks ignored")
        return False
    row.team = team
    row.updated_at = now or datetime.now(UTC)
    await clocks.set_team(complaint_id, team)
    return True


async def recategorize(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    complaint_id: str,
    old_priority: Priority,
    new_priority: Priority,
    new_category: str,
    reason: str,
    at: datetime,
    now: datetime | None = None,
) -> None:
    """Apply a recategorization (or a reopen, which routing records as one with a reason
    starting ``reopened``):

    * a new priority restarts the resolution clock (its target changes) and reschedules the
      open first- and next-response clocks (``priority_changed``);
    * a reopen keeping its priority restarts the resolution clock stopped at resolution;
    * a category-only change re-matches the policies of the open clocks
      (``policy_changed``); clocks whose terms stay the same send nothing.
    """
    now = now or datetime.now(UTC)
    clocks = ClockRepository(uow.session, lock=True)
    await clocks.open_of_complaint(complaint_id)  # lock order: clocks first
    row = await ComplaintSlaRepository(uow.session, lock=True).get(complaint_id)
    if row is None and not await clocks.has_any(complaint_id):
        log.debug("recategorization of a complaint without clocks ignored")
        return
    category_changed = row is not None and row.category != new_category
    if row is not None:
        row.priority = new_priority
        row.category = new_category
        row.updated_at = now
    priority_changed = new_priority != old_priority
    reopened = reason.startswith(REOPEN_PREFIX)
    restarted: Clock | None = None
    if priority_changed or (
        reopened and not await clocks.open_of_complaint(complaint_id, metric="resolution")
    ):
        restarted = await restart_resolution(
            uow=uow,
            settings=settings,
            complaint_id=complaint_id,
            priority=new_priority,
            at=at,
            reason=f"priority {old_priority} -> {new_priority}" if priority_changed else reason,
            now=now,
        )
    if not (priority_changed or category_changed):
        return
    await _rematch_open_clocks(
        uow=uow,
        settings=settings,
        clocks=clocks,
        complaint_id=complaint_id,
        facts=row.facts() if row is not None else ComplaintFacts(priority=new_priority),
        reason="priority_changed" if priority_changed else "policy_changed",
        skip=restarted,
        now=now,
    )


async def _rematch_open_clocks(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    clocks: ClockRepository,
    complaint_id: str,
    facts: ComplaintFacts,
    reason: RescheduleReason,
    skip: Clock | None,
    now: datetime,
) -> None:
    """The open clocks of the complaint (but ``skip``, just restarted) take the facts and
    the terms of the policy now matching them."""
    for clock in await clocks.open_of_complaint(complaint_id):
        if skip is not None and clock.clock_id == skip.clock_id:
            continue
        clock.priority = facts.priority
        clock.category = facts.category
        metric: Metric = clock.metric  # type: ignore[assignment]
        terms = await settings.terms.terms(uow.session, metric=metric, facts=facts)
        await reschedule_clock(
            uow=uow, settings=settings, clock=clock, terms=terms, reason=reason, now=now
        )


async def restart_resolution(
    *,
    uow: UnitOfWork,
    settings: ClockSettings,
    complaint_id: str,
    priority: Priority,
    at: datetime,
    reason: str,
    now: datetime | None = None,
) -> Clock | None:
    """A new priority (e.g. raised on reopen) gets a fresh resolution clock with the terms
    of the policy now matching; an open one is cancelled first. A paused clock's successor
    starts paused."""
    now = now or datetime.now(UTC)
    repository = ClockRepository(uow.session, lock=True)
    if not await repository.has_any(complaint_id):
        log.debug("priority change for a complaint without clocks ignored")
        return None
    open_before = await repository.open_of_complaint(complaint_id, metric="resolution")
    was_paused = any(c.state == "paused" for c in open_before)
    await stop_clocks(
        uow=uow,
        settings=settings,
        complaint_id=complaint_id,
        at=at,
        reason=reason,
        metric="resolution",
        cancel=True,
        now=now,
    )
    row = await ComplaintSlaRepository(uow.session, lock=True).get(complaint_id)
    facts = row.facts() if row is not None else ComplaintFacts(priority=priority)
    if facts.priority != priority:
        facts = ComplaintFacts(priority, facts.category, facts.tier, facts.channel)
    clock = await start_clock(
        uow=uow,
        settings=settings,
        complaint_id=complaint_id,
        metric="resolution",
        facts=facts,
        at=at,
        now=now,
        team=row.team if row is not None else None,
    )
    if was_paused:
        await pause_clocks(
            uow=uow,
            settings=settings,
            complaint_id=complaint_id,
            at=at,
            reason="awaiting_customer",
            now=now,
        )
    return clock
