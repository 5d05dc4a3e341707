"""Lost-link codes on the suite's real PostgreSQL, where requests run side by side (SQLite's
single writer hides every race): wrong entries posted at once each spend an attempt (the
flow's row is locked while it is checked), the right code posted twice at once opens the
complaint once, and notify's read of the code succeeds once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from complaint_runtime.database import Database
from cryptography.fernet import Fernet
from intake.complaints import service as complaints
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.domain.submissions import CustomerDetails, NewComplaint
from intake.complaints.group_commit import GroupCommitter
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.main import MIGRATIONS
from intake.recovery import service as recovery
from intake.recovery.db import TrackingCode
from intake.recovery.domain.codes import MAX_ATTEMPTS
from intake.recovery.domain.errors import TrackingCodeGone
from intake.recovery.domain.requests import entered_contact
from sqlalchemy import select

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]

SECRETS = Secrets.from_settings(
    contact_encryption_key=Fernet.generate_key().decode(),
    customer_ref_key="ref-key-for-intake-tests-0123456789abcdef",
)
FLOW = "f" * 32
COMPLAINT = NewComplaint(
    channel="web",
    customer=CustomerDetails(identity="CRM-1", email="li@example.com"),
    subject="Refund missing",
    description="The refund has not arrived.",
)


async def _requested(database: Database) -> tuple[str, str]:
    """A complaint and a code request for it in ``FLOW``: (complaint id, request id)."""
    accepted = await complaints.submit_complaint(
        database=database,
        secrets_=SECRETS,
        references=ReferenceAllocator(database),
        writer=GroupCommitter(database),
        submission=complaints.Submission(COMPLAINT, 1, None, "hash"),
        public_base_url="http://intake",
    )
    contact = entered_contact(SECRETS.ref_key, "li@example.com")
    assert contact is not None
    await recovery.request_code(
        database=database,
        secrets_=SECRETS,
        flow=FLOW,
        reference=accepted.body["reference"],
        contact=contact,
    )
    async with database.sessions() as session:
        row = (await session.scalars(select(TrackingCode))).one()
    return accepted.body["id"], row.request_id


async def test_wrong_entries_posted_at_once_each_spend_an_attempt(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    complaint_id, request_id = await _requested(database)
    issued = await recovery.read_code_once(
        database=database, secrets_=SECRETS, complaint_id=complaint_id, request_id=request_id
    )
    wrong = f"{(int(issued.code) + 1) % 1_000_000:06d}"
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            *(
                recovery.verify_code(database=database, secrets_=SECRETS, flow=FLOW, code=wrong)
                for _ in range(MAX_ATTEMPTS + 2)
            )
        ),
        timeout=30,
    )
    assert all(isinstance(o, recovery.Refused) for o in outcomes)
    left = sorted(o.attempts_left for o in outcomes if isinstance(o, recovery.Refused))
    assert left == [0, 0, 0, 1, 2, 3, 4]  # no lost update: every guess counted
    async with database.sessions() as session:
        row = await session.get(TrackingCode, request_id)
    assert row is not None
    assert row.attempts == MAX_ATTEMPTS


async def test_the_right_code_posted_twice_at_once_opens_the_complaint_once(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    complaint_id, request_id = await _requested(database)
    reads = await asyncio.gather(
        *(
            recovery.read_code_once(
                database=database,
                secrets_=SECRETS,
                complaint_id=complaint_id,
                request_id=request_id,
            )
            for _ in range(3)
        ),
        return_exceptions=True,
    )
    codes = [r for r in reads if isinstance(r, recovery.IssuedCode)]
    assert len(codes) == 1  # notify reads it once
    assert sum(isinstance(r, TrackingCodeGone) for r in reads) == 2
    outcomes = await asyncio.gather(
        *(
            recovery.verify_code(database=database, secrets_=SECRETS, flow=FLOW, code=codes[0].code)
            for _ in range(3)
        )
    )
    recovered = [o for o in outcomes if isinstance(o, recovery.Recovered)]
    assert len(recovered) == 1
    assert recovered[0].complaint_id == complaint_id
    assert [o.verdict for o in outcomes if isinstance(o, recovery.Refused)] == ["expired"] * 2
