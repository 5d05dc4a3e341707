"""Erasure (§10) on the suite's PostgreSQL: a complaint's messages through notify (the
acknowledgement, the agent's answers and question, the survey invitation, staff notices)
sent over a real SMTP server, one refused for good and one to be retried with the address
in the server's answer, one being prepared, then intake's ``complaint.erasure_requested``:
no table of notify's schema holds anything of the customer any more (masked address, texts,
errors naming the address, hashed recipient keys), nothing more goes to the customer, the
staff's deliveries and every status and time stay, and the erasure is confirmed with
``notification.erasure_completed`` in its transaction, once per erasure id."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintConfirmationRequested,
    ComplaintFirstResponseSent,
    ComplaintReceived,
    ComplaintResolved,
    ErasureRequested,
    NotificationErasureCompleted,
    SlaWarning,
)
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.database import Database, OutboxMessage, utcnow
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.testing import envelope_of, record_of
from notify import messaging
from notify.bootstrap import Dependencies
from notify.deliveries import service
from notify.deliveries.db import Delivery, DeliveryRepository
from notify.deliveries.domain.delivery_log import MAX_LIST
from notify.main import MIGRATIONS
from sqlalchemy import delete, insert, select

from .test_notify_delivery_loop import CUSTOMER_EMAIL, FakeServices, Harness, SmtpSink, free_port

NewDatabase = Callable[[Path], Awaitable[Database]]
Leftovers = Callable[[Database, list[str]], Awaitable[list[str]]]

PHONE, EMAIL, REF = "138****5678", "z***@example.com", "cr_9f2c4e1a7b3d"
MARKERS = [
    PHONE,
    EMAIL,
    REF,
    CUSTOMER_EMAIL,
    "张伟",
    "track.example.com/c/abc",
    "MkSubject",
    "MkFirstResponse",
    "MkQuestion",
    "MkReply",
]


@pytest.fixture
def services(identity: DevIdentity) -> FakeServices:
    return FakeServices(identity)


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def _example(kind: type[EventData], **values: Any) -> Any:
    return example_for(kind).model_copy(update=values)


def _erasure(erasure_id: str = "era-1", complaint_id: str = COMPLAINT_ID) -> ErasureRequested:
    return ErasureRequested(
        complaint_id=complaint_id,
        erasure_id=erasure_id,
        customer_ref=REF,
        reason="customer_request",
        requested_at=datetime.now(UTC),
        actor="intake",
    )


async def _erase(deps: Dependencies, database: Database, erasure: ErasureRequested) -> None:
    handlers = messaging.handlers(deps)
    async with database.unit_of_work() as uow:
        await handlers[ErasureRequested](uow, envelope_of(record_of(erasure, topics.INTAKE)))


async def _published(database: Database) -> None:
    """The relay's part: the outbox rows went to Kafka and were deleted."""
    async with database.unit_of_work() as uow:
        await uow.session.execute(delete(OutboxMessage))


async def _messages_sent_refused_retried_and_preparing(harness: Harness) -> Delivery:
    """The complaint's messages in every state a delivery can be in when the erasure
    comes; the one being prepared (claimed by a delivery loop, not sent yet)."""
    # What notify recorded of the complaint from its events: the staff notices' facts.
    await harness.facts(team="billing", reference="C-20261123-000042", assignee="agent-li")
    for data, topic in [
        (_example(ComplaintReceived, subject="退款迟迟未到账 MkSubject"), topics.INTAKE),
        (_example(ComplaintAssigned, assignee="agent-li"), topics.ROUTING),
        (_example(ComplaintFirstResponseSent, message=f"MkFirstResponse {PHONE}"), topics.ROUTING),
        (_example(ComplaintAwaitingCustomer, reason="MkQuestion"), topics.ROUTING),
        (example_for(SlaWarning), topics.SLA),
    ]:
        await harness.record(data, topic)
    assert await harness.loop().run_once() == 5
    harness.sink.rcpt_reply = f"550 5.1.1 <{CUSTOMER_EMAIL}>: mailbox unavailable"
    await harness.record(_example(ComplaintAgentReplied, message="MkReply"), topics.ROUTING)
    refusing = harness.loop()
    assert await refusing.run_once() == 1  # refused by e-mail: the next channel is looked for
    [refused] = [r for r in await harness.rows() if r.status == "pending"]
    assert (refused.template, refused.failed_channels) == ("agent_reply", ["email"])
    assert EMAIL in (refused.last_error or "")  # the server's answer, the address masked
    assert await refusing.run_once() == 1  # none left (no SMS here): failed for good
    harness.sink.rcpt_reply = f"451 4.2.0 <{CUSTOMER_EMAIL}>: try again later"
    await harness.record(example_for(ComplaintResolved), topics.ROUTING)
    # Retried in (full jitter) up to a million seconds: not due again during this test.
    await harness.loop(
        notify_retry_backoff_s=1e6, notify_retry_backoff_max_s=1e6, notify_retry_window_s=1e7
    ).run_once()
    await harness.record(example_for(ComplaintConfirmationRequested), topics.FEEDBACK)
    claimed = await service.claim_due(
        database=harness.database, now=utcnow(), limit=10, claimer="other-replica"
    )
    [preparing] = claimed  # the invitation; the retried resolution is not due yet
    statuses = sorted((row.template, row.status) for row in await harness.rows())
    assert statuses == [
        ("acknowledgement", "sent"),
        ("agent_question", "sent"),
        ("agent_reply", "failed"),
        ("agent_reply", "sent"),
        ("assignment", "sent"),
        ("resolution", "pending"),
        ("sla_warning", "sent"),
        ("survey_invitation", "preparing"),
    ]
    return preparing


async def test_an_erased_customer_leaves_nothing_in_notify(
    postgres_database: NewDatabase,
    leftovers: Leftovers,
    build_deps: Callable[..., Dependencies],
    services: FakeServices,
    smtp: tuple[SmtpSink, int],
) -> None:
    database = await postgres_database(MIGRATIONS)
    harness = Harness(database, services, *smtp)
    preparing = await _messages_sent_refused_retried_and_preparing(harness)
    assert len(await leftovers(database, MARKERS)) >= 4  # the flow stored them
    await _published(database)
    sent_before = len(harness.sink.messages)

    await _erase(build_deps(), database, _erasure())

    assert await leftovers(database, MARKERS) == []
    confirmed = [e.data for _, e in await harness.events()]
    assert isinstance(confirmed[-1], NotificationErasureCompleted)
    assert (confirmed[-1].complaint_id, confirmed[-1].erasure_id) == (COMPLAINT_ID, "era-1")
    # The one being prepared elsewhere is not sent any more; nothing else goes either.
    assert not await service.start_transmitting(
        database=database, delivery_id=preparing.delivery_id, claimer="other-replica", now=utcnow()
    )
    harness.sink.rcpt_reply = None
    await harness.loop().run_once()
    assert len(harness.sink.messages) == sent_before
    rows = await harness.rows()
    staff = [r for r in rows if r.recipient_role != "customer"]
    assert {r.status for r in staff} == {"sent"}
    assert all(r.recipient_masked for r in staff)  # staff's deliveries keep their recipient
    customer = sorted((r.template, r.status) for r in rows if r.recipient_role == "customer")
    assert customer == [
        ("acknowledgement", "sent"),
        ("agent_question", "sent"),
        ("agent_reply", "failed"),
        ("agent_reply", "sent"),
        ("resolution", "skipped"),
        ("survey_invitation", "skipped"),
    ]


async def test_each_erasure_request_is_confirmed_also_for_an_erased_or_unknown_complaint(
    postgres_database: NewDatabase,
    build_deps: Callable[..., Dependencies],
    services: FakeServices,
    smtp: tuple[SmtpSink, int],
) -> None:
    database = await postgres_database(MIGRATIONS)
    harness = Harness(database, services, *smtp)
    await harness.record(example_for(ComplaintReceived), topics.INTAKE)
    unknown = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c41"
    for erasure in (_erasure("era-1"), _erasure("era-2"), _erasure("era-3", unknown)):
        await _erase(build_deps(), database, erasure)
    await harness.loop().run_once()

    confirmed = [
        (e.data.complaint_id, e.data.erasure_id, e.data.actor)
        for _, e in await harness.events()
        if isinstance(e.data, NotificationErasureCompleted)
    ]
    assert confirmed == [
        (COMPLAINT_ID, "era-1", "notify"),
        (COMPLAINT_ID, "era-2", "notify"),
        (unknown, "era-3", "notify"),
    ]
    assert harness.sink.messages == []  # the acknowledgement was dropped, not sent


async def test_a_message_being_sent_at_the_erasure_is_uncertain_and_never_named(
    postgres_database: NewDatabase,
    build_deps: Callable[..., Dependencies],
    leftovers: Leftovers,
) -> None:
    database = await postgres_database(MIGRATIONS)
    async with database.unit_of_work() as uow:
        await service.record_deliveries(
            uow=uow,
            envelope=envelope_of(record_of(example_for(ComplaintReceived), topics.INTAKE)),
            now=utcnow(),
        )
    [row] = await service.claim_due(database=database, now=utcnow(), limit=1, claimer="loop")
    assert await service.start_transmitting(
        database=database, delivery_id=row.delivery_id, claimer="loop", now=utcnow()
    )

    await _erase(build_deps(), database, _erasure())
    async with database.unit_of_work() as uow:  # the SMTP session ends: sent
        finished = await DeliveryRepository(uow.session).finish(
            delivery_id=row.delivery_id,
            claimer="loop",
            now=utcnow(),
            values={"status": "sent", "recipient_masked": EMAIL, "recipient_key": "k"},
        )

    assert finished is None  # the outcome is not written over the erasure
    async with database.sessions() as session:
        stored = await session.get(Delivery, row.delivery_id)
    assert stored is not None
    assert (stored.status, stored.recipient_masked) == ("uncertain", "erased")
    assert await leftovers(database, MARKERS) == []


async def test_every_delivery_of_the_complaint_is_erased_however_many(
    postgres_database: NewDatabase, build_deps: Callable[..., Dependencies]
) -> None:
    database = await postgres_database(MIGRATIONS)
    now = utcnow()
    rows = [
        {
            "delivery_id": str(uuid.uuid4()),
            "complaint_id": COMPLAINT_ID,
            "event_id": str(uuid.uuid4()),
            "event_type": ComplaintAgentReplied.ce_type(),
            "template": "agent_reply",
            "recipient_role": "customer",
            "recipient_masked": EMAIL,
            "context": {"message": "MkReply"},
            "status": "sent",
            "attempts": 1,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        for _ in range(MAX_LIST + 1)  # more than one listing of the log shows
    ]
    async with database.unit_of_work() as uow:
        await uow.session.execute(insert(Delivery), rows)

    await _erase(build_deps(), database, _erasure())

    async with database.sessions() as session:
        masked = await session.scalars(select(Delivery.recipient_masked).distinct())
    assert list(masked) == ["erased"]
