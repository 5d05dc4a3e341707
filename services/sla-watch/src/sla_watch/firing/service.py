"""A firing round: sends the warnings and breaches of due clocks, exactly once (the loop
running the rounds is :mod:`sla_watch.firing.loop`).

Due clocks are found through the partial index on ``next_fire_at`` (never by scanning all
clocks). Each round is one transaction: the outbox rows and the clocks' record of what was
sent commit together, so a crash anywhere either sends a threshold and remembers it, or does
neither and the next round (after a restart too) sends it, late if it is overdue by then.
On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several replicas share the due clocks.

A round first fires all its clocks in one go (one savepoint, one flush: a few statements
per round, not per clock, since catching up after downtime is bound by round trips). Only
if that fails is the round redone clock by clock, each in its own savepoint, so one clock's
failure does not hold back every other complaint's warnings.

Why this scales: the cost of a round is the number of clocks due, not the number open. A
million open clocks with deadlines spread over days cost an index range scan of the few due
now (``SLA_FIRE_BATCH`` at most per round; rounds repeat at once while they come back full,
so a backlog after downtime drains at the speed of the database). Breaches are counted per
round, with the complaints' rows locked in id order first (:class:`BreachLedger`), and the
round asks each calendar once, not once per clock. Thresholds that fell due while sla-watch
was down go out on the first rounds after it is back, marked ``late``. ``make bench``
measures this with one million open clocks; an integration test SIGKILLs sla-watch while a
round holding 200 clocks is open and checks that every threshold is sent exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from complaint_runtime.consumer import is_transient
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database, UnitOfWork

from sla_watch import metrics
from sla_watch.calendars.domain.calendar import BusinessCalendar
from sla_watch.clocks.domain.clock import BREACH, Threshold
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ClockRepository
from sla_watch.firing.escalation import BreachLedger
from sla_watch.firing.thresholds import due_now, fire_thresholds, report_fired, stage_thresholds

log = structlog.get_logger(__name__)


async def fire_due(
    *,
    database: Database,
    settings: ClockSettings,
    now: datetime | None = None,
    batch: int = 500,
) -> int:
    """One round: every threshold of up to ``batch`` due clocks; returns the clocks handled."""
    now = now or datetime.now(UTC)
    async with database.unit_of_work() as uow:
        due = await ClockRepository(uow.session).due(now, limit=batch)
        if not due:
            return 0
        # A round asks the terms source once per calendar, not once per clock: a batch of 500
        # clocks usually shares a handful of calendars.
        calendars: dict[str, BusinessCalendar] = {}
        try:
            async with uow.session.begin_nested():
                fired = await _fire_together(uow, settings, due, now=now, calendars=calendars)
                await uow.session.flush()
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning("firing a round in one go failed; clock by clock", error=repr(exc)[:300])
            await _fire_one_by_one(uow, settings, [c.clock_id for c in due], now, calendars)
            return len(due)
    for clock, thresholds in fired:
        report_fired(clock, thresholds)
    return len(due)


class _RoundCalendar:
    """A calendar remembering its instants for one round: a clock's thresholds are looked
    up to find the due ones, again for its next firing instant and its deadline."""

    def __init__(self, calendar: BusinessCalendar):
        self._calendar = calendar
        self._instants: dict[tuple[datetime, int], datetime] = {}

    @property
    def calendar_id(self) -> str:
        return self._calendar.calendar_id

    def add(self, start: datetime, seconds: int) -> datetime:
        key = (start, seconds)
        instant = self._instants.get(key)
        if instant is None:
            instant = self._instants[key] = self._calendar.add(start, seconds)
        return instant

    def elapsed(self, start: datetime, end: datetime) -> int:
        return self._calendar.elapsed(start, end)


async def _calendar(
    uow: UnitOfWork, settings: ClockSettings, clock: Clock, calendars: dict[str, BusinessCalendar]
) -> BusinessCalendar:
    calendar = calendars.get(clock.calendar_id)
    if calendar is None:
        calendar = _RoundCalendar(await settings.calendar_of(uow.session, clock))
        calendars[clock.calendar_id] = calendar
    return calendar


async def _fire_together(
    uow: UnitOfWork,
    settings: ClockSettings,
    clocks: Sequence[Clock],
    *,
    now: datetime,
    calendars: dict[str, BusinessCalendar],
) -> list[tuple[Clock, list[Threshold]]]:
    """Stage the thresholds of every clock; the caller flushes and reports them."""
    plans = []
    for clock in clocks:
        calendar = await _calendar(uow, settings, clock, calendars)
        plans.append((clock, calendar, due_now(clock, settings, now, calendar=calendar)))
    breaching = [c for c, _, due in plans if any(t.percent == BREACH for t in due)]
    # The complaints' rows and breach counts in two statements, read before any clock of
    # the round changes (see BreachLedger).
    ledger = await BreachLedger.load(uow, breaching, now=now)
    for clock, calendar, due in plans:
        with caused_by(
            correlation_id=clock.correlation_id,
            causation_id=None,
            complaint_id=clock.complaint_id,
            clock_id=clock.clock_id,
        ):
            stage_thresholds(
                uow=uow,
                settings=settings,
                clock=clock,
                due=due,
                now=now,
                calendar=calendar,
                ledger=ledger,
            )
    return [(clock, due) for clock, _, due in plans]


async def _fire_one_by_one(
    uow: UnitOfWork,
    settings: ClockSettings,
    clock_ids: Sequence[str],
    now: datetime,
    calendars: dict[str, BusinessCalendar],
) -> None:
    # The rolled-back savepoint expired what it had changed: read the clocks again (still
    # locked by this transaction).
    clocks = await ClockRepository(uow.session).reload(clock_ids)
    for clock in clocks:
        with caused_by(
            correlation_id=clock.correlation_id,
            causation_id=None,
            complaint_id=clock.complaint_id,
            clock_id=clock.clock_id,
        ):
            try:
                async with uow.session.begin_nested():
                    calendar = await _calendar(uow, settings, clock, calendars)
                    await fire_thresholds(
                        uow=uow, settings=settings, clock=clock, now=now, calendar=calendar
                    )
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.exception("firing a clock failed; the others go on")
                metrics.FIRE_FAILURES.inc()


async def count_running(*, database: Database) -> None:
    async with database.sessions() as session:
        counts = await ClockRepository(session).running_by_metric()
    for metric in ("first_response", "next_response", "resolution"):
        metrics.CLOCKS_RUNNING.labels(metric).set(counts.get(metric, 0))
