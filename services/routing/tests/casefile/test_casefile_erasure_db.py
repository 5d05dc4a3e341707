"""Erasure (§10) on the suite's PostgreSQL: a customer's two complaints worked through
everything routing records (triage, an automatic duplicate unlinked and merged by hand,
customer messages, answers, a question, notes, a revealed contact, a correction, a manual
escalation, a resolution, an unreachable customer, a reopen with its review task, a
withdrawal, the customer's account manager), then intake's ``complaint.erasure_requested``
for each: no table of routing's schema holds anything of the customer any more, the
categories, priorities, times and KPIs stay, and each erasure is confirmed with
``case.erasure_completed`` in its transaction, once per erasure id."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope, decode
from complaint_contracts.events import (
    AttachmentRef,
    CaseErasureCompleted,
    ComplaintConfirmationRequested,
    ComplaintEscalated,
    ComplaintReceived,
    ComplaintReopened,
    ComplaintWithdrawn,
    CustomerMessageReceived,
    CustomerView,
    ErasureRequested,
    NotificationFailed,
    SlaClockStarted,
)
from complaint_contracts.examples import example_for
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database
from complaint_runtime.identity import Principal, ServiceCaller
from complaint_runtime.testing import FakeProducer, record_of
from routing import messaging
from routing.adapters.intake_api import IntakeApi
from routing.bootstrap import Dependencies, build_dependencies
from routing.casefile import notes
from routing.cases import escalation, recategorization
from routing.cases import service as cases
from routing.config import AgentConfig, RoutingSettings
from routing.contacts import service as contacts
from routing.db import Case, OutboxMessage
from routing.duplicates import manual
from routing.main import MIGRATIONS
from routing.staffing import service as staffing
from routing.tasks import service as tasks
from routing.tasks.db import Task
from sqlalchemy import delete, select

from ..conftest import IDENTITY

NewDatabase = Callable[[Path], Awaitable[Database]]
Leftovers = Callable[[Database, list[str]], Awaitable[list[str]]]

NOW = datetime.now(UTC).replace(microsecond=0)
PHONE, EMAIL, REF = "138****5678", "z***@example.com", "cr_erasure_customer_0001"
AGENT = Principal("agent-li", frozenset({"agent"}), "billing")
OTHER_AGENT = Principal("agent-ma", frozenset({"agent"}), "billing")
LEAD = Principal("lead-zhao", frozenset({"lead"}), "billing")
MANAGER = Principal("mgr-sun", frozenset({"manager"}))
# What the customer wrote, and what staff wrote about them, each findable on its own.
MARKERS = [
    PHONE,
    EMAIL,
    REF,
    "e7a5e7a5e7a5e7a5e7a5e7a5e7a5e7a5",
    "EXT-ERASE-0001",
    "ORD-ERASE-0001",
    "MkSubject",
    "MkDescription",
    "MKSHOUTING",  # the capitals the emotion rule quotes
    "files.example.com/MkAttachment",
    "MkMetadata",
    "MkMessageOne",
    "MkMessageTwo",
    "MkFirstResponse",
    "MkQuestion",
    "MkReply",
    "MkNote",
    "MkReveal",
    "MkRecategorized",
    "MkReassign",
    "MkEscalation",
    "MkSolution",
    "MkRootCause",
    "MkPrevention",
    "MkTaskNote",
    "MkUnlink",
    "MkLink",
    "MkWithdrawal",
]
CONTACT = {"name": "Zhang Wei", "email": "zhang.wei@example.com", "phone": "+86 13812345678"}


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


def _received(complaint_id: str, n: int) -> ComplaintReceived:
    return ComplaintReceived(
        complaint_id=complaint_id,
        reference=f"C-20261201-00000{n}",
        channel="web",
        customer=CustomerView(
            customer_ref=REF,
            external_ref="EXT-ERASE-0001",
            masked_phone=PHONE,
            masked_email=EMAIL,
            tier="vip",
            preferred_channel="sms",
            identity_keys=("phone:e7a5e7a5e7a5e7a5e7a5e7a5e7a5e7a5",),
        ),
        subject=f"退款迟迟未到账 MkSubject {n}",
        description=f"我申请的退款还没到账，退款延迟太久了。MkDescription {PHONE} MKSHOUTING NOW",
        order_ref="ORD-ERASE-0001",
        received_at=NOW,
        attachments=(
            AttachmentRef(
                url="https://files.example.com/MkAttachment.png", media_type="image/png", size=1
            ),
        ),
        metadata={"wechat_openid": "MkMetadata"},
    )


def _message(complaint_id: str, text: str) -> CustomerMessageReceived:
    return CustomerMessageReceived(
        complaint_id=complaint_id,
        message_id=str(uuid.uuid4()),
        customer_ref=REF,
        channel="web",
        text=text,
        received_at=NOW,
    )


def _erasure(complaint_id: str, erasure_id: str = "era-1") -> ErasureRequested:
    return ErasureRequested(
        complaint_id=complaint_id,
        erasure_id=erasure_id,
        customer_ref=REF,
        reason="customer_request",
        requested_at=NOW,
        actor="intake",
    )


async def _deps(postgres_database: NewDatabase) -> Dependencies:
    database = await postgres_database(MIGRATIONS)
    await staffing.seed_agents(
        database=database,
        agents=[
            AgentConfig(id="agent-li", team="billing", level="senior", capacity=50),
            AgentConfig(id="agent-ma", team="billing", level="senior", capacity=50),
        ],
    )
    intake = IntakeApi(
        base_url="http://intake.test",
        caller=ServiceCaller(IDENTITY.services["routing"]),
        timeout_s=1,
        transport=httpx.MockTransport(lambda _: httpx.Response(200, json=CONTACT)),
    )
    deps = build_dependencies(RoutingSettings(), database=database)
    return dataclasses.replace(deps, intake=intake)


async def _work_the_case(deps: Dependencies, feed: Callable[[EventData], Awaitable[None]]) -> str:
    """The first complaint through everything staff and the other services do to a case."""
    database, cid = deps.database, str(uuid.uuid4())
    await feed(_received(cid, 1))
    await feed(
        SlaClockStarted(
            complaint_id=cid,
            clock_id=f"{cid}-fr",
            metric="first_response",
            policy_id="default-P3",
            calendar_id="24x7",
            priority="P3",
            target_seconds=3600,
            started_at=NOW,
            due_at=NOW + timedelta(hours=1),
        )
    )
    await cases.record_first_response(
        database=database, complaint_id=cid, principal=AGENT, message=f"MkFirstResponse {PHONE}"
    )
    await feed(_message(cid, f"MkMessageOne {EMAIL}"))
    await notes.add_note(
        database=database, complaint_id=cid, principal=AGENT, text=f"MkNote {EMAIL}"
    )
    await cases.await_customer(
        database=database, complaint_id=cid, principal=AGENT, reason="MkQuestion order?"
    )
    await feed(_message(cid, "MkMessageTwo"))
    await cases.record_reply(
        database=database, complaint_id=cid, principal=AGENT, message="MkReply"
    )
    await contacts.reveal_contact(
        database=database,
        intake=deps.intake,
        complaint_id=cid,
        principal=LEAD,
        reason=f"MkReveal call back {PHONE}",
    )
    await recategorization.recategorize(
        database=database,
        complaint_id=cid,
        principal=MANAGER,
        reason=f"MkRecategorized, says {EMAIL}",
        priority="P1",
    )
    await cases.reassign(
        database=database,
        complaint_id=cid,
        principal=LEAD,
        reason=f"MkReassign, the customer ({PHONE}) asked",
        assignee="agent-ma",
    )
    await escalation.request_escalation(
        database=database, complaint_id=cid, principal=LEAD, level=1, reason="MkEscalation"
    )
    await feed(
        ComplaintEscalated(
            complaint_id=cid,
            level=1,
            previous_level=0,
            trigger="manual",
            reason="MkEscalation",
            actor="lead-zhao",
        )
    )
    await cases.resolve(
        database=database,
        complaint_id=cid,
        principal=OTHER_AGENT,
        solution_summary=f"MkSolution refund re-sent to {PHONE}",
        solution_type="refund",
        root_cause="MkRootCause",
        preventive_measure="MkPrevention",
    )
    request = ComplaintConfirmationRequested(
        complaint_id=cid,
        request_id="req-1",
        channel="sms",
        requested_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )
    await feed(request)
    failed = example_for(NotificationFailed)
    assert isinstance(failed, NotificationFailed)
    await feed(
        failed.model_copy(
            update={
                "complaint_id": cid,
                "template": "survey_invitation",
                "recipient": EMAIL,
                "cause_event_type": ComplaintConfirmationRequested.ce_type(),
                "error": f"no channel reaches {EMAIL}",
                "reason": "no_channel",
                "final": True,
                "next_attempt_at": None,
            }
        )
    )
    await feed(
        ComplaintReopened(
            complaint_id=cid, reason="not_solved", request_id="req-1", csat=2, reopened_at=NOW
        )
    )
    async with database.sessions() as session:
        opened = list(await session.scalars(select(Task).where(Task.complaint_id == cid)))
    for task in opened:
        if task.kind == "follow_up_call":
            continue  # not workable before its window
        await tasks.complete_task(
            database=database,
            task_id=task.id,
            principal=LEAD,
            outcome={
                "review_reopen": "no_action",
                "customer_unreachable": "contacted",
            }[task.kind],
            note=f"MkTaskNote {PHONE}",
        )
    return cid


async def _copy_unlinked_and_merged(
    deps: Dependencies, feed: Callable[[EventData], Awaitable[None]], original: str
) -> str:
    """The same customer's second complaint: an automatic duplicate (same order), unlinked
    and merged by hand, then withdrawn (too late: recorded)."""
    database, cid = deps.database, str(uuid.uuid4())
    await feed(_received(cid, 2))
    await manual.unlink_by_hand(
        database=database,
        complaint_id=cid,
        principal=LEAD,
        reason="MkUnlink",
        classifiers=deps.classifiers,
        duplicate_policy=deps.duplicate_policy,
        streak_length=deps.streak_length,
    )
    await manual.link_by_hand(
        database=database, complaint_id=cid, original_id=original, principal=LEAD, reason="MkLink"
    )
    await feed(
        ComplaintWithdrawn(
            complaint_id=cid,
            customer_ref=REF,
            reason=f"MkWithdrawal {PHONE}",
            withdrawn_at=NOW,
            actor="customer",
        )
    )
    return cid


async def _outbox(database: Database) -> list[Envelope]:
    async with database.sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    return [decode(r.key, r.value, [(k, v.encode()) for k, v in r.headers]) for r in rows]


async def _published(database: Database) -> None:
    """The relay's part: the outbox rows went to Kafka and were deleted."""
    async with database.unit_of_work() as uow:
        await uow.session.execute(delete(OutboxMessage))


async def test_an_erased_customer_leaves_nothing_in_routing(
    postgres_database: NewDatabase, leftovers: Leftovers
) -> None:
    deps = await _deps(postgres_database)
    handlers = messaging.handlers(deps)

    async def feed(data: EventData) -> None:
        async with deps.database.unit_of_work() as uow:
            await handlers[type(data)](uow, _envelope(data))

    await staffing.put_account_manager(
        database=deps.database, customer_ref=REF, agent_id="agent-li", actor="admin-1"
    )
    first = await _work_the_case(deps, feed)
    second = await _copy_unlinked_and_merged(deps, feed, first)
    assert set(await leftovers(deps.database, MARKERS)) > set()  # the flow stored them
    await _published(deps.database)
    async with deps.database.sessions() as session:
        kept = {c.complaint_id: c for c in await session.scalars(select(Case))}
    for complaint_id in (first, second):
        await feed(_erasure(complaint_id))

    assert await leftovers(deps.database, MARKERS) == []
    confirmed = [e.data for e in await _outbox(deps.database)]
    assert confirmed == [
        CaseErasureCompleted(complaint_id=c, erasure_id="era-1", erased_at=d.erased_at)
        for c, d in zip((first, second), confirmed, strict=True)
    ]
    async with deps.database.sessions() as session:
        after = {c.complaint_id: c for c in await session.scalars(select(Case))}
    for complaint_id, case in kept.items():  # what is not personal stays
        same = ("category", "priority", "status", "solution_type", "received_at", "resolved_at")
        for name in (*same, "first_response_at", "closed_at", "escalation_level", "team"):
            assert getattr(after[complaint_id], name) == getattr(case, name), name


async def test_each_erasure_request_is_confirmed_also_for_an_erased_or_unknown_case(
    postgres_database: NewDatabase,
) -> None:
    deps = await _deps(postgres_database)
    handlers = messaging.handlers(deps)
    erased, unknown = str(uuid.uuid4()), str(uuid.uuid4())

    async def feed(data: EventData) -> None:
        async with deps.database.unit_of_work() as uow:
            await handlers[type(data)](uow, _envelope(data))

    await feed(_received(erased, 1))
    await _published(deps.database)
    for complaint_id, erasure_id in ((erased, "era-1"), (erased, "era-2"), (unknown, "era-3")):
        await feed(_erasure(complaint_id, erasure_id))

    confirmed: list[Any] = [e.data for e in await _outbox(deps.database)]
    assert [(c.complaint_id, c.erasure_id, c.actor) for c in confirmed] == [
        (erased, "era-1", "routing"),
        (erased, "era-2", "routing"),
        (unknown, "era-3", "routing"),
    ]


async def test_an_erasure_in_the_batch_of_its_complaint_applies_at_once(
    postgres_database: NewDatabase, leftovers: Leftovers
) -> None:
    deps = await _deps(postgres_database)
    producer = FakeProducer()
    consumer = EventConsumer(
        database=deps.database,
        bootstrap_servers="127.0.0.1:1",  # run() is never called: batches are fed directly
        group_id="routing",
        topics=[topics.INTAKE.name, topics.FEEDBACK.name, topics.SLA.name],
        handlers=messaging.handlers(deps),
        dead_letter_topic=topics.dead_letter_topic("routing").name,
        producer=producer,  # type: ignore[arg-type]
        apply_batch_at_once=True,
        preload=messaging.preload,
    )
    cid = str(uuid.uuid4())
    erasure = record_of(_erasure(cid), topics.INTAKE)
    batch = [
        record_of(_received(cid, 1), topics.INTAKE),
        record_of(_message(cid, f"MkMessageOne {EMAIL}"), topics.INTAKE),
        erasure,
    ]

    await consumer._process_batch(batch)  # type: ignore[arg-type]
    await consumer._process_batch([erasure])  # type: ignore[arg-type]  # redelivered

    assert producer.sent == []  # nothing dead-lettered
    names = [type(e.data).__name__ for e in await _outbox(deps.database)]
    assert names.count("CaseErasureCompleted") == 1
    assert [m for m in await leftovers(deps.database, MARKERS) if "outbox" not in m] == []
