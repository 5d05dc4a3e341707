"""Replies and suppressions on the suite's PostgreSQL (migrated to head): the same reply
stored twice at once is one row (ON CONFLICT DO NOTHING), two forwarder claims at once
take disjoint replies (SKIP LOCKED), a suppression recorded twice is one row, a reply
with NUL and other control characters is stored without them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from complaint_runtime.database import Database, utcnow
from notify.main import MIGRATIONS
from notify.replies import service
from notify.replies.db import InboundReply, InboundReplyRepository
from notify.suppressions.db import Suppression
from notify.suppressions.service import suppress
from sqlalchemy import func, select

NewDatabase = Callable[[Path], Awaitable[Database]]
COMPLAINT_ID = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"
LOCK_WAIT_S = 5.0


async def _store(database: Database, external_id: str, text: str = "Still no refund.") -> bool:
    async with database.unit_of_work() as uow:
        return await service.store_reply(
            uow.session,
            complaint_id=COMPLAINT_ID,
            channel="email",
            external_id=external_id,
            text=text,
            now=utcnow(),
        )


async def _count(database: Database, model: type) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_same_reply_stored_twice_at_once_is_one_row(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    results = await asyncio.gather(*(_store(database, "<same@example.com>") for _ in range(4)))
    assert sorted(results) == [False, False, False, True]
    assert await _count(database, InboundReply) == 1


async def test_a_reply_with_control_characters_is_stored_without_them(
    postgres_database: NewDatabase,
) -> None:
    # PostgreSQL refuses NUL in text (the SMTP endpoint answered 451 for ever), and intake
    # refuses the other control characters (the reply was refused and lost).
    database = await postgres_database(MIGRATIONS)
    assert await _store(database, "<nul@example.com>", "Still\x00 no\x1b refund\x7f.\r\n\tOK")
    async with database.sessions() as session:
        (row,) = await session.scalars(select(InboundReply))
    assert row.text == "Still no refund.\r\n\tOK"


async def test_two_claims_at_once_take_disjoint_replies(postgres_database: NewDatabase) -> None:
    database = await postgres_database(MIGRATIONS)
    for index in range(4):
        assert await _store(database, f"<r{index}@example.com>")
    now = utcnow()
    async with database.unit_of_work() as first:
        held = await InboundReplyRepository(first.session).claim_due(now=now, limit=2)

        async def other() -> list[str]:
            async with database.unit_of_work() as second:
                rows = await InboundReplyRepository(second.session).claim_due(now=now, limit=10)
                return [r.reply_id for r in rows]

        taken = await asyncio.wait_for(other(), timeout=LOCK_WAIT_S)
    assert len(held) == 2
    assert len(taken) == 2
    assert not {r.reply_id for r in held} & set(taken)


async def test_a_suppression_recorded_twice_is_one_row(postgres_database: NewDatabase) -> None:
    database = await postgres_database(MIGRATIONS)

    async def record() -> bool:
        async with database.unit_of_work() as uow:
            return await suppress(
                session=uow.session,
                recipient_key="c" * 64,
                channel="email",
                reason="bounce",
                detail="bounce of delivery d-1",
                now=utcnow(),
            )

    assert sorted(await asyncio.gather(record(), record())) == [False, True]
    assert await _count(database, Suppression) == 1
