"""``intake-admin apply-retention``: a dry run prints the counts and changes nothing; a run
anonymises (SQLite, as ``make up`` runs intake)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from complaint_contracts.events import ComplaintClosed
from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from cryptography.fernet import Fernet
from intake.bootstrap import build_dependencies
from intake.cli import main
from intake.complaints import service as complaints
from intake.complaints.api import new_complaint
from intake.complaints.schemas import ComplaintIn
from intake.config import IntakeSettings
from intake.db import Complaint
from intake.erasure.domain.anonymisation import is_erased
from intake.main import MIGRATIONS

from .conftest import REF_KEY, feed


async def _closed_complaint(settings: IntakeSettings, *, closed_at: datetime) -> str:
    await upgrade_to_head(MIGRATIONS, settings.database_url)
    database = Database(settings.database_url)
    try:
        deps = build_dependencies(settings, database)
        body = ComplaintIn.model_validate(
            {
                "channel": "web",
                "customer": {"email": "old@example.com"},
                "subject": "Old",
                "description": "Long ago.",
            }
        )
        result = await complaints.submit_complaint(
            database=database,
            secrets_=deps.secrets,
            references=deps.references,
            writer=deps.writer,
            submission=complaints.Submission(new_complaint(body), 1, None, ""),
            public_base_url="http://intake",
        )
        complaint_id: str = result.body["id"]
        closed = ComplaintClosed(
            complaint_id=complaint_id,
            reason="confirmed",
            evidence_event_id="evt-1",
            actor="routing",
            closed_at=closed_at,
        )
        await feed(database, closed, source="routing")
        await deps.writer.aclose()
        return complaint_id
    finally:
        await database.dispose()


async def _erased(url: str, complaint_id: str) -> bool:
    database = Database(url)
    try:
        async with database.sessions() as session:
            row = await session.get(Complaint, complaint_id)
        assert row is not None
        return is_erased(row.customer_ref)
    finally:
        await database.dispose()


def test_apply_retention_dry_run_then_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}"
    environment = {
        "DATABASE_URL": url,
        "CONTACT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "CUSTOMER_REF_KEY": REF_KEY,
        "RETENTION_DAYS": "30",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    closed_at = datetime.now(UTC) - timedelta(days=31)
    complaint_id = asyncio.run(_closed_complaint(IntakeSettings(), closed_at=closed_at))

    assert main(["apply-retention", "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == (
        "dry run: 1 complaint(s) closed more than 30 days ago; 1 would be anonymised, "
        "0 under a legal hold"
    )
    assert not asyncio.run(_erased(url, complaint_id))

    assert main(["apply-retention"]) == 0
    assert capsys.readouterr().out.strip() == (
        "1 complaint(s) anonymised (closed more than 30 days ago); 0 under a legal hold left "
        "as they are"
    )
    assert asyncio.run(_erased(url, complaint_id))
