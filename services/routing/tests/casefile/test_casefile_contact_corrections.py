"""§10, the right to rectification: intake's ``complaint.contacts_corrected`` replaces the
case file's masked contacts and preferred channel, with a history step naming who and
which fields (never the values), through routing's handler table and its consumer on
SQLite: once per event, harmless for a case routing does not know or an erased one."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from complaint_contracts import topics
from complaint_contracts.events import ComplaintContactsCorrected, ErasureRequested
from complaint_runtime.consumer import EventConsumer
from complaint_runtime.database import Database
from complaint_runtime.testing import FakeProducer, record_of
from routing import messaging
from routing.bootstrap import Dependencies
from routing.casefile.corrections import apply_contacts_corrected
from routing.casefile.db import CaseFile
from routing.db import Case, CaseAction
from sqlalchemy import select

from .conftest import LI, NOW, Receive

CUSTOMER = {
    "customer_ref": "cr_corrected",
    "masked_phone": "138****5678",
    "masked_email": "z***@example.com",
    "preferred_channel": "email",
}


def correction(complaint_id: str, **fields: Any) -> ComplaintContactsCorrected:
    values: dict[str, Any] = {
        "complaint_id": complaint_id,
        "customer_ref": "cr_corrected",
        "corrected": ("phone", "email", "preferred_channel"),
        "masked_phone": "139****1111",
        "masked_email": None,
        "preferred_channel": "sms",
        "corrected_at": NOW + timedelta(minutes=5),
        "actor": "admin:admin-7",
        **fields,
    }
    return ComplaintContactsCorrected(**values)


async def _corrections(database: Database, complaint_id: str) -> list[CaseAction]:
    async with database.sessions() as session:
        rows = await session.scalars(
            select(CaseAction).where(
                CaseAction.complaint_id == complaint_id,
                CaseAction.action == "contacts_corrected",
            )
        )
        return list(rows)


async def test_the_case_file_shows_the_corrected_contacts_and_who_corrected(
    client: httpx.AsyncClient, receive: Receive, feed: Any, database: Database
) -> None:
    cid = await receive(customer=CUSTOMER)
    before = (await client.get(f"/v1/cases/{cid}", headers=LI)).json()
    assert before["customer"]["masked_phone"] == "138****5678"

    event_id = await feed(correction(cid))

    body = (await client.get(f"/v1/cases/{cid}", headers=LI)).json()
    customer = body["customer"]
    assert (
        customer["masked_phone"],
        customer["masked_email"],
        customer["preferred_channel"],
        customer["customer_ref"],
    ) == ("139****1111", None, "sms", "cr_corrected")
    step = body["actions"][-1]
    assert (step["actor"], step["action"], step["detail"]) == (
        "admin:admin-7",
        "contacts_corrected",
        {"fields": ["phone", "email", "preferred_channel"]},
    )
    assert step["from_status"] == step["to_status"] == before["status"]
    # History-only: an agent's open form is not stale because the contacts changed.
    assert body["version"] == before["version"]
    [action] = await _corrections(database, cid)
    assert action.event_id == event_id
    assert "139" not in str(action.detail)
    assert "138" not in str(action.detail)


async def test_a_later_correction_wins_and_a_name_alone_changes_no_contact(
    client: httpx.AsyncClient, receive: Receive, feed: Any, database: Database
) -> None:
    cid = await receive(customer=CUSTOMER)
    await feed(correction(cid))
    await feed(
        correction(
            cid,
            corrected=("email",),
            masked_email="n***@example.com",
            corrected_at=NOW + timedelta(minutes=9),
        )
    )
    await feed(
        correction(
            cid,
            corrected=("name",),
            masked_email="n***@example.com",
            actor="front-end:web",
            corrected_at=NOW + timedelta(minutes=12),
        )
    )
    customer = (await client.get(f"/v1/cases/{cid}", headers=LI)).json()["customer"]
    assert (customer["masked_phone"], customer["masked_email"]) == (
        "139****1111",
        "n***@example.com",
    )
    assert [(a.actor, a.detail["fields"]) for a in await _corrections(database, cid)] == [
        ("admin:admin-7", ["phone", "email", "preferred_channel"]),
        ("admin:admin-7", ["email"]),
        ("front-end:web", ["name"]),
    ]


async def test_a_correction_of_an_unknown_or_erased_case_changes_nothing(
    receive: Receive, feed: Any, deps: Dependencies, database: Database
) -> None:
    unknown = str(uuid.uuid4())
    async with database.unit_of_work() as uow:
        assert not await apply_contacts_corrected(
            uow=uow, corrected=correction(unknown), event_id="ev-unknown"
        )
    async with database.sessions() as session:
        assert await session.get(Case, unknown) is None
        assert await session.get(CaseFile, unknown) is None
    assert await _corrections(database, unknown) == []

    erased = await receive(customer=CUSTOMER)
    await feed(
        ErasureRequested(
            complaint_id=erased,
            erasure_id="era-1",
            customer_ref="cr_corrected",
            reason="customer_request",
            requested_at=NOW,
            actor="admin:admin-7",
        )
    )
    await feed(correction(erased))  # a replay of an old log: nothing comes back
    async with database.sessions() as session:
        case_file = await session.get(CaseFile, erased)
    assert case_file is not None
    assert (case_file.customer_masked_phone, case_file.customer_masked_email) == (None, None)
    assert await _corrections(database, erased) == []


async def test_the_consumer_applies_a_correction_once_and_dead_letters_none(
    receive: Receive, deps: Dependencies, database: Database
) -> None:
    producer = FakeProducer()
    consumer = EventConsumer(  # as main.py declares it; batches are fed directly
        database=database,
        bootstrap_servers="127.0.0.1:1",
        group_id="routing",
        topics=[topics.INTAKE.name, topics.FEEDBACK.name, topics.SLA.name, topics.NOTIFY.name],
        handlers=messaging.handlers(deps),
        dead_letter_topic=topics.dead_letter_topic("routing").name,
        producer=producer,  # type: ignore[arg-type]
        apply_batch_at_once=True,
        preload=messaging.preload,
    )
    cid = await receive(customer=CUSTOMER)
    corrected = record_of(correction(cid), topics.INTAKE)
    unknown = record_of(correction(str(uuid.uuid4())), topics.INTAKE)

    await consumer._process_batch([corrected, unknown])  # type: ignore[arg-type]
    await consumer._process_batch([corrected])  # type: ignore[arg-type]  # redelivered

    assert producer.sent == []
    assert len(await _corrections(database, cid)) == 1
    async with database.sessions() as session:
        case_file = await session.get(CaseFile, cid)
    assert case_file is not None
    assert case_file.customer_masked_phone == "139****1111"
