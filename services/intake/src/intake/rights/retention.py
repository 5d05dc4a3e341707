"""Retention (§10): the personal data of complaints closed longer than ``RETENTION_DAYS``
(1095, three years) is anonymised, through the erasure (:mod:`intake.erasure`) with reason
``retention_expired``: intake blanks its own rows and sends one ``ErasureRequested`` per
complaint, which every service honours as for a customer's request.

A run walks the due complaints (closed now, closure before the cutoff, not erased yet;
:mod:`intake.rights.domain.retention`) in batches of ``batch_size`` in (closure, id) order.
Each batch is one transaction: its complaints claimed (``FOR UPDATE SKIP LOCKED``), those
under a legal hold left out (they stay due: the first run after the release erases them),
the rest erased as one erasure. An erased complaint no longer matches and a claimed one is
skipped by a concurrent run, so a run after an interruption, another replica's run at the
same time or tomorrow's run erase (and announce) nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

import structlog
import uuid_utils
from complaint_runtime.consumer import is_transient
from complaint_runtime.database import Database
from complaint_runtime.periodic import PeriodicLoop

from intake.complaints.domain.secret_keys import Secrets
from intake.erasure import service as erasure
from intake.rights.db import RetentionCandidate, RightsRepository
from intake.rights.domain.retention import retention_cutoff

log = structlog.get_logger(__name__)

RETENTION_ACTOR: Final = "system:retention"


@dataclass(frozen=True)
class RetentionRun:
    """What a run found: ``due`` complaints past the period and not yet erased, ``held`` of
    them under a legal hold (skipped), ``anonymised`` now (none on a dry run)."""

    due: int
    held: int
    anonymised: int


async def apply_retention(
    *,
    database: Database,
    secrets_: Secrets,
    period: timedelta,
    batch_size: int,
    dry_run: bool = False,
    now: datetime | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> RetentionRun:
    """Anonymise every complaint retention is due for (see the module), batch by batch;
    ``dry_run`` only counts. Stops between batches when ``should_stop`` says so."""
    now = now or datetime.now(UTC)
    cutoff = retention_cutoff(now, period)
    total = RetentionRun(due=0, held=0, anonymised=0)
    after: tuple[datetime, str] | None = None
    while not should_stop():
        batch, run = await _batch(
            database, secrets_, cutoff, after=after, limit=batch_size, dry_run=dry_run, now=now
        )
        total = RetentionRun(
            due=total.due + run.due,
            held=total.held + run.held,
            anonymised=total.anonymised + run.anonymised,
        )
        if len(batch) < batch_size:
            break
        after = (batch[-1].closed_at, batch[-1].complaint_id)
    if total.anonymised:
        await database.truncate_wal()
    return total


async def _batch(
    database: Database,
    secrets_: Secrets,
    cutoff: datetime,
    *,
    after: tuple[datetime, str] | None,
    limit: int,
    dry_run: bool,
    now: datetime,
) -> tuple[Sequence[RetentionCandidate], RetentionRun]:
    """One batch in one transaction: the due complaints claimed (locked, those a concurrent
    run holds skipped), the held ones left out, the rest erased as one erasure with reason
    ``retention_expired``."""
    async with database.unit_of_work() as uow:
        batch = await RightsRepository(uow.session).due_for_retention(
            cutoff, after=after, limit=limit, claim=not dry_run
        )
        ids = [candidate.complaint_id for candidate in batch]
        on_hold = await erasure.held_complaint_ids(uow.session, ids) if ids else set()
        erasable = [i for i in ids if i not in on_hold]
        erased = 0
        if erasable and not dry_run:
            outcome = await erasure.erase_complaints(
                uow=uow,
                secrets_=secrets_,
                complaint_ids=erasable,
                erasure_id=str(uuid_utils.uuid7()),
                reason="retention_expired",
                actor=RETENTION_ACTOR,
                now=now,
            )
            erased = len(outcome.erased)
    return batch, RetentionRun(due=len(ids), held=len(on_hold), anonymised=erased)


class RetentionLoop:
    """Retention as a :class:`PeriodicLoop` (every ``tick_s``), run by the runtime's
    supervisor and stopped on shutdown. Replicas may run it side by side: the erasure locks
    the complaints it anonymises, and an erased complaint is no longer due."""

    def __init__(
        self,
        *,
        database: Database,
        secrets_: Secrets,
        period: timedelta,
        batch_size: int,
        tick_s: float,
    ):
        self._database = database
        self._secrets = secrets_
        self._period = period
        self._batch_size = batch_size
        self._loop = PeriodicLoop(
            self._round, name="intake retention", tick_s=tick_s, is_expected=is_transient
        )

    async def run(self) -> None:
        await self._loop.run()

    def stop(self) -> None:
        self._loop.stop()

    async def run_once(self) -> RetentionRun:
        return await apply_retention(
            database=self._database,
            secrets_=self._secrets,
            period=self._period,
            batch_size=self._batch_size,
            should_stop=lambda: self._loop.stopping,
        )

    async def _round(self) -> bool:
        run = await self.run_once()
        if run.anonymised or run.held:
            log.info("retention applied", anonymised=run.anonymised, held=run.held, due=run.due)
        return False  # everything due was done: wait a tick
