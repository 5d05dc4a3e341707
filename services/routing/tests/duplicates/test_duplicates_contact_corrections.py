"""A correction of the customer's contacts (intake's ``complaint.contacts_corrected``)
re-keys the complaint in routing's customer index: duplicates and repeats follow the
corrected number, not the wrong one, through routing's handlers on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintContactsCorrected,
    ComplaintDuplicateLinked,
    ComplaintReceived,
    CustomerView,
    ErasureRequested,
)
from complaint_runtime.database import Database
from routing.duplicates.db import CustomerIdentityKey
from sqlalchemy import select

Names = Callable[[list[Envelope]], list[str]]
T0 = datetime.now(UTC) - timedelta(days=10)
OLD_PHONE = "phone:" + "a" * 32
NEW_PHONE = "phone:" + "b" * 32
EMAIL = "email:" + "c" * 32
REFUND = "我10月28日申请的退款到现在还没到账，退款延迟太久了。"
TRIAGED = ["complaint.triaged", "complaint.assigned"]


def received(*, keys: tuple[str, ...], ref: str, minutes: int = 0) -> ComplaintReceived:
    return ComplaintReceived(
        complaint_id=str(uuid.uuid4()),
        reference=f"C-20261120-{uuid.uuid4().int % 1_000_000:06d}",
        channel="web",
        customer=CustomerView(customer_ref=ref, identity_keys=keys),
        subject="投诉",
        description=REFUND,
        received_at=T0 + timedelta(minutes=minutes),
    )


def corrected(complaint_id: str, *, ref: str, keys: tuple[str, ...]) -> ComplaintContactsCorrected:
    return ComplaintContactsCorrected(
        complaint_id=complaint_id,
        customer_ref=ref,
        corrected=("phone",),
        masked_phone="139****1111",
        identity_keys=keys,
        corrected_at=T0 + timedelta(minutes=1),
        actor="admin:admin-7",
    )


async def keys_of(database: Database, complaint_id: str) -> set[str]:
    async with database.sessions() as session:
        rows = await session.scalars(
            select(CustomerIdentityKey.identity_key).where(
                CustomerIdentityKey.complaint_id == complaint_id
            )
        )
        return set(rows)


@pytest.fixture
async def li(seed: Any) -> None:
    await seed([{"id": "agent-li", "team": "billing", "level": "senior", "capacity": 10}])


async def test_a_corrected_phone_links_by_the_new_number_not_the_old(
    database: Database, li: None, feed: Any, outbox: Any, names: Names
) -> None:
    first = received(keys=(OLD_PHONE, EMAIL), ref="cus_first")
    await feed(first)
    correction = corrected(first.complaint_id, ref="cus_first", keys=(NEW_PHONE, EMAIL))
    await feed(correction)
    await feed(correction)  # a redelivery under another id: the same keys
    assert await keys_of(database, first.complaint_id) == {"ref:cus_first", NEW_PHONE, EMAIL}

    from_old = received(keys=(OLD_PHONE,), ref="cus_old", minutes=2)
    await feed(from_old)
    assert names(await outbox(from_old.complaint_id)) == TRIAGED

    from_new = received(keys=(NEW_PHONE,), ref="cus_new", minutes=3)
    await feed(from_new)
    events = await outbox(from_new.complaint_id)
    assert names(events) == ["complaint.duplicate_linked"]
    linked = events[0].data
    assert isinstance(linked, ComplaintDuplicateLinked)
    assert linked.duplicate_of == first.complaint_id
    assert linked.matched_on[0] == "same_phone"


async def test_a_correction_without_keys_leaves_the_index_as_it_was(
    database: Database, li: None, feed: Any, outbox: Any, names: Names
) -> None:
    first = received(keys=(OLD_PHONE,), ref="cus_first")
    await feed(first)
    await feed(corrected(first.complaint_id, ref="cus_first", keys=()))
    assert await keys_of(database, first.complaint_id) == {"ref:cus_first", OLD_PHONE}

    from_old = received(keys=(OLD_PHONE,), ref="cus_old", minutes=2)
    await feed(from_old)
    assert names(await outbox(from_old.complaint_id)) == ["complaint.duplicate_linked"]


async def test_an_erased_complaint_is_not_keyed_again(
    database: Database, li: None, feed: Any
) -> None:
    first = received(keys=(OLD_PHONE,), ref="cus_first")
    await feed(first)
    await feed(
        ErasureRequested(
            complaint_id=first.complaint_id,
            erasure_id="era-1",
            customer_ref="cus_first",
            reason="customer_request",
            requested_at=T0 + timedelta(minutes=1),
            actor="admin:admin-7",
        )
    )
    await feed(corrected(first.complaint_id, ref="cus_first", keys=(NEW_PHONE,)))
    assert await keys_of(database, first.complaint_id) == set()
