"""The audit chain: one link per transaction that emitted events or audited a change, each
chained to the one before; any edited, deleted or reordered link is found by the verifier.
On SQLite and on a real PostgreSQL (where concurrent transactions must still form one
chain)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from complaint_contracts import topics
from complaint_contracts.events import ComplaintResolved
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_devinfra.postgres import PostgresEndpoint
from complaint_runtime.audit import GENESIS, AuditLink, links_after, verify_chain
from complaint_runtime.context import originating
from complaint_runtime.database import Base, Database, OutboxMessage
from complaint_runtime.testing import sqlite_database
from sqlalchemy import Table, delete, func, select, update

RESOLVED = example_for(ComplaintResolved)


async def _emit(db: Database, *, actor: str | None = None, audited: bool = False) -> None:
    async with db.unit_of_work() as uow:
        data = RESOLVED if actor is None else RESOLVED.model_copy(update={"actor": actor})
        uow.add_event(data, topic=topics.ROUTING.name, source="routing", subject=COMPLAINT_ID)
        if audited:
            uow.audit(
                actor="admin-1",
                action="team.updated",
                object_type="team",
                object_id="billing",
                before={"agents": 2},
                after={"agents": 3},
            )


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "audit.db")
    yield db
    await db.dispose()


async def test_each_transaction_is_one_link_holding_its_events_and_changes(
    database: Database,
) -> None:
    with originating("http 10.0.0.7"):
        await _emit(database, actor="agent-0042", audited=True)
    await _emit(database)
    async with database.unit_of_work():
        pass  # nothing changed: no link
    links = await links_after(database)
    assert [len(link.entries) for link in links] == [2, 1]
    # The use case's own entries first, then one per event the transaction emitted.
    change, event = links[0].entries
    assert event["actor"] == "agent-0042"
    assert event["action"] == "complaint.resolved.v1"
    assert (event["object_type"], event["object_id"]) == ("complaint", COMPLAINT_ID)
    assert event["origin"] == "http 10.0.0.7"
    async with database.sessions() as session:
        stored = (await session.scalars(select(OutboxMessage.event_id))).all()
    assert event["event_id"] in stored
    assert (change["before"], change["after"]) == ({"agents": 2}, {"agents": 3})
    assert links[1].entries[0]["origin"] == "internal"
    assert [link.prev_hash for link in links] == [GENESIS, links[0].hash]
    report = await verify_chain(database)
    assert (report.ok, report.links, report.entries) == (True, 2, 3)
    assert report.head_hash == links[1].hash


async def test_a_rolled_back_transaction_leaves_no_link(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            uow.audit(actor="a", action="x", object_type="t", object_id="1")
            raise RuntimeError("boom")
    assert await links_after(database) == []


async def test_an_edited_link_is_found(database: Database) -> None:
    for _ in range(3):
        await _emit(database, audited=True)
    async with database.sessions() as session, session.begin():
        link = await session.get(AuditLink, 2)
        assert link is not None
        edited = [dict(entry) for entry in link.entries]
        edited[0]["after"] = {"agents": 99}
        await session.execute(update(AuditLink).where(AuditLink.seq == 2).values(entries=edited))
    report = await verify_chain(database)
    assert not report.ok
    assert (report.broken_at, report.links) == (2, 1)
    assert "edited" in (report.problem or "")


async def test_a_deleted_link_is_found(database: Database) -> None:
    for _ in range(3):
        await _emit(database)
    async with database.sessions() as session, session.begin():
        await session.execute(delete(AuditLink).where(AuditLink.seq == 2))
    report = await verify_chain(database)
    assert (report.ok, report.broken_at) == (False, 3)
    assert "deleted" in (report.problem or "")


async def test_a_rehashed_edit_still_breaks_the_next_link(database: Database) -> None:
    """Recomputing the edited link's own hash is not enough: the next link names the old."""
    from complaint_runtime.audit import link_hash

    for _ in range(2):
        await _emit(database, actor="agent-1")
    async with database.sessions() as session, session.begin():
        link = await session.get(AuditLink, 1)
        assert link is not None
        entries = [{**link.entries[0], "actor": "someone-else"}]
        forged = link_hash(
            prev_hash=link.prev_hash, seq=1, committed_at=link.committed_at, entries=entries
        )
        await session.execute(
            update(AuditLink).where(AuditLink.seq == 1).values(entries=entries, hash=forged)
        )
    report = await verify_chain(database)
    assert (report.ok, report.broken_at) == (False, 2)


@pytest.fixture
async def postgres(local_postgres: PostgresEndpoint) -> AsyncIterator[Database]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    db = Database(await local_postgres.create_database_async(name), pool_size=8)
    tables = [
        table
        for table in (OutboxMessage.__table__, AuditLink.__table__)
        if isinstance(table, Table)
    ]
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: Base.metadata.create_all(sync, tables))
    yield db
    await db.dispose()
    await local_postgres.drop_database_async(name)


async def test_concurrent_transactions_form_one_unbroken_chain_on_postgres(
    postgres: Database,
) -> None:
    await asyncio.gather(*(_emit(postgres, audited=n % 2 == 0) for n in range(40)))
    report = await verify_chain(postgres, page=7)  # paging across link boundaries too
    assert report.ok, report
    assert (report.links, report.entries) == (40, 60)
    async with postgres.sessions() as session:
        assert await session.scalar(select(func.max(AuditLink.seq))) == 40
    async with postgres.sessions() as session, session.begin():
        await session.execute(
            update(AuditLink).where(AuditLink.seq == 17).values(prev_hash=GENESIS)
        )
    broken = await verify_chain(postgres)
    assert (broken.ok, broken.broken_at) == (False, 17)


async def test_a_consumers_changes_name_the_consumer_group_as_their_origin(
    database: Database,
) -> None:
    from complaint_contracts.events import ComplaintTriaged
    from complaint_runtime.consumer import EventConsumer
    from complaint_runtime.testing import FakeProducer, record_of

    async def emit(uow: Any, envelope: Any) -> None:
        uow.add_event(RESOLVED, topic=topics.ROUTING.name, source="routing", subject=COMPLAINT_ID)

    consumer = EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",  # run() is never called here
        group_id="routing",
        topics=[topics.INTAKE.name],
        handlers={ComplaintTriaged: emit},
        dead_letter_topic="complaints.dlq.routing.v1",
        producer=FakeProducer(),  # type: ignore[arg-type]
    )
    triaged = example_for(ComplaintTriaged)
    await consumer._process_batch([record_of(triaged, topics.ROUTING)])  # type: ignore[list-item]
    (link,) = await links_after(database)
    assert link.entries[0]["origin"] == "kafka routing"


async def test_a_services_own_steps_leave_no_link(database: Database) -> None:
    """Triage by routing itself, a clock started by sla-watch: the service's own steps (in
    its history and on Kafka), not a person's action; a customer's complaint at intake is."""
    from complaint_contracts.events import ComplaintReceived, ComplaintTriaged, SlaClockStarted

    async with database.unit_of_work() as uow:
        uow.add_event(
            example_for(ComplaintTriaged).model_copy(update={"actor": "routing"}),
            topic=topics.ROUTING.name,
            source="routing",
            subject=COMPLAINT_ID,
        )
        uow.add_event(
            example_for(SlaClockStarted),
            topic=topics.SLA.name,
            source="sla-watch",
            subject=COMPLAINT_ID,
        )
    assert await links_after(database) == []
    async with database.unit_of_work() as uow:
        uow.add_event(
            example_for(ComplaintReceived),
            topic=topics.INTAKE.name,
            source="intake",
            subject=COMPLAINT_ID,
        )
    (link,) = await links_after(database)
    assert [(e["actor"], e["action"]) for e in link.entries] == [
        ("customer", "complaint.received.v1")
    ]
