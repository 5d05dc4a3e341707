"""Erasure (§10) on the suite's PostgreSQL: a customer's complaint through everything
feedback records (its addressing, two confirmation requests, an answer with a comment that
reopened it, an unreachable customer, a customer message, the closure, an NPS round that
asked the customer, their answer with a comment, their opt-out), then intake's
``complaint.erasure_requested``: no table of feedback's schema holds anything of the
customer any more, answers, scores and times stay, and the erasure is confirmed with
``feedback.erasure_completed`` in its transaction, once per erasure id."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import (
    ComplaintClosed,
    ComplaintConfirmationRequested,
    ComplaintReceived,
    ComplaintResolved,
    CustomerMessageReceived,
    CustomerView,
    ErasureRequested,
    FeedbackErasureCompleted,
    NotificationFailed,
)
from complaint_contracts.examples import example_for
from complaint_runtime.database import Database, OutboxMessage
from feedback import messaging
from feedback import service as surveys
from feedback.bootstrap import build_dependencies
from feedback.config import FeedbackSettings
from feedback.db import ConfirmationRequest
from feedback.domain.links import LinkClaims
from feedback.main import MIGRATIONS
from feedback.nps import rounds
from feedback.nps import service as nps
from feedback.nps.db import NpsRequest
from sqlalchemy import delete, select

from .nps.test_feedback_nps_rounds import NPS, PERIOD, START

NewDatabase = Callable[[Path], Awaitable[Database]]
Leftovers = Callable[[Database, list[str]], Awaitable[list[str]]]
Feed = Callable[[EventData], Awaitable[str]]

PHONE, EMAIL, REF = "138****5678", "z***@example.com", "cr_erasure_customer_0001"
MARKERS = [PHONE, EMAIL, REF, "EXT-ERASE-0001", "MkSurveyComment", "MkNpsComment"]


def _envelope(data: EventData) -> Envelope:
    event_id = str(uuid.uuid4())
    return Envelope(
        id=event_id,
        type=data.ce_type(),
        source="test",
        subject=data.complaint_id,  # type: ignore[attr-defined]
        time=datetime.now(UTC),
        data=data,
        correlation_id=event_id,
        causation_id=None,
    )


def _example(kind: type[EventData], **values: Any) -> Any:
    base = example_for(kind)
    assert isinstance(base, kind)
    return base.model_copy(update=values)


def _erasure(complaint_id: str, erasure_id: str = "era-1") -> ErasureRequested:
    return ErasureRequested(
        complaint_id=complaint_id,
        erasure_id=erasure_id,
        customer_ref=REF,
        reason="customer_request",
        requested_at=datetime.now(UTC),
        actor="intake",
    )


async def _feeder(database: Database) -> Feed:
    handlers = messaging.handlers(build_dependencies(FeedbackSettings(), database))

    async def feed(data: EventData) -> str:
        envelope = _envelope(data)
        async with database.unit_of_work() as uow:
            await handlers[type(data)](uow, envelope)
        return envelope.id

    return feed


async def _outbox(database: Database) -> list[Any]:
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    return [decode(r.key, r.value, [(k, v.encode()) for k, v in r.headers]).data for r in rows]


async def _published(database: Database) -> None:
    """The relay's part: the outbox rows went to Kafka and were deleted."""
    async with database.unit_of_work() as uow:
        await uow.session.execute(delete(OutboxMessage))


async def _survey_answered_and_closed(database: Database, feed: Feed) -> str:
    cid = str(uuid.uuid4())
    customer = CustomerView(
        customer_ref=REF, external_ref="EXT-ERASE-0001", masked_phone=PHONE, masked_email=EMAIL
    )
    await feed(_example(ComplaintReceived, complaint_id=cid, customer=customer))
    await feed(_example(ComplaintResolved, complaint_id=cid))
    [first] = [e for e in await _outbox(database) if isinstance(e, ComplaintConfirmationRequested)]
    await surveys.answer(
        database=database,
        claims=LinkClaims(first.request_id, cid, first.expires_at),
        solved=False,
        csat=1,
        comment=f"MkSurveyComment, call {PHONE}",
        loop_settings=build_dependencies(FeedbackSettings(), database).loop_settings,
    )
    await feed(_example(ComplaintResolved, complaint_id=cid))
    second = [e for e in await _outbox(database) if isinstance(e, ComplaintConfirmationRequested)]
    await feed(
        _example(
            NotificationFailed,
            complaint_id=cid,
            template="survey_invitation",
            recipient=EMAIL,
            cause_event_type=ComplaintConfirmationRequested.ce_type(),
            error=f"no channel reaches {EMAIL}",
            reason="no_channel",
            final=True,
            next_attempt_at=None,
        )
    )
    assert len(second) == 2
    message = _example(CustomerMessageReceived, complaint_id=cid, customer_ref=REF)
    await feed(message.model_copy(update={"received_at": START + timedelta(days=1)}))
    await feed(
        ComplaintClosed(
            complaint_id=cid,
            reason="auto_closed",
            evidence_event_id=str(uuid.uuid4()),
            actor="routing",
            closed_at=START + timedelta(days=2),
        )
    )
    return cid


async def _asked_and_answered_nps(database: Database, complaint_id: str) -> None:
    await rounds.open_round(database=database, period=PERIOD, trigger="operator", nps=NPS)
    await rounds.drain(database=database, nps=NPS)
    async with database.sessions() as session:
        [request] = list(await session.scalars(select(NpsRequest)))
    claims = LinkClaims(request.request_id, complaint_id, datetime.now(UTC) + timedelta(days=1))
    now = request.requested_at + timedelta(hours=1)
    await nps.answer(
        database=database, claims=claims, score=3, comment=f"MkNpsComment {EMAIL}", now=now
    )
    assert await nps.opt_out(database=database, claims=claims, now=now)


async def test_an_erased_customer_leaves_nothing_in_feedback(
    postgres_database: NewDatabase, leftovers: Leftovers
) -> None:
    database = await postgres_database(MIGRATIONS)
    feed = await _feeder(database)
    complaint_id = await _survey_answered_and_closed(database, feed)
    await _asked_and_answered_nps(database, complaint_id)
    assert len(await leftovers(database, MARKERS)) >= 4  # the flow stored them
    await _published(database)

    await feed(_erasure(complaint_id))

    assert await leftovers(database, MARKERS) == []
    [confirmed] = await _outbox(database)
    assert confirmed == FeedbackErasureCompleted(
        complaint_id=complaint_id, erasure_id="era-1", erased_at=confirmed.erased_at
    )
    async with database.sessions() as session:  # the answers stay, without their words
        answers = list(await session.scalars(select(ConfirmationRequest.csat)))
        scores = list(await session.scalars(select(NpsRequest.score)))
    assert (sorted(a for a in answers if a is not None), scores) == ([1], [3])


async def test_each_erasure_request_is_confirmed_also_for_an_erased_or_unknown_complaint(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    feed = await _feeder(database)
    erased, unknown = str(uuid.uuid4()), str(uuid.uuid4())
    customer = CustomerView(customer_ref=REF)
    await feed(_example(ComplaintReceived, complaint_id=erased, customer=customer))
    for complaint_id, erasure_id in ((erased, "era-1"), (erased, "era-2"), (unknown, "era-3")):
        await feed(_erasure(complaint_id, erasure_id))

    confirmed = await _outbox(database)
    assert [(c.complaint_id, c.erasure_id, c.actor) for c in confirmed] == [
        (erased, "era-1", "feedback"),
        (erased, "era-2", "feedback"),
        (unknown, "era-3", "feedback"),
    ]
