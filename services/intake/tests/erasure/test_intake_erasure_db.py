"""Erasure on the suite's real PostgreSQL, where transactions run side by side: the last two
confirmations of an erasure applied at once by two consumers still complete it (the second
waits on the erasure's row and then counts the first's), and two identical requests at once
start one erasure (the pending erasure's unique index, then the pending one answered)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from complaint_contracts.events import (
    CaseErasureCompleted,
    FeedbackErasureCompleted,
    NotificationErasureCompleted,
    SlaErasureCompleted,
)
from complaint_contracts.events.common import ErasureCompleted
from complaint_runtime.database import Database
from cryptography.fernet import Fernet
from intake.complaints.domain.customers import identify
from intake.complaints.domain.secret_keys import Secrets
from intake.db import Complaint
from intake.erasure import confirmations, service
from intake.erasure.db import Erasure
from intake.erasure.domain.requesters import Requester
from intake.erasure.domain.subjects import contact_subject
from intake.main import MIGRATIONS
from sqlalchemy import func, select

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]

WAIT_S = 0.3  # long enough for a statement that does not block to have finished
SECRETS = Secrets.from_settings(
    contact_encryption_key=Fernet.generate_key().decode(),
    customer_ref_key="ref-key-for-intake-erasure-tests-0123456789abcdef",
)
PHONE = "13908715523"
ADMIN = Requester.of_staff("admin-7", frozenset({"admin"}))


async def _complaints(database: Database, count: int) -> list[str]:
    identity = identify(SECRETS.ref_key, customer_id=None, phone=PHONE, email=None)
    now = datetime.now(UTC)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    async with database.unit_of_work() as uow:
        for number, complaint_id in enumerate(ids):
            uow.session.add(
                Complaint(
                    id=complaint_id,
                    reference=f"C-20261206-{number:06d}",
                    channel="web",
                    status="received",
                    subject="Parcel crushed",
                    description="The parcel was crushed.",
                    received_at=now,
                    updated_at=now,
                    customer_ref=identity.customer_ref,
                    phone_hash=identity.phone_hash,
                    phone_enc=SECRETS.encrypt(PHONE),
                    masked_phone=identity.masked_phone,
                    tier="standard",
                    language="en",
                    tracking_token_hash=uuid.uuid4().hex,
                    front_end="web",
                )
            )
    return ids


async def _erase(database: Database) -> service.ErasureSummary:
    return await service.request_erasure(
        database=database,
        secrets_=SECRETS,
        subject=contact_subject(phone=PHONE, email=None, scope="*"),
        requester=ADMIN,
        now=datetime.now(UTC),
    )


def _confirmation(
    model: type[ErasureCompleted], complaint_id: str, erasure_id: str
) -> ErasureCompleted:
    return model(
        complaint_id=complaint_id, erasure_id=erasure_id, erased_at=datetime.now(UTC), actor="x"
    )


async def _confirm(database: Database, data: ErasureCompleted) -> None:
    async with database.unit_of_work() as uow:
        await confirmations.record_confirmation(
            uow=uow, data=data, event_id=str(uuid.uuid4()), now=datetime.now(UTC)
        )


async def _confirm_and_hold(
    database: Database, data: ErasureCompleted, recorded: asyncio.Event, release: asyncio.Event
) -> None:
    async with database.unit_of_work() as uow:
        await confirmations.record_confirmation(
            uow=uow, data=data, event_id=str(uuid.uuid4()), now=datetime.now(UTC)
        )
        recorded.set()
        await release.wait()


async def test_the_last_two_confirmations_at_once_complete_the_erasure(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    first, second = await _complaints(database, 2)
    erasure_id = (await _erase(database)).erasure_id
    for complaint_id in (first, second):
        for model in (CaseErasureCompleted, SlaErasureCompleted, FeedbackErasureCompleted):
            await _confirm(database, _confirmation(model, complaint_id, erasure_id))

    recorded, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(
        _confirm_and_hold(
            database,
            _confirmation(NotificationErasureCompleted, first, erasure_id),
            recorded,
            release,
        )
    )
    await asyncio.wait_for(recorded.wait(), timeout=10)
    other = asyncio.create_task(
        _confirm(database, _confirmation(NotificationErasureCompleted, second, erasure_id))
    )
    await asyncio.sleep(WAIT_S)
    assert not other.done(), "the second confirmation did not wait for the first"
    release.set()
    await asyncio.wait_for(asyncio.gather(holder, other), timeout=10)

    async with database.sessions() as session:
        erasure = await session.get(Erasure, erasure_id)
    assert erasure is not None
    assert erasure.status == "completed"


async def test_two_identical_requests_at_once_start_one_erasure(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _complaints(database, 3)

    one, two = await asyncio.gather(_erase(database), _erase(database))

    assert one.erasure_id == two.erasure_id
    assert sorted([one.created, two.created]) == [False, True]
    assert (one.complaints, two.complaints) == (3, 3)
    async with database.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Erasure)) == 1
