"""Erasure (§10) and the console on the suite's PostgreSQL: its read model of live updates
keeps ids, teams, assignees, event types and times of each change, never a customer's name,
contact or words; so a complaint's whole life through the console's consumer (the customer's
masked contacts and texts in every event that carries them), then the erasure and the other
services' confirmations, leaves nothing of the customer in any of its tables: there is
nothing to erase, and the console produces no events (nothing to confirm)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.events import (
    CaseErasureCompleted,
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintFirstResponseSent,
    ComplaintReceived,
    ComplaintResolved,
    ComplaintWithdrawn,
    CustomerMessageReceived,
    CustomerView,
    ErasureRequested,
    SlaErasureCompleted,
    SlaWarning,
)
from complaint_contracts.examples import example_for
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database
from complaint_runtime.testing import FakeProducer, record_of
from console import messaging
from console.live.db import CaseChangeRow
from console.main import MIGRATIONS
from console_support import NewDeps
from sqlalchemy import select

NewDatabase = Callable[[Path], Awaitable[Database]]
Leftovers = Callable[[Database, list[str]], Awaitable[list[str]]]

ID = "0192f3a4-5b6c-7d8e-9f00-00000000000e"
PHONE, EMAIL, REF = "138****5678", "z***@example.com", "cr_erasure_customer_0001"
MARKERS = [PHONE, EMAIL, REF, "EXT-ERASE", "MkSubject", "MkMessage", "MkReply", "MkQuestion"]


def _about(kind: type[EventData], **values: object) -> EventData:
    return example_for(kind).model_copy(update={"complaint_id": ID, **values})


async def test_the_console_keeps_nothing_of_a_customer(
    postgres_database: NewDatabase, make_deps: NewDeps, leftovers: Leftovers
) -> None:
    database = await postgres_database(MIGRATIONS)
    deps = await make_deps()
    consumer = EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",  # run() is never called: batches are fed directly
        group_id="console",
        topics=[t.name for t in messaging.CONSUMED],
        handlers=messaging.handlers(deps),
        dead_letter_topic="complaints.dlq.console.v1",
        producer=FakeProducer(),  # type: ignore[arg-type]
        apply_batch_at_once=True,
    )
    customer = CustomerView(
        customer_ref=REF, external_ref="EXT-ERASE", masked_phone=PHONE, masked_email=EMAIL
    )
    life = [
        (_about(ComplaintReceived, customer=customer, subject="MkSubject"), topics.INTAKE),
        (_about(ComplaintAssigned, team="billing", assignee="agent-li"), topics.ROUTING),
        (_about(ComplaintFirstResponseSent, message=f"MkReply {PHONE}"), topics.ROUTING),
        (_about(ComplaintAwaitingCustomer, reason="MkQuestion"), topics.ROUTING),
        (_about(CustomerMessageReceived, customer_ref=REF, text="MkMessage"), topics.INTAKE),
        (_about(ComplaintAgentReplied, message="MkReply"), topics.ROUTING),
        (_about(SlaWarning), topics.SLA),
        (_about(ComplaintResolved, solution_summary="MkReply"), topics.ROUTING),
        (_about(ComplaintWithdrawn, customer_ref=REF, reason=f"MkMessage {EMAIL}"), topics.INTAKE),
        (_about(ErasureRequested, customer_ref=REF), topics.INTAKE),
        (_about(CaseErasureCompleted), topics.ROUTING),
        (_about(SlaErasureCompleted), topics.SLA),
    ]
    await consumer._process_batch([record_of(e, t) for e, t in life])  # type: ignore[arg-type]

    async with database.sessions() as session:
        recorded = list(await session.scalars(select(CaseChangeRow.event_type)))
    # Every change but intake's withdrawal and erasure request (routing's events tell them).
    assert len(recorded) == len(life) - 2
    assert await leftovers(database, MARKERS) == []
