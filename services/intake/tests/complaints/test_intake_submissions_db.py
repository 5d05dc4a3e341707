"""Submissions on the suite's real PostgreSQL, where transactions run side by side (SQLite's
single writer hides every race): the per-day reference counter's upsert and the
Idempotency-Key's record, each with a second transaction arriving while the first holds
its row."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from complaint_runtime.database import Database
from cryptography.fernet import Fernet
from intake.complaints import service
from intake.complaints.db import SubmissionRepository
from intake.complaints.domain.errors import IdempotencyKeyReused
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.domain.submissions import CustomerDetails, NewComplaint
from intake.complaints.group_commit import GroupCommitter
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.main import MIGRATIONS
from sqlalchemy import text

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]

DAY = date(2026, 11, 23)
WAIT_S = 0.3  # long enough for a statement that does not block to have finished
SECRETS = Secrets.from_settings(
    contact_encryption_key=Fernet.generate_key().decode(),
    customer_ref_key="ref-key-for-intake-tests-0123456789abcdef",
)
COMPLAINT = NewComplaint(
    channel="web",
    customer=CustomerDetails(identity="CRM-1", email="li@example.com"),
    subject="Refund missing",
    description="The refund has not arrived.",
)


async def _count(database: Database, table: str) -> int:
    async with database.sessions() as session:
        return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def _reserve(database: Database, count: int) -> range:
    async with database.unit_of_work() as uow:
        return await SubmissionRepository(uow.session).next_reference_numbers(DAY, count)


async def _reserve_and_hold(
    database: Database, count: int, reserved: asyncio.Future[range], release: asyncio.Event
) -> None:
    """Reserve numbers, then keep the transaction (and its row lock) open until released."""
    async with database.unit_of_work() as uow:
        reserved.set_result(
            await SubmissionRepository(uow.session).next_reference_numbers(DAY, count)
        )
        await release.wait()


@pytest.mark.parametrize("first_of_the_day", [True, False])
async def test_a_second_reservation_waits_for_the_first_and_follows_it(
    postgres_database: NewPostgresDatabase, first_of_the_day: bool
) -> None:
    """First of the day: both INSERT, the second waits on the unique key and then adds to
    the row (ON CONFLICT DO UPDATE). Later: the second waits on the row lock."""
    database = await postgres_database(MIGRATIONS)
    start = 0 if first_of_the_day else len(await _reserve(database, 7))
    reserved: asyncio.Future[range] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()
    holder = asyncio.create_task(_reserve_and_hold(database, 50, reserved, release))
    first = await asyncio.wait_for(reserved, timeout=10)

    second = asyncio.create_task(_reserve(database, 50))
    await asyncio.sleep(WAIT_S)
    assert not second.done(), "the second reservation did not wait for the first"
    release.set()
    await asyncio.wait_for(holder, timeout=10)

    assert first == range(start + 1, start + 51)
    assert await asyncio.wait_for(second, timeout=10) == range(start + 51, start + 101)


async def test_processes_reserving_at_once_never_share_a_number(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    allocators = [ReferenceAllocator(database, block_size=3) for _ in range(4)]

    async def take(allocator: ReferenceAllocator) -> list[int]:
        return [await allocator.next_number(DAY) for _ in range(30)]

    taken = await asyncio.wait_for(asyncio.gather(*(take(a) for a in allocators)), timeout=60)
    numbers = [n for numbers in taken for n in numbers]
    assert sorted(numbers) == list(range(1, 121))  # no duplicate, no gap


def _submit(database: Database, *, body_hash: str = "hash-1") -> Awaitable[Any]:
    return service.submit_complaint(
        database=database,
        secrets_=SECRETS,
        references=ReferenceAllocator(database),
        writer=GroupCommitter(database),
        submission=service.Submission(COMPLAINT, 1, "key-1", body_hash),
        public_base_url="http://intake",
    )


async def _record_key_and_hold(
    database: Database,
    *,
    request_hash: str,
    answer: dict[str, Any],
    recorded: asyncio.Event,
    release: asyncio.Future[bool],
) -> None:
    """Another request's transaction: it has inserted the key's record and not committed
    yet; ``release`` says whether it commits (True) or rolls back (False)."""

    class RolledBack(Exception):
        pass

    try:
        async with database.unit_of_work() as uow:
            SubmissionRepository(uow.session).add_idempotency_record(
                api_key_id=1,
                key="key-1",
                request_hash=request_hash,
                response={"sealed": SECRETS.seal(json.dumps(answer)).decode()},
            )
            await uow.session.flush()
            recorded.set()
            if not await release:
                raise RolledBack
    except RolledBack:
        pass


async def _race_with_a_held_key(
    database: Database, *, request_hash: str, commit: bool
) -> tuple[asyncio.Task[Any], dict[str, Any]]:
    answer = {"id": "the-winner", "reference": "C-20261123-000001"}
    recorded = asyncio.Event()
    release: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    holder = asyncio.create_task(
        _record_key_and_hold(
            database, request_hash=request_hash, answer=answer, recorded=recorded, release=release
        )
    )
    await asyncio.wait_for(recorded.wait(), timeout=10)
    submission = asyncio.create_task(_submit(database))
    await asyncio.sleep(WAIT_S)
    assert not submission.done(), "the insert of the same key did not wait"
    release.set_result(commit)
    await asyncio.wait_for(holder, timeout=10)
    return submission, answer


async def test_the_loser_of_a_race_for_a_key_replays_the_winners_answer(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    submission, answer = await _race_with_a_held_key(database, request_hash="hash-1", commit=True)
    result = await asyncio.wait_for(submission, timeout=10)
    assert (result.body, result.replayed) == (answer, True)
    # The loser's complaint, history and event went with its rolled-back transaction.
    assert await _count(database, "complaints") == 0
    assert await _count(database, "outbox_messages") == 0


async def test_the_loser_of_a_race_with_another_body_is_refused(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    submission, _ = await _race_with_a_held_key(database, request_hash="hash-2", commit=True)
    with pytest.raises(IdempotencyKeyReused):
        await asyncio.wait_for(submission, timeout=10)
    assert await _count(database, "complaints") == 0


async def test_a_race_whose_winner_rolled_back_stores_the_complaint(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    submission, _ = await _race_with_a_held_key(database, request_hash="hash-1", commit=False)
    result = await asyncio.wait_for(submission, timeout=10)
    assert not result.replayed
    assert await _count(database, "complaints") == 1
    assert await _count(database, "idempotency_keys") == 1


async def test_concurrent_retries_with_one_key_store_one_complaint(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    results = await asyncio.wait_for(
        asyncio.gather(*(_submit(database) for _ in range(4))), timeout=30
    )
    assert len({json.dumps(r.body, sort_keys=True) for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert await _count(database, "complaints") == 1
    assert await _count(database, "outbox_messages") == 1
