"""NPS rounds and answers on the suite's real PostgreSQL, where replicas run side by side:
rounds of several loops at once ask every customer exactly once (the round's row lock with
``SKIP LOCKED``, the unique period and customer), and of concurrent answers to one link
exactly one is kept (the conditional UPDATE)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from complaint_contracts.envelope import decode
from complaint_contracts.events import NpsAnswered
from complaint_runtime.database import Database, OutboxMessage
from feedback.domain.links import LinkClaims
from feedback.main import MIGRATIONS
from feedback.nps import rounds, service
from feedback.nps.db import NpsRound
from feedback.nps.domain.answers import NpsAlreadyAnswered
from sqlalchemy import select

from .test_feedback_nps_rounds import NPS, PERIOD, START, _complaint, _nps, _requested

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]


async def test_rounds_of_several_replicas_ask_each_customer_once(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    refs = [f"cr_{i:03d}" for i in range(40)]
    for ref in refs:
        await _complaint(database, ref=ref, closed_at=START + timedelta(days=2))
    nps = _nps(batch_size=3)
    opened = await asyncio.gather(
        *(
            rounds.open_round(database=database, period=PERIOD, trigger="schedule", nps=nps)
            for _ in range(3)
        )
    )
    assert sorted(opened) == [False, False, True]  # one round, whoever comes first
    await asyncio.gather(*(rounds.drain(database=database, nps=nps) for _ in range(4)))
    events = await _requested(database)
    assert sorted(e.customer_ref for e in events) == refs
    async with database.sessions() as session:
        round_ = await session.get(NpsRound, PERIOD.key)
    assert round_ is not None
    assert (round_.status, round_.requests_created) == ("done", 40)


async def test_concurrent_answers_keep_one(postgres_database: NewPostgresDatabase) -> None:
    database = await postgres_database(MIGRATIONS)
    complaint_id = await _complaint(database, ref="cr_one", closed_at=START + timedelta(days=2))
    await rounds.open_round(database=database, period=PERIOD, trigger="schedule", nps=NPS)
    await rounds.drain(database=database, nps=NPS)
    [requested] = await _requested(database)
    claims = LinkClaims(requested.request_id, complaint_id, datetime.now(UTC) + timedelta(days=1))
    now = requested.requested_at + timedelta(hours=1)
    outcomes = await asyncio.gather(
        *(
            service.answer(database=database, claims=claims, score=s, comment=None, now=now)
            for s in range(8)
        ),
        return_exceptions=True,
    )
    won = [o for o in outcomes if isinstance(o, str)]
    assert len(won) == 1
    assert all(isinstance(o, NpsAlreadyAnswered) for o in outcomes if not isinstance(o, str))
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage)))
    answered = [
        e
        for e in (
            decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]).data for r in rows
        )
        if isinstance(e, NpsAnswered)
    ]
    assert len(answered) == 1
