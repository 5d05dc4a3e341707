"""Delivery receipts recorded on the delivery log (notify.sms.service / notify.sms.db), on
SQLite and on the suite's PostgreSQL, both migrated by notify's real migrations: a receipt
lands on the delivery holding its BizId, an unknown id is counted and changes nothing, a
repeated or older receipt changes nothing, a push is recorded all or nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from complaint_runtime.database import Database, utcnow
from notify.deliveries.db import Delivery, DeliveryRepository
from notify.main import MIGRATIONS
from notify.sms.domain.receipts import SmsReceipt
from notify.sms.service import ReceiptTally, record_receipts
from sqlalchemy import select

REPORTED = datetime(2026, 12, 7, 2, 0, 5, tzinfo=UTC)


NewDatabase = Callable[[], Awaitable[Database]]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.db)])
def new_database(request: pytest.FixtureRequest) -> NewDatabase:
    """Notify's database as its migrations leave it, on SQLite or the suite's PostgreSQL."""
    if request.param == "postgresql":
        postgres_database: Callable[[Path], Awaitable[Database]] = request.getfixturevalue(
            "postgres_database"
        )
        return lambda: postgres_database(MIGRATIONS)
    migrated_sqlite: Callable[[Path], Awaitable[str]] = request.getfixturevalue("migrated_sqlite")

    async def make() -> Database:
        return Database(await migrated_sqlite(MIGRATIONS))

    return make


@pytest.fixture
async def database(new_database: NewDatabase) -> AsyncIterator[Database]:
    database = await new_database()
    yield database
    await database.dispose()  # again for PostgreSQL's: harmless


async def sent_sms(database: Database, biz_id: str | None) -> str:
    """A delivery the SMS channel finished as sent, with the provider's id."""
    now = utcnow()
    delivery_id = str(uuid.uuid4())
    values: dict[str, Any] = {
        "delivery_id": delivery_id,
        "complaint_id": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "event_type": "complaint.received",
        "template": "acknowledgement",
        "recipient_role": "customer",
        "recipient_user": None,
        "recipient_slot": "",
        "recipient_masked": "138****5678",
        "channel": "sms",
        "context": {},
        "status": "sent",
        "attempts": 1,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        "finished_at": now,
        "provider_message_id": biz_id,
    }
    async with database.unit_of_work() as uow:
        assert await DeliveryRepository(uow.session).add_if_new(values)
    return delivery_id


def receipt(biz_id: str, *, success: bool = True, at: datetime = REPORTED, **kw: Any) -> SmsReceipt:
    fields: dict[str, Any] = {
        "phone_masked": "138****5678",
        "success": success,
        "biz_id": biz_id,
        "out_id": None,
        "send_time": at - timedelta(seconds=5),
        "report_time": at,
        "err_code": "DELIVERED" if success else "MK:0001",
        "err_msg": "用户接收成功" if success else "停机 13812345678",
        "parts": 1,
    }
    fields.update(kw)
    return SmsReceipt(**fields)


async def row(database: Database, delivery_id: str) -> Delivery:
    async with database.sessions() as session:
        found = await session.scalar(select(Delivery).where(Delivery.delivery_id == delivery_id))
    assert found is not None
    return found


async def test_a_receipt_is_recorded_on_the_delivery_holding_its_biz_id(
    database: Database,
) -> None:
    delivered = await sent_sms(database, "100^0")
    failed = await sent_sms(database, "200^0")
    other = await sent_sms(database, "300^0")
    tally = await record_receipts(
        database=database, receipts=(receipt("100^0"), receipt("200^0", success=False))
    )
    assert tally == ReceiptTally(recorded=2, repeated=0, unknown=0)
    first, second, untouched = [await row(database, d) for d in (delivered, failed, other)]
    assert (first.receipt_status, first.receipt_at, first.receipt_error) == (
        "delivered",
        REPORTED,
        None,
    )
    assert second.receipt_status == "failed"
    assert second.receipt_at == REPORTED
    assert second.receipt_error is not None
    assert second.receipt_error.startswith("MK:0001: 停机")
    assert "13812345678" not in second.receipt_error  # a contact never reaches a row
    assert (untouched.receipt_status, untouched.receipt_at) == (None, None)
    assert first.status == "sent"  # the delivery's own status is the send's, unchanged


async def test_an_unknown_biz_id_is_counted_and_changes_nothing(database: Database) -> None:
    mine = await sent_sms(database, "100^0")
    tally = await record_receipts(database=database, receipts=(receipt("999^0"),))
    assert tally == ReceiptTally(recorded=0, repeated=0, unknown=1)
    assert (await row(database, mine)).receipt_status is None


async def test_a_repeated_push_changes_nothing(database: Database) -> None:
    delivery_id = await sent_sms(database, "100^0")
    push = (receipt("100^0", success=False),)
    assert await record_receipts(database=database, receipts=push) == ReceiptTally(1, 0, 0)
    before = await row(database, delivery_id)
    assert await record_receipts(database=database, receipts=push) == ReceiptTally(0, 1, 0)
    after = await row(database, delivery_id)
    assert (after.receipt_status, after.receipt_at, after.receipt_error, after.updated_at) == (
        before.receipt_status,
        before.receipt_at,
        before.receipt_error,
        before.updated_at,
    )


async def test_an_older_receipt_never_overwrites_a_newer_one(database: Database) -> None:
    delivery_id = await sent_sms(database, "100^0")
    later = REPORTED + timedelta(minutes=1)
    await record_receipts(database=database, receipts=(receipt("100^0", at=later),))
    tally = await record_receipts(
        database=database, receipts=(receipt("100^0", success=False, at=REPORTED),)
    )
    assert tally == ReceiptTally(recorded=0, repeated=1, unknown=0)
    found = await row(database, delivery_id)
    assert (found.receipt_status, found.receipt_at) == ("delivered", later)


async def test_a_delivery_without_a_provider_id_is_never_matched(database: Database) -> None:
    delivery_id = await sent_sms(database, None)
    tally = await record_receipts(database=database, receipts=(receipt(""),))
    assert tally.unknown == 1
    assert (await row(database, delivery_id)).receipt_status is None
