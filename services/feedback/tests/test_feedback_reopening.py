"""A customer message on a closed complaint reopens it (§3): once per closure, whichever of
the closure (routing topic) and the message (intake topic) comes first; not for a message
written before the closure, nor for a withdrawn complaint."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from complaint_contracts.envelope import decode
from complaint_contracts.events import ComplaintClosed, ComplaintReopened, CustomerMessageReceived
from complaint_runtime.database import Database, OutboxMessage
from feedback import reopening
from feedback.domain.reopening import message_reopens
from sqlalchemy import select

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
CID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"


def closed(*, at: datetime = T0, reason: str = "confirmed") -> ComplaintClosed:
    return ComplaintClosed(
        complaint_id=CID,
        reason=reason,  # type: ignore[arg-type]
        evidence_event_id="ev-1" if reason in ("confirmed", "auto_closed") else None,
        actor="customer",
        closed_at=at,
    )


def message(*, at: datetime) -> CustomerMessageReceived:
    return CustomerMessageReceived(
        complaint_id=CID,
        message_id=str(uuid.uuid4()),
        channel="web",
        customer_ref="cr_1",
        text="还是没有收到退款",
        received_at=at,
    )


async def close(database: Database, event: ComplaintClosed) -> bool:
    async with database.unit_of_work() as uow:
        return await reopening.record_closure(uow=uow, closed=event, now=T0)


async def write(database: Database, event: CustomerMessageReceived) -> bool:
    async with database.unit_of_work() as uow:
        return await reopening.record_customer_message(uow=uow, message=event, now=T0)


async def reopens(database: Database) -> list[ComplaintReopened]:
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    events = [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]).data for r in rows]
    return [e for e in events if isinstance(e, ComplaintReopened)]


@pytest.mark.parametrize(
    ("reason", "closed_at", "reopened", "message_at", "expected"),
    [
        ("confirmed", T0, False, T0 + timedelta(days=3), True),
        ("auto_closed", T0, False, T0, True),  # at the closure's instant: after it
        ("duplicate", T0, False, T0 + timedelta(seconds=1), True),
        ("withdrawn", T0, False, T0 + timedelta(days=1), False),
        ("confirmed", T0, True, T0 + timedelta(days=1), False),  # reopened already
        ("confirmed", T0, False, T0 - timedelta(seconds=1), False),  # written before
        ("confirmed", None, False, T0, False),  # never closed
        ("confirmed", T0, False, None, False),  # no message yet
    ],
)
def test_which_message_reopens_which_closure(
    reason: str,
    closed_at: datetime | None,
    reopened: bool,
    message_at: datetime | None,
    expected: bool,
) -> None:
    assert (
        message_reopens(
            close_reason=reason,
            closed_at=closed_at,
            already_reopened=reopened,
            message_at=message_at,
        )
        is expected
    )


async def test_a_message_after_the_closure_reopens_it_once(database: Database) -> None:
    assert not await close(database, closed())
    first = message(at=T0 + timedelta(days=2))
    assert await write(database, first)
    assert not await write(database, message(at=T0 + timedelta(days=2, hours=1)))
    assert not await write(database, first)  # the same message again
    [reopened] = await reopens(database)
    assert (reopened.complaint_id, reopened.reason, reopened.message_id) == (
        CID,
        "customer_message",
        first.message_id,
    )
    assert (reopened.actor, reopened.request_id, reopened.csat) == ("customer", None, None)


async def test_the_message_may_come_before_its_closure(database: Database) -> None:
    # The intake topic ran ahead of the routing topic: the closure finds the message.
    early = message(at=T0 + timedelta(minutes=1))
    assert not await write(database, early)
    assert await close(database, closed(at=T0))
    [reopened] = await reopens(database)
    assert reopened.message_id == early.message_id


async def test_a_message_written_before_the_closure_does_not_reopen(database: Database) -> None:
    assert not await write(database, message(at=T0 - timedelta(hours=1)))
    assert not await close(database, closed(at=T0))
    assert await reopens(database) == []


async def test_a_withdrawn_complaint_is_not_reopened(database: Database) -> None:
    await close(database, closed(reason="withdrawn"))
    assert not await write(database, message(at=T0 + timedelta(days=1)))
    assert await reopens(database) == []


async def test_a_message_on_a_complaint_never_closed_reopens_nothing(database: Database) -> None:
    assert not await write(database, message(at=T0))
    assert await reopens(database) == []


async def test_each_closure_reopens_once(database: Database) -> None:
    await close(database, closed(at=T0))
    assert await write(database, message(at=T0 + timedelta(days=1)))
    # Worked again and closed again: the next message reopens the new closure.
    second_closure = T0 + timedelta(days=5)
    assert not await close(database, closed(at=second_closure))
    assert await write(database, message(at=second_closure + timedelta(days=1)))
    assert len(await reopens(database)) == 2
