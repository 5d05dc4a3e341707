"""Confirmation requests on the suite's real PostgreSQL, where transactions run side by side
(SQLite's single writer hides every race): the auto-close claims due requests with
``FOR UPDATE SKIP LOCKED``, and an answer is a conditional UPDATE that only one of two
concurrent answers wins."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from complaint_contracts.envelope import decode
from complaint_contracts.events import ComplaintReceived, ComplaintResolved, CustomerView
from complaint_contracts.examples import example_for
from complaint_runtime.database import Database, OutboxMessage
from feedback import service
from feedback.db import ConfirmationRequest, Requests
from feedback.domain.closed_loop import ClosedLoopSettings
from feedback.domain.links import LinkClaims
from feedback.domain.refusals import SurveyAnswered
from feedback.main import MIGRATIONS
from sqlalchemy import select

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LATER = T0 + timedelta(days=8)  # past every request's deadline
LOOP_SETTINGS = ClosedLoopSettings(
    auto_close_s=7 * 86_400, reopen_csat_max=2, default_channel="email"
)
WAIT_S = 0.3  # long enough for a statement that does not block to have finished


async def _pending_requests(database: Database, count: int) -> list[ConfirmationRequest]:
    made = []
    for n in range(count):
        complaint_id = f"0195f3c2-7a10-7c4e-9b2d-{n:012d}"
        received = example_for(ComplaintReceived).model_copy(
            update={"complaint_id": complaint_id, "customer": CustomerView(customer_ref="cr_1")}
        )
        resolved = example_for(ComplaintResolved).model_copy(update={"complaint_id": complaint_id})
        async with database.unit_of_work() as uow:
            await service.remember_complaint(
                uow=uow, received=received, loop_settings=LOOP_SETTINGS, now=T0
            )
            request = await service.request_confirmation(
                uow=uow,
                resolved=resolved,
                resolved_event_id=f"resolved-{n}",
                loop_settings=LOOP_SETTINGS,
                now=T0 + timedelta(seconds=n),
            )
        assert request is not None
        made.append(request)
    return made


async def _claim_and_hold(
    database: Database,
    claim: Callable[[Requests], Awaitable[Sequence[ConfirmationRequest]]],
    claimed: asyncio.Future[set[str]],
    release: asyncio.Event,
) -> None:
    """Claim rows in a transaction that stays open (holding their locks) until released."""
    async with database.unit_of_work() as uow:
        rows = await claim(Requests(uow.session))
        claimed.set_result({row.request_id for row in rows})
        await release.wait()


async def _auto_closed(database: Database) -> list[str]:
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    events = [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]).data for r in rows]
    return [e.request_id for e in events if e.event_name == "complaint.auto_closed"]  # type: ignore[attr-defined]


async def test_a_second_claim_of_due_requests_skips_those_claimed(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    requests = await _pending_requests(database, 6)
    claimed: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()
    holder = asyncio.create_task(
        _claim_and_hold(database, lambda r: r.due(now=LATER, limit=3), claimed, release)
    )
    try:
        first = await asyncio.wait_for(claimed, timeout=10)
        async with database.unit_of_work() as uow:
            # FOR UPDATE without SKIP LOCKED would wait here for the holder: a timeout.
            rows = await asyncio.wait_for(Requests(uow.session).due(now=LATER, limit=6), 5)
        second = {row.request_id for row in rows}
    finally:
        release.set()
        await asyncio.wait_for(holder, timeout=10)
    assert len(first) == 3
    assert first.isdisjoint(second)
    assert first | second == {r.request_id for r in requests}


async def test_a_second_claim_of_waiting_requests_skips_those_claimed(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    for n in range(4):  # resolutions whose complaint.received never came
        async with database.unit_of_work() as uow:
            resolved = example_for(ComplaintResolved).model_copy(
                update={"complaint_id": f"0195f3c2-7a10-7c4e-9b2d-{n:012d}"}
            )
            await service.request_confirmation(
                uow=uow,
                resolved=resolved,
                resolved_event_id=f"r-{n}",
                loop_settings=LOOP_SETTINGS,
                now=T0,
            )
    claimed: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()
    holder = asyncio.create_task(
        _claim_and_hold(
            database, lambda r: r.waiting(created_before=LATER, limit=2), claimed, release
        )
    )
    try:
        first = await asyncio.wait_for(claimed, timeout=10)
        async with database.unit_of_work() as uow:
            rows = await asyncio.wait_for(
                Requests(uow.session).waiting(created_before=LATER, limit=4), 5
            )
        second = {row.request_id for row in rows}
    finally:
        release.set()
        await asyncio.wait_for(holder, timeout=10)
    assert len(first) == 2
    assert len(second) == 2
    assert first.isdisjoint(second)


async def test_two_auto_close_rounds_at_once_take_disjoint_requests(
    postgres_database: NewPostgresDatabase,
) -> None:
    """One round holds half the due requests; another, meanwhile, closes the rest without
    waiting; each request is auto-closed once."""
    database = await postgres_database(MIGRATIONS)
    requests = await _pending_requests(database, 6)
    claimed: asyncio.Future[set[str]] = asyncio.get_running_loop().create_future()
    release = asyncio.Event()
    holder = asyncio.create_task(
        _claim_and_hold(database, lambda r: r.due(now=LATER, limit=3), claimed, release)
    )
    try:
        held = await asyncio.wait_for(claimed, timeout=10)
        other_round = service.auto_close_due(database=database, limit=6, now=LATER)
        assert await asyncio.wait_for(other_round, timeout=5) == 3
        assert set(await _auto_closed(database)).isdisjoint(held)
    finally:
        release.set()
        await asyncio.wait_for(holder, timeout=10)
    assert await service.auto_close_due(database=database, limit=6, now=LATER) == 3
    closed = await _auto_closed(database)
    assert sorted(closed) == sorted(r.request_id for r in requests)


def _claims(request: ConfirmationRequest) -> LinkClaims:
    assert request.expires_at is not None
    return LinkClaims(request.request_id, request.complaint_id, request.expires_at)


async def _answer_and_hold(
    database: Database,
    request: ConfirmationRequest,
    answered: asyncio.Future[bool],
    commit: asyncio.Future[bool],
) -> None:
    """The winning answer's UPDATE, in a transaction left open until told to commit (True)
    or roll back (False)."""

    class RolledBack(Exception):
        pass

    try:
        async with database.unit_of_work() as uow:
            answered.set_result(
                await Requests(uow.session).record_answer(
                    request_id=request.request_id,
                    complaint_id=request.complaint_id,
                    now=T0 + timedelta(days=1),
                    solved=True,
                    csat=5,
                    comment=None,
                    outcome="confirmed",
                    reopen_reason=None,
                )
            )
            if not await commit:
                raise RolledBack
    except RolledBack:
        pass


@pytest.mark.parametrize("first_commits", [True, False])
async def test_of_two_answers_at_once_exactly_one_wins(
    postgres_database: NewPostgresDatabase, first_commits: bool
) -> None:
    """The second answer waits on the first's row; it is then refused if the first
    committed (the condition is checked again on the new row), and wins if it rolled
    back."""
    database = await postgres_database(MIGRATIONS)
    [request] = await _pending_requests(database, 1)
    answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    commit: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
    holder = asyncio.create_task(_answer_and_hold(database, request, answered, commit))
    assert await asyncio.wait_for(answered, timeout=10)
    second = asyncio.create_task(
        service.answer(
            database=database,
            claims=_claims(request),
            solved=False,
            csat=1,
            comment=None,
            loop_settings=LOOP_SETTINGS,
            now=T0 + timedelta(days=1),
        )
    )
    await asyncio.sleep(WAIT_S)
    assert not second.done(), "the second answer did not wait for the first"
    commit.set_result(first_commits)
    await asyncio.wait_for(holder, timeout=10)
    if first_commits:
        with pytest.raises(SurveyAnswered):
            await asyncio.wait_for(second, timeout=10)
    else:
        result = await asyncio.wait_for(second, timeout=10)
        assert result.outcome.name == "reopened"
    async with database.sessions() as session:
        stored = await Requests(session).get(request.request_id)
    assert stored is not None
    assert (stored.status, stored.outcome) == (
        "answered",
        "confirmed" if first_commits else "reopened",
    )


async def test_concurrent_answers_through_the_use_case_one_wins(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    [request] = await _pending_requests(database, 1)
    results = await asyncio.wait_for(
        asyncio.gather(
            *(
                service.answer(
                    database=database,
                    claims=_claims(request),
                    solved=True,
                    csat=3 + n % 3,
                    comment=None,
                    loop_settings=LOOP_SETTINGS,
                    now=T0 + timedelta(days=1),
                )
                for n in range(6)
            ),
            return_exceptions=True,
        ),
        timeout=30,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    assert len(wins) == 1
    assert all(isinstance(r, SurveyAnswered) for r in results if r not in wins)
