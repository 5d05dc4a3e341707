"""Recompute jobs: after a policy or calendar change, the open clocks get the terms that
now apply, and a ``sla.clock_rescheduled`` event for each deadline that moved.

An admin change queues a job (in its own transaction, :func:`queue_recompute`); the
recompute loop (:mod:`sla_watch.recompute.loop`) works the oldest unfinished one in
batches: the open clocks (running or paused) of the job's scope, by ``clock_id`` after the
job's cursor. One batch is one transaction that
reschedules its clocks and advances the cursor, so a crash loses at most the batch in
flight, which is done again after the restart (rescheduling is idempotent: a clock whose
deadline does not move sends nothing). On PostgreSQL the job row is taken ``FOR UPDATE
SKIP LOCKED`` (replicas never work one job at the same time) and the batch's clocks
``FOR UPDATE`` (a consumer changing one of them waits for the batch, and the firing loop,
which skips locked rows, fires it after the batch under its new deadline).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from complaint_runtime.consumer import is_transient
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database, UnitOfWork
from complaint_runtime.errors import NotFound
from sqlalchemy.ext.asyncio import AsyncSession

from sla_watch import metrics
from sla_watch.clocks.reschedule import reschedule_clock
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ClockRepository
from sla_watch.policies.db import PolicyRepository
from sla_watch.policies.domain.policy import Metric, NoMatchingPolicyError
from sla_watch.recompute.db import JobReason, JobRepository, RecomputeJob

log = structlog.get_logger(__name__)


async def queue_recompute(
    session: AsyncSession, *, reason: JobReason, calendar_id: str | None
) -> RecomputeJob:
    """Bump the config version and queue the recompute of the affected open clocks, in the
    caller's transaction (the one making the change). The bump comes first: its row lock
    orders concurrent admin changes (see :mod:`sla_watch.policies.db`)."""
    version = await PolicyRepository(session).bump_version()
    return await JobRepository(session).enqueue(
        reason=reason, calendar_id=calendar_id, config_version=version
    )


async def recent_jobs(*, database: Database, limit: int) -> Sequence[RecomputeJob]:
    async with database.sessions() as session:
        return await JobRepository(session).recent(limit=limit)


async def job_of(*, database: Database, job_id: int) -> RecomputeJob:
    async with database.sessions() as session:
        job = await JobRepository(session).get(job_id)
    if job is None:
        raise NotFound(f"No recompute job {job_id}.", title="No such recompute job")
    return job


async def _recompute_one(
    uow: UnitOfWork,
    settings: ClockSettings,
    job: RecomputeJob,
    clock: Clock,
    now: datetime,
) -> bool:
    metric: Metric = clock.metric  # type: ignore[assignment]
    terms = await settings.terms.terms(uow.session, metric=metric, facts=clock.facts())
    return await reschedule_clock(
        uow=uow,
        settings=settings,
        clock=clock,
        terms=terms,
        reason="calendar_changed" if job.reason == "calendar_changed" else "policy_changed",
        now=now,
    )


async def recompute_batch(
    *, database: Database, settings: ClockSettings, batch: int = 500, now: datetime | None = None
) -> RecomputeJob | None:
    """One batch of the oldest unfinished job; returns the job (as committed), or None when
    there is nothing to do."""
    now = now or datetime.now(UTC)
    taken: list[int] = []
    try:
        return await _batch(database=database, settings=settings, batch=batch, now=now, taken=taken)
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
        metrics.RECOMPUTE_JOBS_FINISHED.labels("failed").inc()
        return job


async def _batch(
    *, database: Database, settings: ClockSettings, batch: int, now: datetime, taken: list[int]
) -> RecomputeJob | None:
    async with database.unit_of_work() as uow:
        job = await JobRepository(uow.session).next_open()
        if job is None:
            return None
        taken.append(job.id)
        if job.state == "pending":
            _start(job, now)
        clocks = await ClockRepository(uow.session).open_for_recompute(
            calendar_id=job.calendar_id, after=job.cursor, limit=batch
        )
        moved = await _recompute_clocks(uow, settings, job, clocks, now)
        _advance(job, clocks, moved=moved, done=len(clocks) < batch, now=now)
    return job


def _start(job: RecomputeJob, now: datetime) -> None:
    job.state = "running"
    job.started_at = now
    log.info("recompute job started", job_id=job.id, reason=job.reason, calendar_id=job.calendar_id)


async def _recompute_clocks(
    uow: UnitOfWork,
    settings: ClockSettings,
    job: RecomputeJob,
    clocks: Sequence[Clock],
    now: datetime,
) -> int:
    """Reschedule each clock in its own savepoint; returns how many deadlines moved."""
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
                    if await _recompute_one(uow, settings, job, clock, now):
                        moved += 1
            except Exception as exc:
                if is_transient(exc):
                    raise
                log.exception(
                    "recomputing a clock failed; it keeps its terms",
                    no_policy=isinstance(exc, NoMatchingPolicyError),
                )
                metrics.RECOMPUTE_FAILURES.inc()
    return moved


def _advance(
    job: RecomputeJob, clocks: Sequence[Clock], *, moved: int, done: bool, now: datetime
) -> None:
    """Count the batch on the job and move its cursor past it; a short batch ends it."""
    job.clocks_seen += len(clocks)
    job.clocks_moved += moved
    if clocks:
        job.cursor = clocks[-1].clock_id
    metrics.CLOCKS_RECOMPUTED.labels("true").inc(moved)
    metrics.CLOCKS_RECOMPUTED.labels("false").inc(len(clocks) - moved)
    if done:
        job.state = "done"
        job.finished_at = now
        metrics.RECOMPUTE_JOBS_FINISHED.labels("done").inc()
    log.info(
        "recompute job done" if done else "recompute job progress",
        job_id=job.id,
        clocks_seen=job.clocks_seen,
        clocks_moved=job.clocks_moved,
    )
