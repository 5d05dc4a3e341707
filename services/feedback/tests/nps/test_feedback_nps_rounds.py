"""NPS rounds on a database (SQLite here; PostgreSQL in the db tier): who is asked in a
period, once per customer, never twice across a crash or a second round, never an
opted-out customer, in bounded batches, with one ``nps.survey_requested`` per request."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from complaint_contracts.envelope import decode
from complaint_contracts.events import ErasureRequested, NpsSurveyRequested
from complaint_runtime.database import Database, OutboxMessage
from feedback import erasure
from feedback.db import Closure, ComplaintInfo
from feedback.domain.links import LinkClaims
from feedback.nps import rounds, service
from feedback.nps.db import NpsOptOut, NpsRequest, NpsRound
from feedback.nps.domain.periods import Fixed, Monthly, Off, period_containing, window
from feedback.nps.domain.sampling import chosen
from feedback.nps.domain.settings import NpsSettings
from sqlalchemy import func, select, update

START = datetime(2026, 11, 1, tzinfo=UTC)
PERIOD = window(START, START + timedelta(days=30))
NPS = NpsSettings(
    schedule=Monthly(),
    zone="Asia/Shanghai",
    sample_percent=100.0,
    seed="test-seed",
    answer_s=14 * 86_400,
    round_delay_s=3600,
    batch_size=500,
)


def _nps(**changes: Any) -> NpsSettings:
    return NpsSettings(**{**vars(NPS), **changes})


async def _complaint(
    database: Database,
    *,
    ref: str | None,
    closed_at: datetime | None,
    language: str = "zh-CN",
    reopened: bool = False,
    reason: str = "confirmed",
) -> str:
    complaint_id = str(uuid.uuid4())
    async with database.unit_of_work() as uow:
        uow.session.add(
            ComplaintInfo(
                complaint_id=complaint_id,
                reference="C-20261101-000001",
                channel="email",
                language=language,
                received_at=START - timedelta(days=3),
                customer_ref=ref,
            )
        )
        if closed_at is not None:
            uow.session.add(
                Closure(
                    complaint_id=complaint_id,
                    closed_at=closed_at,
                    close_reason=reason,
                    reopened_at=closed_at + timedelta(hours=1) if reopened else None,
                    updated_at=closed_at,
                )
            )
    return complaint_id


async def _requested(database: Database) -> list[NpsSurveyRequested]:
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    events = [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]).data for r in rows]
    return [e for e in events if isinstance(e, NpsSurveyRequested)]


async def _count(database: Database, model: Any) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _run(database: Database, nps: NpsSettings = NPS, *, period: Any = PERIOD) -> None:
    await rounds.open_round(database=database, period=period, trigger="operator", nps=nps)
    await rounds.drain(database=database, nps=nps)


async def test_a_round_asks_each_customer_once_about_their_latest_closure(
    database: Database,
) -> None:
    early = await _complaint(database, ref="cr_a", closed_at=START + timedelta(days=2))
    latest = await _complaint(
        database, ref="cr_a", closed_at=START + timedelta(days=9), language="en"
    )
    only = await _complaint(database, ref="cr_b", closed_at=START + timedelta(days=29, hours=23))
    await _complaint(database, ref="cr_c", closed_at=START - timedelta(seconds=1))  # before
    await _complaint(database, ref="cr_d", closed_at=PERIOD.end)  # the end is the next period's
    await _complaint(database, ref="cr_e", closed_at=START + timedelta(days=3), reopened=True)
    await _complaint(database, ref=None, closed_at=START + timedelta(days=3))  # customer unknown
    await _complaint(database, ref="cr_f", closed_at=None)  # never closed
    await _run(database)
    events = await _requested(database)
    assert sorted((e.customer_ref, e.complaint_id) for e in events) == [
        ("cr_a", latest),
        ("cr_b", only),
    ]
    assert early not in {e.complaint_id for e in events}
    by_ref = {e.customer_ref: e for e in events}
    assert by_ref["cr_a"].language == "en"
    assert by_ref["cr_a"].period == PERIOD.key
    assert by_ref["cr_a"].expires_at - by_ref["cr_a"].requested_at <= timedelta(days=14)
    async with database.sessions() as session:
        round_ = await session.get(NpsRound, PERIOD.key)
    assert round_ is not None
    assert (round_.status, round_.customers_seen, round_.requests_created) == ("done", 2, 2)
    # The same period again (an operator, another replica): nobody is asked twice.
    await rounds.open_round(database=database, period=PERIOD, trigger="operator", nps=NPS)
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(NpsRound).values(status="open", cursor=None)
        )  # even a round forced to start over
    await rounds.drain(database=database, nps=NPS)
    assert len(await _requested(database)) == 2
    assert await _count(database, NpsRequest) == 2


async def test_only_closures_the_customer_took_part_in_are_surveyed(database: Database) -> None:
    day = START + timedelta(days=1)
    confirmed = await _complaint(database, ref="cr_confirmed", closed_at=day)
    auto = await _complaint(database, ref="cr_auto", closed_at=day, reason="auto_closed")
    await _complaint(database, ref="cr_withdrawn", closed_at=day, reason="withdrawn")
    await _complaint(database, ref="cr_duplicate", closed_at=day, reason="duplicate")
    # A customer's withdrawal is not what they are asked about, even when later.
    mixed = await _complaint(database, ref="cr_mixed", closed_at=day)
    await _complaint(
        database, ref="cr_mixed", closed_at=day + timedelta(days=1), reason="withdrawn"
    )
    await _run(database)
    assert sorted((e.customer_ref, e.complaint_id) for e in await _requested(database)) == [
        ("cr_auto", auto),
        ("cr_confirmed", confirmed),
        ("cr_mixed", mixed),
    ]
    async with database.sessions() as session:
        round_ = await session.get(NpsRound, PERIOD.key)
    assert round_ is not None
    assert (round_.customers_seen, round_.requests_created) == (3, 3)


async def test_the_sample_is_the_seeded_share_and_reproducible(database: Database) -> None:
    refs = [f"cr_{i:03d}" for i in range(120)]
    for ref in refs:
        await _complaint(database, ref=ref, closed_at=START + timedelta(days=1))
    nps = _nps(sample_percent=30.0, batch_size=7)  # many batches
    await _run(database, nps)
    asked = sorted(e.customer_ref for e in await _requested(database))
    expected = [
        r for r in refs if chosen(seed="test-seed", period=PERIOD.key, customer_ref=r, percent=30)
    ]
    assert asked == expected
    assert 15 <= len(asked) <= 55
    async with database.sessions() as session:
        round_ = await session.get(NpsRound, PERIOD.key)
    assert round_ is not None
    assert (round_.customers_seen, round_.requests_created, round_.cursor) == (
        120,
        len(expected),
        "cr_119",
    )


async def test_a_batch_redone_after_a_crash_asks_nobody_twice(database: Database) -> None:
    for i in range(10):
        await _complaint(database, ref=f"cr_{i}", closed_at=START + timedelta(days=1))
    nps = _nps(batch_size=4)
    await rounds.open_round(database=database, period=PERIOD, trigger="schedule", nps=nps)
    assert await rounds.run_batch(database=database, nps=nps)
    # The process died after the commit but "before" remembering it: the cursor is lost.
    async with database.unit_of_work() as uow:
        await uow.session.execute(update(NpsRound).values(cursor=None, customers_seen=0))
    await rounds.drain(database=database, nps=nps)
    events = await _requested(database)
    assert sorted(e.customer_ref for e in events) == [f"cr_{i}" for i in range(10)]


async def test_an_opted_out_customer_is_never_asked_again(database: Database) -> None:
    complaint_id = await _complaint(database, ref="cr_out", closed_at=START + timedelta(days=1))
    await _complaint(database, ref="cr_in", closed_at=START + timedelta(days=1))
    async with database.unit_of_work() as uow:
        uow.session.add(NpsOptOut(customer_ref="cr_out", opted_out_at=START, request_id=None))
    await _run(database)
    assert [e.customer_ref for e in await _requested(database)] == ["cr_in"]
    assert complaint_id not in {e.complaint_id for e in await _requested(database)}


async def test_the_schedule_opens_the_round_of_the_period_that_ended(database: Database) -> None:
    nps = _nps(schedule=Fixed(60), round_delay_s=5)
    now = datetime(2026, 11, 23, 9, 31, 3, tzinfo=UTC)
    # 09:31:03 - 5 s is 09:30:58: the period 09:29-09:30 has ended, 09:30-09:31 not long enough.
    period = await rounds.open_scheduled_round(database=database, nps=nps, now=now)
    assert period is not None
    assert period.key == "2026-11-23T09:29:00Z/2026-11-23T09:30:00Z"
    assert await rounds.open_scheduled_round(database=database, nps=nps, now=now) == period
    later = await rounds.open_scheduled_round(
        database=database, nps=nps, now=now + timedelta(seconds=2)
    )
    assert later is not None
    assert later.key == "2026-11-23T09:30:00Z/2026-11-23T09:31:00Z"
    assert await _count(database, NpsRound) == 2
    off = await rounds.open_scheduled_round(database=database, nps=_nps(schedule=Off()), now=now)
    assert off is None


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (START, None, "both"),
        (START, START, "ends after"),
        (None, None, "NPS_SCHEDULE is off"),
    ],
)
async def test_an_operators_round_needs_a_sensible_period(
    database: Database, start: datetime | None, end: datetime | None, message: str
) -> None:
    from complaint_runtime.errors import InvalidInput

    with pytest.raises(InvalidInput, match=message):
        await rounds.open_requested_round(
            database=database, nps=_nps(schedule=Off()), start=start, end=end
        )


async def test_an_operators_round_of_a_scheduled_month_is_that_month(database: Database) -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    start, end = datetime(2026, 11, 1, tzinfo=shanghai), datetime(2026, 12, 1, tzinfo=shanghai)
    await _complaint(database, ref="cr_a", closed_at=start + timedelta(days=2))
    # The schedule ran the month already...
    month = period_containing(Monthly(), start, shanghai)
    await _run(database, period=month)
    assert [e.period for e in await _requested(database)] == ["2026-11"]
    # ...and an operator re-runs it (a month they think was missed): the same round.
    key = await rounds.open_requested_round(database=database, nps=NPS, start=start, end=end)
    assert key == "2026-11"
    await rounds.drain(database=database, nps=NPS)
    assert len(await _requested(database)) == 1
    assert await _count(database, NpsRound) == 1


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (START, START + timedelta(days=30)),  # UTC months are not Shanghai's
        (datetime(2026, 11, 3, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC)),
    ],
)
async def test_an_operators_window_cutting_a_scheduled_month_is_refused(
    database: Database, start: datetime, end: datetime
) -> None:
    from complaint_runtime.errors import Conflict

    with pytest.raises(Conflict, match="part of the scheduled period 2026-11"):
        await rounds.open_requested_round(database=database, nps=NPS, start=start, end=end)
    assert await _count(database, NpsRound) == 0


async def test_an_erased_complaints_customer_is_not_sampled_again(database: Database) -> None:
    complaint_id = await _complaint(database, ref="cr_x", closed_at=START + timedelta(days=1))
    kept = await _complaint(database, ref="cr_y", closed_at=START + timedelta(days=1))
    async with database.unit_of_work() as uow:
        await service.erase(uow=uow, complaint_id=complaint_id)
    async with database.sessions() as session:
        info = await session.get(ComplaintInfo, complaint_id)
    assert info is not None
    assert info.customer_ref is None
    await _run(database)
    assert [(e.customer_ref, e.complaint_id) for e in await _requested(database)] == [
        ("cr_y", kept)
    ]
    assert complaint_id not in {e.complaint_id for e in await _requested(database)}


async def test_erasure_forgets_nps_comments(database: Database) -> None:
    complaint_id = await _complaint(database, ref="cr_x", closed_at=START + timedelta(days=1))
    await _run(database)
    [event] = await _requested(database)
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(NpsRequest).values(comment="call me", answered_at=START, score=3)
        )
    async with database.unit_of_work() as uow:
        await service.erase(uow=uow, complaint_id=complaint_id)
    async with database.sessions() as session:
        [request] = list(await session.scalars(select(NpsRequest)))
    assert (request.comment, request.score, request.period) == (None, 3, PERIOD.key)
    # Neither its id (a uuid5 of period and customer) nor its reference leads to them.
    assert request.request_id != event.request_id
    assert request.customer_ref == f"erased:{request.request_id}"


def _erasure(complaint_id: str, ref: str, reason: str = "customer_request") -> ErasureRequested:
    return ErasureRequested(
        complaint_id=complaint_id,
        erasure_id="era-1",
        customer_ref=ref,
        reason=reason,  # type: ignore[arg-type]
        requested_at=START,
        actor="intake",
    )


async def test_a_round_erased_at_its_cursor_goes_on_with_the_next_customers(
    database: Database,
) -> None:
    refs = ["cr_a", "cr_b", "cr_c", "cr_d"]
    ids = {r: await _complaint(database, ref=r, closed_at=START + timedelta(days=1)) for r in refs}
    nps = _nps(batch_size=2)
    await rounds.open_round(database=database, period=PERIOD, trigger="operator", nps=nps)
    assert await rounds.run_batch(database=database, nps=nps)  # cr_a, cr_b: cursor at cr_b
    async with database.unit_of_work() as uow:
        await erasure.erase(uow=uow, erasure=_erasure(ids["cr_b"], "cr_b"))
    async with database.sessions() as session:
        round_ = await session.get(NpsRound, PERIOD.key)
    assert round_ is not None
    assert round_.cursor == "cr_a"  # no customer lies between: the same ones come next

    await rounds.drain(database=database, nps=nps)

    asked = sorted(e.customer_ref for e in await _requested(database))
    assert asked == refs  # each once (the events went before the erasure)
    async with database.sessions() as session:
        stored = sorted(await session.scalars(select(NpsRequest.customer_ref)))
        done = await session.get(NpsRound, PERIOD.key, populate_existing=True)
    assert [r for r in stored if not r.startswith("erased:")] == ["cr_a", "cr_c", "cr_d"]
    assert done is not None
    assert (done.status, done.cursor) == ("done", "cr_d")


async def test_only_the_customers_own_erasure_forgets_their_opt_out(database: Database) -> None:
    old = await _complaint(database, ref="cr_x", closed_at=START + timedelta(days=1))
    newer = await _complaint(database, ref="cr_x", closed_at=None)
    await _run(database)
    [event] = await _requested(database)
    claims = LinkClaims(event.request_id, old, datetime.now(UTC) + timedelta(days=1))
    assert await service.opt_out(database=database, claims=claims, now=START)

    async with database.unit_of_work() as uow:  # the old complaint's retention ran out
        await erasure.erase(uow=uow, erasure=_erasure(old, "cr_x", "retention_expired"))
    assert await _count(database, NpsOptOut) == 1  # still the customer's wish
    async with database.unit_of_work() as uow:  # the customer asks to be erased
        await erasure.erase(uow=uow, erasure=_erasure(newer, "cr_x"))
    assert await _count(database, NpsOptOut) == 0
