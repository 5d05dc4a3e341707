"""Pruning: the ids of applied events (``processed_events``) are kept for a horizon, then go.

A consumer skips a redelivered event because its id is in ``processed_events``; so an id
must stay at least as long as its record can come again. A record comes again only while
Kafka holds it: at most the topic's retention (``KAFKA_EVENT_RETENTION_MS``, 7 days) plus a
segment's roll time (a week by default: Kafka deletes whole segments), 14 days. Ids are kept
``PROCESSED_EVENT_RETENTION_DAYS`` (30 by default; the settings refuse a horizon that does
not outlive redeliveries), measured from when they were applied, which is after the record
was published. Rows dead-lettered by position (``topic:partition:offset``) go the same way.

Every ``PRUNE_INTERVAL_S`` a :class:`~complaint_runtime.periodic.PeriodicLoop` deletes
expired rows in transactions of at most ``PRUNE_BATCH_SIZE``, again at once while a batch
was full, so neither the table nor one transaction grows without bound; on PostgreSQL the
rows are taken with ``SKIP LOCKED``, so replicas pruning at once do not wait for each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select, tuple_

from complaint_runtime.consumer import is_transient
from complaint_runtime.database import Database, ProcessedEvent, utcnow
from complaint_runtime.periodic import PeriodicLoop
from complaint_runtime.settings import ServiceSettings

log = structlog.get_logger(__name__)


async def prune_processed_events(
    database: Database, *, applied_before: datetime, limit: int
) -> int:
    """Delete at most ``limit`` ids applied before ``applied_before``, in one transaction;
    returns how many went."""
    expired = (
        select(ProcessedEvent.consumer, ProcessedEvent.event_id)
        .where(ProcessedEvent.processed_at < applied_before)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = delete(ProcessedEvent).where(
        tuple_(ProcessedEvent.consumer, ProcessedEvent.event_id).in_(expired)
    )
    async with database.sessions() as session, session.begin():
        result = await session.execute(statement)
    return int(result.rowcount)  # type: ignore[attr-defined]


def pruning_loop(
    *,
    name: str,
    prune: Callable[[datetime, int], Awaitable[int]],
    horizon: timedelta,
    settings: ServiceSettings,
    clock: Callable[[], datetime] = utcnow,
) -> PeriodicLoop:
    """A loop deleting, every ``PRUNE_INTERVAL_S``, what is older than ``horizon``:
    ``prune(cutoff, limit)`` deletes at most ``limit`` rows older than ``cutoff`` in one
    transaction and says how many; while a batch was full it goes on at once. An outage of
    the database is an expected failure (backed off, logged as a warning)."""
    batch = settings.prune_batch_size

    async def prune_round() -> bool:
        pruned = await prune(clock() - horizon, batch)
        if pruned:
            log.info("pruned", loop=name, rows=pruned)
        return pruned == batch  # a full batch: there may be more, go on at once

    return PeriodicLoop(
        prune_round,
        name=name,
        tick_s=settings.prune_interval_s,
        max_backoff_s=max(settings.prune_interval_s, 10.0),
        backoff_base_s=1.0,
        is_expected=is_transient,
    )


def processed_events_pruner(
    database: Database,
    settings: ServiceSettings,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> PeriodicLoop:
    """The loop every service runs (registered by ``ServiceRuntime``)."""

    async def prune(cutoff: datetime, limit: int) -> int:
        return await prune_processed_events(database, applied_before=cutoff, limit=limit)

    return pruning_loop(
        name="prune-processed-events",
        prune=prune,
        horizon=timedelta(days=settings.processed_event_retention_days),
        settings=settings,
        clock=clock,
    )
