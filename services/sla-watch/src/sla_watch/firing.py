"""The firing loop: sends the warnings and breaches of due clocks, exactly once.

Due clocks are found through the partial index on ``next_fire_at`` (never by scanning all
clocks). Each round is one transaction: the outbox rows and the clocks' record of what was
sent commit together, so a crash anywhere either sends a threshold and remembers it, or does
neither and the next round (after a restart too) sends it, late if it is overdue by then.
On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several replicas share the due clocks.

A round first fires all its clocks in one go (one savepoint, one flush: a few statements
per round, not per clock, since catching up after downtime is bound by round trips). Only
if that fails is the round redone clock by clock, each in its own savepoint, so one clock's
failure does not hold back every other complaint's warnings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog
from complaint_runtime.consumer import is_transient
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database, UnitOfWork
from sqlalchemy import select

from sla_watch import metrics
from sla_watch.db import Clock, ClockRepository
from sla_watch.domain.calendar import BusinessCalendar
from sla_watch.domain.clock import BREACH, Threshold
from sla_watch.escalation import BreachLedger
from sla_watch.periodic import PeriodicLoop
from sla_watch.rules import SlaRules
from sla_watch.thresholds import due_now, fire_thresholds, report_fired, stage_thresholds

log = structlog.get_logger(__name__)


async def fire_due(
    *, database: Database, rules: SlaRules, now: datetime | None = None, batch: int = 500
) -> int:
    """One round: every threshold of up to ``batch`` due clocks; returns the clocks handled."""
    now = now or datetime.now(UTC)
    async with database.unit_of_work() as uow:
        due = await ClockRepository(uow.session).due(now, limit=batch)
        if not due:
            return 0
        # A round asks the setup once per calendar, not once per clock: a batch of 500
        # clocks usually shares a handful of calendars.
        calendars: dict[str, BusinessCalendar] = {}
        try:
            async with uow.session.begin_nested():
                fired = await _fire_together(uow, rules, due, now=now, calendars=calendars)
                await uow.session.flush()
        except Exception as exc:
            if is_transient(exc):
                raise
            log.warning("firing a round in one go failed; clock by clock", error=repr(exc)[:300])
            await _fire_one_by_one(uow, rules, [c.clock_id for c in due], now, calendars)
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
    uow: UnitOfWork, rules: SlaRules, clock: Clock, calendars: dict[str, BusinessCalendar]
) -> BusinessCalendar:
    calendar = calendars.get(clock.calendar_id)
    if calendar is None:
        calendar = _RoundCalendar(await rules.calendar_of(uow.session, clock))
        calendars[clock.calendar_id] = calendar
    return calendar


async def _fire_together(
    uow: UnitOfWork,
    rules: SlaRules,
    clocks: Sequence[Clock],
    *,
    now: datetime,
    calendars: dict[str, BusinessCalendar],
) -> list[tuple[Clock, list[Threshold]]]:
    """Stage the thresholds of every clock; the caller flushes and reports them."""
    plans = []
    for clock in clocks:
        calendar = await _calendar(uow, rules, clock, calendars)
        plans.append((clock, calendar, due_now(clock, rules, now, calendar=calendar)))
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
                rules=rules,
                clock=clock,
                due=due,
                now=now,
                calendar=calendar,
                ledger=ledger,
            )
    return [(clock, due) for clock, _, due in plans]


async def _fire_one_by_one(
    uow: UnitOfWork,
    rules: SlaRules,
    clock_ids: Sequence[str],
    now: datetime,
    calendars: dict[str, BusinessCalendar],
) -> None:
    # The rolled-back savepoint expired what it had changed: read the clocks again (still
    # locked by this transaction).
    clocks = (
        await uow.session.scalars(
            select(Clock)
            .where(Clock.clock_id.in_(clock_ids))
            .order_by(Clock.next_fire_at)
            .execution_options(populate_existing=True)
        )
    ).all()
    for clock in clocks:
        with caused_by(
            correlation_id=clock.correlation_id,
            causation_id=None,
            complaint_id=clock.complaint_id,
            clock_id=clock.clock_id,
        ):
            try:
                async with uow.session.begin_nested():
                    calendar = await _calendar(uow, rules, clock, calendars)
                    await fire_thresholds(
                        uow=uow, rules=rules, clock=clock, now=now, calendar=calendar
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


class FireLoop:
    """Runs :func:`fire_due` every tick, straight away again while rounds come back full."""

    def __init__(
        self,
        *,
        database: Database,
        rules: SlaRules,
        tick_s: float = 0.5,
        batch: int = 500,
        metrics_refresh_s: float = 15.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._database = database
        self._rules = rules
        self._batch = batch
        self._metrics_refresh_s = metrics_refresh_s
        self._clock = clock
        self._counted_at: float | None = None
        # The database down or a replica holding a lock too long: nothing was committed,
        # so the next round sends the same thresholds (late if need be).
        self._loop = PeriodicLoop(
            self._round,
            name="sla firing",
            tick_s=tick_s,
            max_backoff_s=10.0,
            on_outcome=lambda ok: metrics.FIRE_ROUNDS.labels("ok" if ok else "failed").inc(),
        )

    def stop(self) -> None:
        self._loop.stop()

    async def run(self) -> None:
        await self._loop.run()

    async def _round(self) -> bool:
        handled = await fire_due(
            database=self._database, rules=self._rules, now=self._clock(), batch=self._batch
        )
        loop_time = time.monotonic()
        if self._counted_at is None or loop_time - self._counted_at >= self._metrics_refresh_s:
            await count_running(database=self._database)
            self._counted_at = loop_time
        return handled >= self._batch
