"""Feedback's use cases on SQLite with the runtime's unit of work and outbox."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts.envelope import decode
from complaint_contracts.events import (
    ComplaintClosed,
    ComplaintConfirmed,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintResolved,
    CustomerView,
    ErasureRequested,
)
from complaint_contracts.examples import example_for
from complaint_contracts.privacy import find_contacts
from complaint_runtime.database import Database, OutboxMessage
from complaint_runtime.problems import status_of
from feedback import erasure, service
from feedback.autoclose import AutoCloser
from feedback.db import ConfirmationRequest, Requests
from feedback.domain.answers import Confirmed, Reopened
from feedback.domain.closed_loop import ClosedLoopSettings
from feedback.domain.links import LinkClaims
from feedback.domain.refusals import (
    SurveyAnswered,
    SurveyClosed,
    SurveyExpired,
    SurveyNotFound,
)
from sqlalchemy import select

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LOOP_SETTINGS = ClosedLoopSettings(
    auto_close_s=7 * 86_400, reopen_csat_max=2, default_channel="email"
)


def new_complaint_id() -> str:
    return str(uuid.uuid4())


def received(complaint_id: str, **customer: Any) -> ComplaintReceived:
    base = example_for(ComplaintReceived)
    assert isinstance(base, ComplaintReceived)
    view = CustomerView(customer_ref="cr_test", **customer)
    return base.model_copy(update={"complaint_id": complaint_id, "customer": view})


def resolved(complaint_id: str) -> ComplaintResolved:
    base = example_for(ComplaintResolved)
    assert isinstance(base, ComplaintResolved)
    return base.model_copy(update={"complaint_id": complaint_id})


async def outbox(db: Database) -> list[dict[str, Any]]:
    """The staged events, decoded: type name, data, raw value."""
    async with db.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    events = []
    for row in rows:
        envelope = decode(row.key, row.value, [(n, v.encode()) for n, v in row.headers])
        events.append({"name": envelope.data.event_name, "data": envelope.data, "value": row.value})
    return events


def later(days: float) -> datetime:
    return T0 + timedelta(days=days)


async def _received(db: Database, complaint_id: str, **customer: object) -> None:
    async with db.unit_of_work() as uow:
        await service.remember_complaint(
            uow=uow,
            received=received(complaint_id, **customer),
            loop_settings=LOOP_SETTINGS,
            now=T0,
        )


async def _resolved(
    db: Database, complaint_id: str, event_id: str = "evt-1", at=T0
) -> ConfirmationRequest | None:
    async with db.unit_of_work() as uow:
        return await service.request_confirmation(
            uow=uow,
            resolved=resolved(complaint_id),
            resolved_event_id=f"{complaint_id}:{event_id}",
            loop_settings=LOOP_SETTINGS,
            now=at,
        )


async def _get(db: Database, request_id: str) -> ConfirmationRequest:
    async with db.sessions() as session:
        found = await Requests(session).get(request_id)
    assert found is not None
    return found


def _claims(request: ConfirmationRequest) -> LinkClaims:
    assert request.expires_at is not None
    return LinkClaims(request.request_id, request.complaint_id, request.expires_at)


async def _pending(db: Database, **customer: object) -> ConfirmationRequest:
    complaint_id = new_complaint_id()
    await _received(db, complaint_id, **customer)
    request = await _resolved(db, complaint_id)
    assert request is not None
    return await _get(db, request.request_id)


async def _answer(db: Database, request: ConfirmationRequest, **answer: object):
    values = {"solved": True, "csat": 5, "comment": None} | answer
    return await service.answer(
        database=db, claims=_claims(request), loop_settings=LOOP_SETTINGS, now=later(1), **values
    )


async def test_resolved_creates_a_request_and_its_event(database: Database) -> None:
    request = await _pending(database, language="en", preferred_channel="wechat")
    assert request.status == "pending"
    assert request.expires_at == T0 + timedelta(days=7)
    assert request.reference == received(request.complaint_id).reference
    [event] = await outbox(database)
    assert event["name"] == "complaint.confirmation_requested"
    data = event["data"]
    assert (data.request_id, data.channel, data.language) == (request.request_id, "wechat", "en")
    assert data.expires_at == request.expires_at
    assert not data.reminder


async def test_the_same_resolution_twice_makes_one_request(database: Database) -> None:
    complaint_id = new_complaint_id()
    await _received(database, complaint_id)
    assert await _resolved(database, complaint_id) is not None
    assert await _resolved(database, complaint_id) is None
    assert len(await outbox(database)) == 1


async def test_a_resolution_before_its_complaint_waits_for_it(database: Database) -> None:
    complaint_id = new_complaint_id()
    request = await _resolved(database, complaint_id)
    assert request is not None
    assert request.status == "waiting"
    assert await outbox(database) == []
    await _received(database, complaint_id, language="en", masked_phone="138****5678")
    [event] = await outbox(database)
    assert event["data"].language == "en"
    assert event["data"].channel == "web"
    assert (await _get(database, request.request_id)).status == "pending"


async def test_a_complaint_never_received_is_asked_with_defaults(database: Database) -> None:
    complaint_id = new_complaint_id()
    await _resolved(database, complaint_id)
    assert (
        await service.send_overdue_waiting(
            database=database, loop_settings=LOOP_SETTINGS, limit=10, now=T0
        )
        == 0
    )
    late = T0 + timedelta(seconds=LOOP_SETTINGS.contact_wait_s)
    assert (
        await service.send_overdue_waiting(
            database=database, loop_settings=LOOP_SETTINGS, limit=10, now=late
        )
        == 1
    )
    [event] = await outbox(database)
    assert (event["data"].channel, event["data"].language) == ("email", "zh-CN")


async def test_a_later_resolution_supersedes_the_earlier_request(database: Database) -> None:
    first = await _pending(database)
    second = await _resolved(database, first.complaint_id, event_id="evt-2", at=later(2))
    assert second is not None
    assert second.request_id != first.request_id
    assert (await _get(database, first.request_id)).status == "superseded"
    assert (await _get(database, second.request_id)).status == "pending"
    with pytest.raises(SurveyClosed) as refused:
        await _answer(database, first)
    assert status_of(refused.value) == 410
    assert await service.auto_close_due(database=database, limit=10, now=later(8)) == 0


async def test_confirmed_answer(database: Database) -> None:
    request = await _pending(database)
    comment = "Thanks! Call me on 13812345678 or mail zhang.wei@example.com"
    result = await _answer(database, request, csat=4, comment=comment)
    assert result.outcome == Confirmed()
    stored = await _get(database, request.request_id)
    assert (stored.status, stored.outcome, stored.csat, stored.solved) == (
        "answered",
        "confirmed",
        4,
        True,
    )
    assert stored.comment == comment  # the raw answer stays in feedback's database
    event = (await outbox(database))[-1]
    assert isinstance(event["data"], ComplaintConfirmed)
    assert event["data"].csat == 4
    assert event["data"].request_id == request.request_id
    assert "138****5678" in event["data"].comment
    assert "z***@example.com" in event["data"].comment
    assert find_contacts(event["value"].decode()) == []


@pytest.mark.parametrize(
    ("solved", "csat", "reason"), [(False, 5, "not_solved"), (True, 2, "low_csat")]
)
async def test_reopening_answers(database: Database, solved: bool, csat: int, reason: str) -> None:
    request = await _pending(database)
    result = await _answer(database, request, solved=solved, csat=csat)
    assert result.outcome == Reopened(reason)  # type: ignore[arg-type]
    event = (await outbox(database))[-1]
    assert isinstance(event["data"], ComplaintReopened)
    assert (event["data"].reason, event["data"].csat) == (reason, csat)


async def test_a_second_answer_is_a_conflict(database: Database) -> None:
    request = await _pending(database)
    await _answer(database, request)
    with pytest.raises(SurveyAnswered) as refused:
        await _answer(database, request, solved=False)
    assert status_of(refused.value) == 409
    assert [e["name"] for e in await outbox(database)].count("complaint.confirmed") == 1


async def test_concurrent_answers_only_one_wins(database: Database) -> None:
    request = await _pending(database)
    results = await asyncio.gather(
        *(_answer(database, request, csat=3 + i % 3) for i in range(6)), return_exceptions=True
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    assert len(wins) == 1
    assert all(
        isinstance(r, SurveyAnswered) and status_of(r) == 409 for r in results if r not in wins
    )
    names = [e["name"] for e in await outbox(database)]
    assert names.count("complaint.confirmed") == 1


async def test_unknown_or_mismatched_requests_are_not_found(database: Database) -> None:
    request = await _pending(database)
    for claims in (
        LinkClaims("no-such-request", request.complaint_id, later(7)),
        LinkClaims(request.request_id, new_complaint_id(), later(7)),
    ):
        with pytest.raises(SurveyNotFound) as refused:
            await service.answer(
                database=database,
                claims=claims,
                solved=True,
                csat=5,
                comment=None,
                loop_settings=LOOP_SETTINGS,
            )
        assert status_of(refused.value) == 404


async def test_expiry_auto_closes_exactly_once(database: Database) -> None:
    request = await _pending(database)
    assert await service.auto_close_due(database=database, limit=10, now=later(6.9)) == 0
    assert await service.auto_close_due(database=database, limit=10, now=later(7)) == 1
    assert await service.auto_close_due(database=database, limit=10, now=later(8)) == 0
    closed = [e for e in await outbox(database) if e["name"] == "complaint.auto_closed"]
    assert len(closed) == 1
    assert closed[0]["data"].expired_at == request.expires_at
    assert closed[0]["data"].requested_at == T0
    assert not [e for e in await outbox(database) if e["name"] == "complaint.confirmed"]
    with pytest.raises(SurveyExpired) as refused:
        await service.answer(
            database=database,
            claims=_claims(request),
            solved=True,
            csat=5,
            comment=None,
            loop_settings=LOOP_SETTINGS,
            now=later(6),  # even a request that "arrives late" cannot answer an expired one
        )
    assert status_of(refused.value) == 410


async def test_an_answer_after_the_deadline_is_gone_even_before_the_loop(
    database: Database,
) -> None:
    request = await _pending(database)
    with pytest.raises(SurveyExpired) as refused:
        await service.answer(
            database=database,
            claims=_claims(request),
            solved=True,
            csat=5,
            comment=None,
            loop_settings=LOOP_SETTINGS,
            now=later(7),
        )
    assert status_of(refused.value) == 410


async def test_the_loop_run_twice_closes_once(database: Database) -> None:
    fast = ClosedLoopSettings(auto_close_s=0.001, reopen_csat_max=2, default_channel="email")
    complaint_ids = [new_complaint_id() for _ in range(5)]
    for complaint_id in complaint_ids:
        await _received(database, complaint_id)
        async with database.unit_of_work() as uow:
            await service.request_confirmation(
                uow=uow,
                resolved=resolved(complaint_id),
                resolved_event_id=complaint_id,
                loop_settings=fast,
            )
    await asyncio.sleep(0.01)
    closers = [
        AutoCloser(database=database, loop_settings=fast, tick_s=0.01, batch_size=2)
        for _ in range(2)
    ]
    counts = await asyncio.gather(*(c.run_once() for c in closers))
    assert sum(counts) == 5
    assert sum(await asyncio.gather(*(c.run_once() for c in closers))) == 0
    closed = [
        e["data"].complaint_id
        for e in await outbox(database)
        if e["name"] == "complaint.auto_closed"
    ]
    assert sorted(closed) == sorted(complaint_ids)


async def test_the_running_loop_closes_what_falls_due(database: Database) -> None:
    fast = ClosedLoopSettings(auto_close_s=0.001, reopen_csat_max=2, default_channel="email")
    complaint_id = new_complaint_id()
    await _received(database, complaint_id)
    async with database.unit_of_work() as uow:
        await service.request_confirmation(
            uow=uow,
            resolved=resolved(complaint_id),
            resolved_event_id=complaint_id,
            loop_settings=fast,
        )
    closer = AutoCloser(database=database, loop_settings=fast, tick_s=0.01, batch_size=10)
    task = asyncio.create_task(closer.run())
    try:
        for _ in range(200):
            names = [e["name"] for e in await outbox(database)]
            if "complaint.auto_closed" in names:
                break
            await asyncio.sleep(0.01)
    finally:
        closer.stop()
        await asyncio.wait_for(task, timeout=2)
    assert names.count("complaint.auto_closed") == 1


async def test_the_loop_stops(database: Database) -> None:
    closer = AutoCloser(database=database, loop_settings=LOOP_SETTINGS, tick_s=10, batch_size=10)
    task = asyncio.create_task(closer.run())
    await asyncio.sleep(0.05)
    closer.stop()
    await asyncio.wait_for(task, timeout=2)


async def test_closed_otherwise_cancels_the_request(database: Database) -> None:
    request = await _pending(database)
    async with database.unit_of_work() as uow:
        await service.cancel_on_close(
            uow=uow,
            closed=ComplaintClosed(
                complaint_id=request.complaint_id,
                reason="withdrawn",
                actor="agent-1",
                closed_at=later(1),
            ),
        )
    assert (await _get(database, request.request_id)).status == "cancelled"
    assert await service.auto_close_due(database=database, limit=10, now=later(8)) == 0


async def test_erasure_forgets_the_comment(database: Database) -> None:
    request = await _pending(database)
    await _answer(database, request, comment="my name is Zhang Wei")
    async with database.unit_of_work() as uow:
        await erasure.erase(
            uow=uow,
            erasure=ErasureRequested(
                complaint_id=request.complaint_id,
                erasure_id="era-1",
                customer_ref="cr_test",
                reason="customer_request",
                requested_at=T0,
                actor="intake",
            ),
        )
    assert (await _get(database, request.request_id)).comment is None


async def test_waiting_requests_are_found_by_complaint(database: Database) -> None:
    complaint_id = new_complaint_id()
    await _resolved(database, complaint_id)
    async with database.sessions() as session:
        found = await Requests(session).waiting(complaint_id=complaint_id, limit=10)
    assert len(found) == 1
