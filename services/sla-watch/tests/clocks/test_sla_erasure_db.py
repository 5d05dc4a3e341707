"""Erasure (§10) on the suite's PostgreSQL: a complaint's whole life through sla-watch's
handlers (triage, assignment, customer messages, answers, a question, a correction, a manual
escalation, the resolution, the closure), then intake's ``complaint.erasure_requested`` in a
consumer's batch applied at once with the preload (among another complaint's events):
sla-watch holds nothing of the customer in any table (nothing to blank), the clocks stay,
and each erasure request is confirmed with ``sla.erasure_completed`` in the batch's
transaction, once per event (a redelivered one is dropped) and once per erasure id."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import decode
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintEscalationRequested,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
    CustomerMessageReceived,
    ErasureRequested,
    SlaErasureCompleted,
)
from complaint_contracts.examples import example_for
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database, OutboxMessage
from complaint_runtime.testing import FakeProducer, FakeRecord, record_of
from sla_watch import messaging
from sla_watch.db import Clock
from sla_watch.main import MIGRATIONS
from sqlalchemy import delete, select

from .test_sla_batch_preload_db import SETTINGS, T0

NewDatabase = Callable[[Path], Awaitable[Database]]
Leftovers = Callable[[Database, list[str]], Awaitable[list[str]]]

PHONE, EMAIL, REF = "138****5678", "z***@example.com", "cr_erasure_customer_0001"
MARKERS = [PHONE, EMAIL, REF, "MkMessage", "MkQuestion", "MkReply", "MkEscalation", "MkSolution"]
_groups = itertools.count()


def _event(kind: type[EventData], complaint_id: str, **values: Any) -> EventData:
    return example_for(kind).model_copy(update={"complaint_id": complaint_id, **values})


def _life(complaint_id: str) -> list[FakeRecord]:
    """Every event sla-watch consumes about one complaint, in order."""
    at = {f"t{n}": T0 + timedelta(minutes=n) for n in range(10)}
    routed = [
        _event(ComplaintTriaged, complaint_id, priority="P2"),
        _event(ComplaintAssigned, complaint_id, team="billing"),
        _event(ComplaintFirstResponseSent, complaint_id, message=f"MkReply {PHONE}"),
        _event(ComplaintAwaitingCustomer, complaint_id, reason="MkQuestion", since=at["t3"]),
        _event(ComplaintResumed, complaint_id, resumed_at=at["t4"]),
        _event(ComplaintAgentReplied, complaint_id, message="MkReply", replied_at=at["t6"]),
        _event(ComplaintRecategorized, complaint_id, reason=f"MkEscalation {EMAIL}"),
        _event(ComplaintEscalationRequested, complaint_id, reason="MkEscalation", level=1),
        _event(
            ComplaintResolved, complaint_id, solution_summary="MkSolution", resolved_at=at["t8"]
        ),
        _event(ComplaintClosed, complaint_id, closed_at=at["t9"]),
    ]
    message = _event(
        CustomerMessageReceived,
        complaint_id,
        customer_ref=REF,
        text=f"MkMessage {PHONE}",
        received_at=at["t5"],
    )
    records = [record_of(e, topics.ROUTING) for e in routed]
    return [*records[:5], record_of(message, topics.INTAKE), *records[5:]]


def _erasure(complaint_id: str, erasure_id: str) -> FakeRecord:
    erasure = ErasureRequested(
        complaint_id=complaint_id,
        erasure_id=erasure_id,
        customer_ref=REF,
        reason="customer_request",
        requested_at=datetime.now(UTC),
        actor="intake",
    )
    return record_of(erasure, topics.INTAKE)


def _consumer(database: Database) -> EventConsumer:
    return EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",  # run() is never called: batches are fed directly
        group_id=f"sla-watch-{next(_groups)}",
        topics=[topics.ROUTING.name, topics.INTAKE.name],
        handlers=messaging.handlers(SETTINGS),
        dead_letter_topic="complaints.dlq.sla-watch.v1",
        producer=FakeProducer(),
        apply_batch_at_once=True,
        preload=messaging.preload,
    )


async def _outbox(database: Database) -> list[Any]:
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    return [decode(r.key, r.value, [(k, v.encode()) for k, v in r.headers]).data for r in rows]


async def test_an_erasure_in_a_batch_is_confirmed_and_leaves_nothing_of_the_customer(
    postgres_database: NewDatabase, leftovers: Leftovers
) -> None:
    database = await postgres_database(MIGRATIONS)
    consumer = _consumer(database)
    erased, other, unknown = (str(uuid.uuid4()) for _ in range(3))
    for record in _life(erased):
        await consumer._process_batch([record])
    later = _life(other)
    await consumer._process_batch(later[:3])
    async with database.unit_of_work() as uow:  # the relay's part: published and deleted
        await uow.session.execute(delete(OutboxMessage))
    async with database.sessions() as session:
        clocks_before = len(list(await session.scalars(select(Clock))))

    first = _erasure(erased, "era-1")
    batch = [first, *later[3:6], _erasure(erased, "era-2"), _erasure(unknown, "era-3")]
    await consumer._process_batch(batch)
    await consumer._process_batch([first])  # redelivered: dropped by its id

    assert await leftovers(database, MARKERS) == []
    confirmed = [e for e in await _outbox(database) if isinstance(e, SlaErasureCompleted)]
    assert [(c.complaint_id, c.erasure_id, c.actor) for c in confirmed] == [
        (erased, "era-1", "sla-watch"),
        (erased, "era-2", "sla-watch"),
        (unknown, "era-3", "sla-watch"),
    ]
    async with database.sessions() as session:  # the batch's other events applied too
        clocks = list(await session.scalars(select(Clock)))
    assert len(clocks) > clocks_before
