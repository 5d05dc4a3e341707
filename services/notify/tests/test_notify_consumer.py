"""The consumer side of notify: events become pending deliveries, once per message."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
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
    ComplaintTriaged,
    ErasureRequested,
    SlaBreached,
    SlaWarning,
)
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.consumer import EventConsumer, Handler
from complaint_runtime.database import Database, OutboxMessage
from complaint_runtime.migrations import upgrade_to_head
from complaint_runtime.testing import FakeProducer, envelope_of, record_of
from notify import messaging
from notify.bootstrap import Dependencies
from notify.deliveries.db import Delivery
from notify.main import MIGRATIONS
from sqlalchemy import func, select


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path}/notify.db"
    await upgrade_to_head(MIGRATIONS, url)  # the real migration, not create_all
    db = Database(url)
    yield db
    await db.dispose()


@pytest.fixture
def handlers(build_deps: Callable[..., Dependencies]) -> dict[type[EventData], Handler]:
    """The table main.py gives the consumer (no staff directory configured)."""
    return messaging.handlers(build_deps())


@pytest.fixture
def consumer(database: Database, handlers: dict[type[EventData], Handler]) -> EventConsumer:
    return EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",  # run() is never called: batches are fed directly
        group_id="notify",
        topics=[t.name for t in messaging.CONSUMED],
        handlers=handlers,
        dead_letter_topic="complaints.dlq.notify.v1",
        producer=FakeProducer(),  # type: ignore[arg-type]
    )


async def _deliveries(database: Database) -> list[Delivery]:
    async with database.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.created_at)))


async def _outbox_count(database: Database) -> int:
    async with database.sessions() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def _assigned() -> EventData:
    data = example_for(ComplaintAssigned)
    return data.model_copy(update={"assignee": "agent-li"})


NOTIFYING = [
    (example_for(ComplaintReceived), topics.INTAKE, "acknowledgement", "customer"),
    (_assigned(), topics.ROUTING, "assignment", "agent"),
    (example_for(ComplaintFirstResponseSent), topics.ROUTING, "agent_reply", "customer"),
    (example_for(ComplaintAgentReplied), topics.ROUTING, "agent_reply", "customer"),
    (example_for(ComplaintAwaitingCustomer), topics.ROUTING, "agent_question", "customer"),
    (example_for(ComplaintResolved), topics.ROUTING, "resolution", "customer"),
    (example_for(SlaWarning), topics.SLA, "sla_warning", "team_lead"),
    (example_for(SlaBreached), topics.SLA, "sla_breach", "team_lead"),
    (
        example_for(ComplaintConfirmationRequested),
        topics.FEEDBACK,
        "survey_invitation",
        "customer",
    ),
]


async def test_every_notifying_event_records_one_pending_delivery(
    consumer: EventConsumer, database: Database
) -> None:
    records = [record_of(data, topic) for data, topic, _, _ in NOTIFYING]
    records.append(record_of(example_for(ComplaintTriaged), topics.ROUTING))
    await consumer._process_batch(records)  # type: ignore[arg-type]
    rows = await _deliveries(database)
    assert sorted((r.template, r.recipient_role) for r in rows) == sorted(
        (template, role) for _, _, template, role in NOTIFYING
    )
    for row in rows:
        assert row.status == "pending"
        assert row.attempts == 0
        assert row.complaint_id == COMPLAINT_ID
        assert row.recipient_masked is None  # no address is known, let alone stored, yet
    assert await _outbox_count(database) == 0  # nothing is reported before a send


async def test_a_redelivered_event_adds_nothing(
    consumer: EventConsumer, database: Database
) -> None:
    record = record_of(example_for(ComplaintReceived), topics.INTAKE)
    await consumer._process_batch([record])  # type: ignore[arg-type]
    await consumer._process_batch([record])  # type: ignore[arg-type]
    assert len(await _deliveries(database)) == 1


async def test_the_handler_called_twice_for_one_event_records_one_delivery(
    database: Database, handlers: dict[type[EventData], Handler]
) -> None:
    # Bypasses processed_events: the unique (event, template, role) is the second guard.
    envelope = envelope_of(record_of(example_for(SlaBreached), topics.SLA))
    for _ in range(2):
        async with database.unit_of_work() as uow:
            await handlers[SlaBreached](uow, envelope)
    [row] = await _deliveries(database)
    assert (row.event_id, row.template, row.recipient_role) == (
        envelope.id,
        "sla_breach",
        "team_lead",
    )


async def test_each_event_of_a_kind_is_its_own_message(
    database: Database, handlers: dict[type[EventData], Handler]
) -> None:
    # A reminder is a new event: it is a new message, not a duplicate.
    data = example_for(ComplaintConfirmationRequested)
    for reminder in (False, True):
        record = record_of(data.model_copy(update={"reminder": reminder}), topics.FEEDBACK)
        async with database.unit_of_work() as uow:
            await handlers[ComplaintConfirmationRequested](uow, envelope_of(record))
    assert len(await _deliveries(database)) == 2


async def test_erasure_drops_unsent_customer_messages(
    database: Database, handlers: dict[type[EventData], Handler]
) -> None:
    for data, topic in (
        (example_for(ComplaintReceived), topics.INTAKE),
        (_assigned(), topics.ROUTING),
    ):
        async with database.unit_of_work() as uow:
            await handlers[type(data)](uow, envelope_of(record_of(data, topic)))
    erasure = envelope_of(record_of(example_for(ErasureRequested), topics.INTAKE))
    async with database.unit_of_work() as uow:
        await handlers[ErasureRequested](uow, erasure)
    rows = {row.template: row for row in await _deliveries(database)}
    assert rows["acknowledgement"].status == "skipped"
    assert rows["acknowledgement"].context == {}
    assert rows["assignment"].status == "pending"  # staff notices are not customer data
    # notification.failed for the dropped one, and the confirmation
    assert await _outbox_count(database) == 2
