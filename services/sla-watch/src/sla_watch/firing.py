"""The firing loop: sends the warnings and breaches of due clocks, exactly once.

Due clocks are found through the partial index on ``next_fire_at`` (never by scanning all
clocks). Each round is one transaction: the outbox rows and the clocks' record of what was
sent commit together, so a crash anywhere either sends a threshold and remembers it, or does
neither and the next round (after a restart too) sends it, late if it is overdue by then.
On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several replicas share the due clocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from complaint_runtime.consumer import is_transient
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database

from sla_watch import metrics
from sla_watch.db import ClockRepository
from sla_watch.domain.calendar import BusinessCalendar
from sla_watch.rules import SlaRules
from sla_watch.service import fire_thresholds

log = structlog.get_logger(__name__)


async def fire_due(
    *, database: Database, rules: SlaRules, now: datetime | None = None, batch: int = 500
) -> int:
    """One round: every threshold of up to ``batch`` due clocks; returns the clocks handled."""
    now = now or datetime.now(UTC)
    # A round asks the setup once per calendar, not once per clock: a batch of 500 clocks
    # usually shares a handful of calendars.
    calendars: dict[str, BusinessCalendar] = {}
    async with database.unit_of_work() as uow:
        due = await ClockRepository(uow.session).due(now, limit=batch)
        for clock in due:
            with caused_by(
                correlation_id=clock.correlation_id,
                causation_id=None,
                complaint_id=clock.complaint_id,
                clock_id=clock.clock_id,
            ):
                try:
                    # One clock's failure must not hold back every other complaint's
                    # warnings: each clock fires in its own savepoint.
                    async with uow.session.begin_nested():
                        calendar = calendars.get(clock.calendar_id)
                        if calendar is None:
                            calendar = await rules.calendar_of(uow.session, clock)
                            calendars[clock.calendar_id] = calendar
                        await fire_thresholds(
                            uow=uow, rules=rules, clock=clock, now=now, calendar=calendar
                        )
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    log.exception("firing a clock failed; the others go on")
                    metrics.FIRE_FAILURES.inc()
    return len(due)


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
        self._tick_s = tick_s
        self._batch = batch
        self._metrics_refresh_s = metrics_refresh_s
        self._clock = clock
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        failures = 0
        counted_at = 0.0
        while not self._stopping.is_set():
            handled = 0
            try:
                handled = await fire_due(
                    database=self._database, rules=self._rules, now=self._clock(), batch=self._batch
                )
                if time.monotonic() - counted_at >= self._metrics_refresh_s:
                    await count_running(database=self._database)
                    counted_at = time.monotonic()
                failures = 0
                metrics.FIRE_ROUNDS.labels("ok").inc()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The database is down or a replica holds a lock too long: nothing was
                # committed, so the next round sends the same thresholds (late if need be).
                failures += 1
                metrics.FIRE_ROUNDS.labels("failed").inc()
                delay = min(self._tick_s * 2**failures, 10.0)
                log.warning("sla firing round failed", error=repr(exc)[:300], retry_in_s=delay)
                await self._sleep(delay)
                continue
            if handled < self._batch:
                await self._sleep(self._tick_s)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
