"""Idempotency answers are kept for their documented validity, then pruned.

``POST /v1/complaints`` promises that a retry with the same ``Idempotency-Key`` (and body)
replays the first answer for ``IDEMPOTENCY_KEY_RETENTION_H`` (168 h, 7 days) after it was
given; the customer pages' submission keys (caller ``0``, see ``replays``) get the same. A
front end retries within minutes (a 503, a lost answer) and a customer's double tap or
reload within seconds, so a week is generous; after it a key is forgotten and a request
with it is new. Every ``PRUNE_INTERVAL_S`` the loop deletes expired answers in transactions
of at most ``PRUNE_BATCH_SIZE`` (again at once while a batch was full), so the table holds
about a week of answers instead of growing without bound.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from complaint_runtime.database import Database, utcnow
from complaint_runtime.periodic import PeriodicLoop
from complaint_runtime.pruning import pruning_loop

from intake.complaints.db import SubmissionRepository
from intake.config import IntakeSettings


async def prune_idempotency_keys(
    database: Database, *, created_before: datetime, limit: int
) -> int:
    """Delete at most ``limit`` answers given before ``created_before``, in one transaction;
    returns how many went."""
    async with database.sessions() as session, session.begin():
        return await SubmissionRepository(session).delete_idempotency_records(
            created_before=created_before, limit=limit
        )


def idempotency_keys_pruner(
    database: Database, settings: IntakeSettings, *, clock: Callable[[], datetime] = utcnow
) -> PeriodicLoop:
    """The loop intake runs (built in ``bootstrap``, started with the service)."""

    async def prune(cutoff: datetime, limit: int) -> int:
        return await prune_idempotency_keys(database, created_before=cutoff, limit=limit)

    return pruning_loop(
        name="prune-idempotency-keys",
        prune=prune,
        horizon=timedelta(hours=settings.idempotency_key_retention_h),
        settings=settings,
        clock=clock,
    )
