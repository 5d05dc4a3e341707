"""The delivery log on the suite's PostgreSQL: what SQLite cannot show. Two transactions at
once: a claim or a recovery skips the rows another one holds (SKIP LOCKED), only the claimer
moves a row to ``sending`` and only once (a conditional UPDATE that waits for the row lock),
and the same message recorded twice, even concurrently, is one row (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from complaint_contracts import topics
from complaint_contracts.envelope import decode
from complaint_contracts.events import NotificationFailed, SlaBreached
from complaint_contracts.examples import example_for
from complaint_runtime.database import Database, OutboxMessage, utcnow
from complaint_runtime.testing import envelope_of, record_of
from notify.deliveries import service
from notify.deliveries.db import Delivery, DeliveryRepository
from notify.main import MIGRATIONS
from sqlalchemy import select

NewDatabase = Callable[[Path], Awaitable[Database]]

# Longer than any of these statements takes when it does not wait for a lock.
LOCK_WAIT_S = 5.0
# Long enough for a statement that is not blocked to have finished.
SETTLE_S = 0.3
LEASE_S = 300.0


def _values(*, event_id: str, slot: str = "", due: datetime | None = None) -> dict[str, Any]:
    now = utcnow()
    return {
        "delivery_id": str(uuid.uuid4()),
        "complaint_id": str(uuid.uuid4()),
        "event_id": event_id,
        "event_type": "sla.breached",
        "template": "sla_breach",
        "recipient_role": "team_lead",
        "recipient_user": None,
        "recipient_slot": slot,
        "context": {"metric": "resolution"},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": due or now,
        "created_at": now,
        "updated_at": now,
    }


async def _pending(database: Database, count: int, *, due: datetime | None = None) -> None:
    async with database.unit_of_work() as uow:
        repository = DeliveryRepository(uow.session)
        for _ in range(count):
            assert await repository.add_if_new(_values(event_id=str(uuid.uuid4()), due=due))


async def _rows(database: Database) -> list[Delivery]:
    async with database.sessions() as session:
        return list(await session.scalars(select(Delivery)))


async def _add_in_own_transaction(database: Database, values: dict[str, Any]) -> bool:
    async with database.unit_of_work() as uow:
        return await DeliveryRepository(uow.session).add_if_new(values)


# -- claiming: SKIP LOCKED


async def test_two_claims_at_once_never_take_the_same_row(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _pending(database, 6)
    now = utcnow()
    async with database.unit_of_work() as first:
        held = await DeliveryRepository(first.session).claim_due(now=now, limit=3, claimer="a")
        # The first claim is not committed yet: its rows are locked. The second one takes
        # the others at once instead of waiting for them (or taking them too).
        other = await asyncio.wait_for(
            service.claim_due(database=database, now=now, limit=10, claimer="b"),
            timeout=LOCK_WAIT_S,
        )
    assert len(held) == 3
    assert len(other) == 3
    assert not {r.delivery_id for r in held} & {r.delivery_id for r in other}
    rows = await _rows(database)
    assert sorted(r.claimed_by or "" for r in rows) == ["a"] * 3 + ["b"] * 3
    assert {(r.status, r.attempts) for r in rows} == {("preparing", 1)}


async def test_two_recoveries_at_once_never_take_the_same_row(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    past = utcnow() - timedelta(hours=1)
    await _pending(database, 2, due=past)
    await service.claim_due(database=database, now=past, limit=2, claimer="dead")
    claimed_before = utcnow() - timedelta(seconds=LEASE_S)
    async with database.unit_of_work() as first:
        held = await DeliveryRepository(first.session).abandoned_sending(
            not_claimer="a", claimed_before=claimed_before, limit=1
        )
        async with database.unit_of_work() as second:
            other = await asyncio.wait_for(
                DeliveryRepository(second.session).abandoned_sending(
                    not_claimer="b", claimed_before=claimed_before, limit=10
                ),
                timeout=LOCK_WAIT_S,
            )
    assert len(held) == 1
    assert len(other) == 1
    assert held[0].delivery_id != other[0].delivery_id


# -- starting to transmit: a conditional UPDATE


async def test_only_the_claimer_moves_a_row_to_sending_and_only_once(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _pending(database, 1)
    [row] = await service.claim_due(database=database, now=utcnow(), limit=1, claimer="a")
    delivery_id = row.delivery_id

    async def start(claimer: str) -> bool:
        return await service.start_transmitting(
            database=database, delivery_id=delivery_id, claimer=claimer, now=utcnow()
        )

    assert not await start("b")  # not the claimer
    async with database.unit_of_work() as first:
        assert await DeliveryRepository(first.session).start_transmitting(
            delivery_id=delivery_id, claimer="a", now=utcnow()
        )
        second = asyncio.create_task(start("a"))
        await asyncio.sleep(SETTLE_S)
        assert not second.done()  # waits for the first's row lock
    # The first committed: the second re-reads the row, no longer ``preparing``.
    assert not await asyncio.wait_for(second, timeout=LOCK_WAIT_S)
    [row] = await _rows(database)
    assert (row.status, row.claimed_by, row.attempts) == ("sending", "a", 1)


# -- recording: ON CONFLICT DO NOTHING


async def test_the_same_message_recorded_twice_is_one_row(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    async with database.unit_of_work() as uow:
        repository = DeliveryRepository(uow.session)
        assert await repository.add_if_new(_values(event_id="evt-1"))
        assert not await repository.add_if_new(_values(event_id="evt-1"))
        # Another member of a group told one by one is another message.
        assert await repository.add_if_new(_values(event_id="evt-1", slot="senior-wu"))
    assert sorted(r.recipient_slot for r in await _rows(database)) == ["", "senior-wu"]


async def test_the_same_message_recorded_at_once_by_two_transactions_is_one_row(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    async with database.unit_of_work() as first:
        assert await DeliveryRepository(first.session).add_if_new(_values(event_id="evt-1"))
        second = asyncio.create_task(_add_in_own_transaction(database, _values(event_id="evt-1")))
        await asyncio.sleep(SETTLE_S)
        assert not second.done()  # waits to see whether the first's key commits
    # The first committed: the second adds nothing, and fails nothing.
    assert not await asyncio.wait_for(second, timeout=LOCK_WAIT_S)
    assert len(await _rows(database)) == 1


async def test_a_redelivered_event_records_its_deliveries_once(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    envelope = envelope_of(record_of(example_for(SlaBreached), topics.SLA))
    added = []
    for _ in range(2):
        async with database.unit_of_work() as uow:
            added.append(await service.record_deliveries(uow=uow, envelope=envelope, now=utcnow()))
    assert added == [1, 0]
    [row] = await _rows(database)
    assert (row.event_id, row.status) == (envelope.id, "pending")


# -- recovery: only past the lease


async def test_only_rows_another_process_left_past_the_lease_are_abandoned(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    now = utcnow()
    long_ago = now - timedelta(seconds=LEASE_S + 60)
    await _pending(database, 4, due=long_ago)
    [dead] = await service.claim_due(database=database, now=long_ago, limit=1, claimer="dead")
    [mine] = await service.claim_due(database=database, now=long_ago, limit=1, claimer="me")
    [live] = await service.claim_due(database=database, now=now, limit=1, claimer="live")
    async with database.unit_of_work() as uow:
        found = await DeliveryRepository(uow.session).abandoned_sending(
            not_claimer="me", claimed_before=now - timedelta(seconds=LEASE_S), limit=100
        )
    assert [row.delivery_id for row in found] == [dead.delivery_id]
    statuses = sorted(row.status for row in await _rows(database))
    assert statuses == ["pending", "preparing", "preparing", "preparing"]
    assert mine.claimed_by == "me"
    assert live.claimed_by == "live"


async def test_recovery_hands_back_unsent_claims_and_never_resends_a_started_one(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    long_ago = utcnow() - timedelta(seconds=LEASE_S + 60)
    await _pending(database, 2, due=long_ago)
    claimed = await service.claim_due(database=database, now=long_ago, limit=2, claimer="dead")
    started, unsent = claimed
    assert await service.start_transmitting(
        database=database, delivery_id=started.delivery_id, claimer="dead", now=long_ago
    )
    uncertain = await service.recover_abandoned(
        database=database, claimer="me", now=utcnow(), lease_s=LEASE_S
    )
    assert uncertain == 1
    rows = {row.delivery_id: row for row in await _rows(database)}
    assert (rows[started.delivery_id].status, rows[started.delivery_id].last_error) == (
        "uncertain",
        service.UNCERTAIN_ERROR,
    )
    assert (rows[unsent.delivery_id].status, rows[unsent.delivery_id].claimed_by) == (
        "pending",
        None,
    )
    async with database.sessions() as session:
        [outbox] = list(await session.scalars(select(OutboxMessage)))
    event = decode(outbox.key, outbox.value, [(n, v.encode()) for n, v in outbox.headers]).data
    assert isinstance(event, NotificationFailed)
    assert (event.notification_id, event.final) == (started.delivery_id, True)
