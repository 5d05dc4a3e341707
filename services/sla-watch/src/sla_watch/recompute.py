"""Recompute jobs: after a policy or calendar change, the open clocks get the terms that
now apply, and a ``sla.clock_rescheduled`` event for each deadline that moved.

An admin change queues a job (in its own transaction, see :mod:`sla_watch.setup_db`); this
loop works the oldest unfinished one in batches: the open clocks (running or paused) of the
job's scope, by ``clock_id`` after the job's cursor. One batch is one transaction that
reschedules its clocks and advances the cursor, so a crash loses at most the batch in
flight, which is done again after the restart (rescheduling is idempotent: a clock whose
deadline does not move sends nothing). On PostgreSQL the job row is taken ``FOR UPDATE
SKIP LOCKED`` (replicas never work one job at the same time) and the batch's clocks
``FOR UPDATE`` (a consumer changing one of them waits for the batch, and the firing loop,
which skips locked rows, fires it after the batch under its new deadline).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog
from complaint_runtime.consumer import is_transient
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database, UnitOfWork
from prometheus_client import Counter
from sqlalchemy import select

from sla_watch.clock_setup import ClockSetup, ComplaintFacts, Metric
from sla_watch.db import Clock
from sla_watch.domain.policy import NoMatchingPolicyError
from sla_watch.periodic import PeriodicLoop
from sla_watch.reschedule import reschedule_clock
from sla_watch.rules import SlaRules
from sla_watch.setup_db import JobRepository, RecomputeJob

log = structlog.get_logger(__name__)

CLOCKS_RECOMPUTED = Counter(
    "sla_recompute_clocks_total",
    "Open clocks recomputed after a policy or calendar change",
    ["moved"],
)
JOBS_FINISHED = Counter("sla_recompute_jobs_total", "Recompute jobs finished", ["state"])
RECOMPUTE_FAILURES = Counter(
    "sla_recompute_clock_failures_total", "Open clocks a recompute job could not reschedule"
)

OPEN_STATES = ("running", "paused")


async def _open_clocks(uow: UnitOfWork, job: RecomputeJob, *, limit: int) -> Sequence[Clock]:
    query = select(Clock).where(Clock.state.in_(OPEN_STATES))
    if job.calendar_id is not None:
        query = query.where(Clock.calendar_id == job.calendar_id)
    if job.cursor is not None:
        query = query.where(Clock.clock_id > job.cursor)
    query = query.order_by(Clock.clock_id).limit(limit)
    if uow.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return (await uow.session.scalars(query)).all()


async def _recompute_one(
    uow: UnitOfWork,
    rules: SlaRules,
    setup: ClockSetup,
    job: RecomputeJob,
    clock: Clock,
    now: datetime,
) -> bool:
    facts = ComplaintFacts(
        priority=clock.priority,  # type: ignore[arg-type]
        category=clock.category,
        tier=clock.tier,
        channel=clock.channel,
    )
    metric: Metric = clock.metric  # type: ignore[assignment]
    terms = await setup.terms(uow.session, metric=metric, facts=facts)
    return await reschedule_clock(
        uow=uow,
        rules=rules,
        clock=clock,
        terms=terms,
        reason="calendar_changed" if job.reason == "calendar_changed" else "policy_changed",
        now=now,
    )


async def recompute_batch(
    *, database: Database, rules: SlaRules, batch: int = 500, now: datetime | None = None
) -> RecomputeJob | None:
    """One batch of the oldest unfinished job; returns the job (as committed), or None when
    there is nothing to do."""
    now = now or datetime.now(UTC)
    taken: list[int] = []
    try:
        return await _batch(database=database, rules=rules, batch=batch, now=now, taken=taken)
    except Exception as exc:
        if is_transient(exc) or not taken:
            raise
        # A bug or bad data, not a passing outage: retrying would fail the same way forever
        # and hold back every later job, so the job is marked failed for an admin to see.
        log.exception("recompute job failed", job_id=taken[0])
        async with database.unit_of_work() as uow:
            job = await JobRepository(uow.session).get(taken[0])
            if job is not None:
                job.state = "failed"
                job.finished_at = now
                job.error = repr(exc)[:2000]
        JOBS_FINISHED.labels("failed").inc()
        return job


async def _batch(
    *, database: Database, rules: SlaRules, batch: int, now: datetime, taken: list[int]
) -> RecomputeJob | None:
    setup = rules.setup
    async with database.unit_of_work() as uow:
        job = await JobRepository(uow.session).next_open()
        if job is None:
            return None
        taken.append(job.id)
        if job.state == "pending":
            job.state = "running"
            job.started_at = now
            log.info(
                "recompute job started",
                job_id=job.id,
                reason=job.reason,
                calendar_id=job.calendar_id,
            )
        clocks = await _open_clocks(uow, job, limit=batch)
        moved = 0
        for clock in clocks:
            with caused_by(
                correlation_id=clock.correlation_id,
                causation_id=None,
                complaint_id=clock.complaint_id,
                clock_id=clock.clock_id,
            ):
                try:
                    # One clock that cannot be recomputed must not hold back the others.
                    async with uow.session.begin_nested():
                        if await _recompute_one(uow, rules, setup, job, clock, now):
                            moved += 1
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    log.exception(
                        "recomputing a clock failed; it keeps its terms",
                        no_policy=isinstance(exc, NoMatchingPolicyError),
                    )
                    RECOMPUTE_FAILURES.inc()
        job.clocks_seen += len(clocks)
        job.clocks_moved += moved
        if clocks:
            job.cursor = clocks[-1].clock_id
        CLOCKS_RECOMPUTED.labels("true").inc(moved)
        CLOCKS_RECOMPUTED.labels("false").inc(len(clocks) - moved)
        if len(clocks) < batch:
            job.state = "done"
            job.finished_at = now
            JOBS_FINISHED.labels("done").inc()
            log.info(
                "recompute job done",
                job_id=job.id,
                clocks_seen=job.clocks_seen,
                clocks_moved=job.clocks_moved,
            )
        else:
            log.info(
                "recompute job progress",
                job_id=job.id,
                clocks_seen=job.clocks_seen,
                clocks_moved=job.clocks_moved,
            )
    return job


class RecomputeLoop:
    """Runs :func:`recompute_batch` every tick, straight away again while there is work."""

    def __init__(
        self,
        *,
        database: Database,
        rules: SlaRules,
        tick_s: float = 1.0,
        batch: int = 500,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        self._database = database
        self._rules = rules
        self._batch = batch
        self._clock = clock
        # A failed batch committed nothing; the job resumes from its cursor.
        self._loop = PeriodicLoop(
            self._round, name="recompute batch", tick_s=tick_s, max_backoff_s=30.0
        )

    def stop(self) -> None:
        self._loop.stop()

    async def run(self) -> None:
        await self._loop.run()

    async def _round(self) -> bool:
        job = await recompute_batch(
            database=self._database, rules=self._rules, batch=self._batch, now=self._clock()
        )
        return job is not None
