"""Retention (§10) on the suite's PostgreSQL: complaints closed longer than the period, not
erased and not under a legal hold, are anonymised through the erasure with one
``complaint.erasure_requested`` (reason ``retention_expired``) each, batch by batch; a
re-run does nothing more; a dry run changes nothing; a complaint another run has claimed
is skipped, not erased twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from complaint_contracts.events import ComplaintClosed, ErasureRequested
from complaint_runtime.database import Database
from cryptography.fernet import Fernet
from intake.bootstrap import Dependencies, build_dependencies
from intake.complaints import service as complaints
from intake.complaints.api import new_complaint
from intake.complaints.schemas import ComplaintIn
from intake.config import IntakeSettings
from intake.db import COMPLAINTS, Complaint
from intake.erasure.db import Erasure
from intake.erasure.domain.anonymisation import is_erased
from intake.erasure.holds import place_hold
from intake.main import MIGRATIONS
from intake.rights.db import RightsRepository
from intake.rights.retention import RetentionRun, apply_retention
from sqlalchemy import func, select, update

from .conftest import REF_KEY, events, feed

NewDatabase = Callable[[Path], Awaitable[Database]]
NOW = datetime.now(UTC)
PERIOD = timedelta(days=1095)
LONG_AGO = NOW - PERIOD - timedelta(days=1)


@pytest.fixture
async def deps(postgres_database: NewDatabase) -> Dependencies:
    database = await postgres_database(MIGRATIONS)
    settings = IntakeSettings(
        database_url="postgresql+asyncpg://unused",
        contact_encryption_key=Fernet.generate_key().decode(),
        customer_ref_key=REF_KEY,
    )
    return build_dependencies(settings, database)


async def _complaint(deps: Dependencies, n: int, *, closed_at: datetime | None) -> str:
    body = ComplaintIn.model_validate(
        {
            "channel": "web",
            "customer": {"phone": f"1380000{n:04d}", "name": f"Customer {n}"},
            "subject": f"Complaint {n}",
            "description": "The parcel never arrived.",
        }
    )
    result = await complaints.submit_complaint(
        database=deps.database,
        secrets_=deps.secrets,
        references=deps.references,
        writer=deps.writer,
        submission=complaints.Submission(new_complaint(body), 1, None, "", front_end="web"),
        public_base_url="http://intake",
    )
    complaint_id: str = result.body["id"]
    if closed_at is not None:
        closed = ComplaintClosed(
            complaint_id=complaint_id,
            reason="confirmed",
            evidence_event_id="evt-1",
            actor="routing",
            closed_at=closed_at,
        )
        await feed(deps.database, closed, source="routing")
    return complaint_id


async def _rows(deps: Dependencies, ids: list[str]) -> dict[str, Complaint]:
    async with deps.database.sessions() as session:
        return {i: row for i in ids if (row := await session.get(Complaint, i)) is not None}


async def _retention_events(deps: Dependencies) -> list[ErasureRequested]:
    return [e.data for e in await events(deps.database) if isinstance(e.data, ErasureRequested)]


async def _run(deps: Dependencies, *, dry_run: bool = False) -> RetentionRun:
    return await apply_retention(
        database=deps.database,
        secrets_=deps.secrets,
        period=PERIOD,
        batch_size=2,
        dry_run=dry_run,
        now=NOW,
    )


async def test_retention_anonymises_only_old_closed_unheld_complaints(deps: Dependencies) -> None:
    old = [await _complaint(deps, n, closed_at=LONG_AGO - timedelta(days=n)) for n in range(3)]
    held = await _complaint(deps, 10, closed_at=LONG_AGO)
    await place_hold(
        database=deps.database,
        complaint_id=held,
        reason="lawsuit 2026-17",
        actor="admin-7",
        now=NOW,
    )
    recent = await _complaint(deps, 11, closed_at=NOW - PERIOD + timedelta(days=1))
    still_open = await _complaint(deps, 12, closed_at=None)
    reopened = await _complaint(deps, 13, closed_at=LONG_AGO)
    async with deps.database.unit_of_work() as uow:  # closed long ago, open again now
        await uow.session.execute(
            update(COMPLAINTS).where(COMPLAINTS.c.id == reopened).values(status="reopened")
        )
    kept = [held, recent, still_open, reopened]

    assert await _run(deps, dry_run=True) == RetentionRun(due=4, held=1, anonymised=0)
    assert await _retention_events(deps) == []  # a dry run changes nothing

    assert await _run(deps) == RetentionRun(due=4, held=1, anonymised=3)

    rows = await _rows(deps, old + kept)
    assert sorted(i for i, row in rows.items() if is_erased(row.customer_ref)) == sorted(old)
    for complaint_id in old:
        row = rows[complaint_id]
        assert (row.phone_enc, row.phone_hash, row.customer_name_enc, row.subject) == (
            None,
            None,
            None,
            "",
        )
        assert row.status == "closed"  # the facts KPIs need stay
    for complaint_id in kept:
        assert rows[complaint_id].phone_enc is not None
    sent = await _retention_events(deps)
    assert sorted(e.complaint_id for e in sent) == sorted(old)  # one each
    assert {(e.reason, e.actor) for e in sent} == {("retention_expired", "system:retention")}

    erasures = await _erasures(deps)  # one per batch

    # Idempotent: the erased ones no longer match, the held one is still held (and no
    # erasure is started for it again and again).
    assert await _run(deps) == RetentionRun(due=1, held=1, anonymised=0)
    assert len(await _retention_events(deps)) == 3
    assert await _erasures(deps) == erasures


async def _erasures(deps: Dependencies) -> int:
    async with deps.database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Erasure)) or 0)


async def test_a_complaint_another_run_claimed_is_skipped(deps: Dependencies) -> None:
    old = [await _complaint(deps, n, closed_at=LONG_AGO) for n in range(3)]
    async with deps.database.sessions() as session, session.begin():
        claimed = await RightsRepository(session).due_for_retention(
            NOW - PERIOD, after=None, limit=2, claim=True
        )
        assert len(claimed) == 2
        # Meanwhile a second run (another replica) erases only what is not claimed.
        assert (await _run(deps)).anonymised == 1
    # The first run's transaction ended without erasing: the next run takes the two.
    assert len(await _retention_events(deps)) == 1
    assert (await _run(deps)).anonymised == 2
    assert sorted(e.complaint_id for e in await _retention_events(deps)) == sorted(old)
