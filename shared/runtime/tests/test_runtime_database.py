"""UnitOfWork, outbox rows, processed events and UTC timestamps on a real SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from complaint_contracts import topics
from complaint_contracts.envelope import decode
from complaint_contracts.events import ComplaintResolved, ComplaintTriaged
from complaint_contracts.examples import COMPLAINT_ID, example_for
from complaint_runtime.context import caused_by
from complaint_runtime.database import (
    Base,
    Database,
    OutboxMessage,
    ProcessedEvent,
    UTCDateTime,
    dialect_insert,
)
from complaint_runtime.testing import sqlite_database
from sqlalchemy import func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, StatementError


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await sqlite_database(tmp_path / "t.db")
    yield db
    await db.dispose()


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def _count(db: Database, model: type[Base]) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


def _stage(uow, data=None) -> str:
    return uow.add_event(
        data or example_for(ComplaintTriaged),
        topic=topics.ROUTING.name,
        source="routing",
        subject=COMPLAINT_ID,
    )


async def test_add_event_stores_a_decodable_outbox_row(database: Database) -> None:
    data = example_for(ComplaintTriaged)
    time = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    with caused_by(correlation_id="corr-1", causation_id="cause-1"):
        async with database.unit_of_work() as uow:
            event_id = uow.add_event(
                data, topic=topics.ROUTING.name, source="routing", subject=COMPLAINT_ID, time=time
            )
    [row] = await _outbox(database)
    assert row.event_id == event_id
    assert row.topic == topics.ROUTING.name
    assert row.key == COMPLAINT_ID.encode()
    assert row.created_at.tzinfo is not None
    envelope = decode(row.key, row.value, [(name, value.encode()) for name, value in row.headers])
    assert envelope.id == event_id
    assert envelope.data == data
    assert envelope.type == ComplaintTriaged.ce_type()
    assert envelope.source == "routing"
    assert envelope.subject == COMPLAINT_ID
    assert envelope.time == time
    assert envelope.correlation_id == "corr-1"
    assert envelope.causation_id == "cause-1"


async def test_event_without_a_cause_starts_its_own_correlation(database: Database) -> None:
    async with database.unit_of_work() as uow:
        first = _stage(uow)
        second = _stage(uow, example_for(ComplaintResolved))
    rows = await _outbox(database)
    assert [r.event_id for r in rows] == [first, second]
    envelopes = [decode(r.key, r.value, [(n, v.encode()) for n, v in r.headers]) for r in rows]
    for envelope in envelopes:
        uuid.UUID(envelope.correlation_id)
        assert envelope.causation_id is None
    assert envelopes[0].data != envelopes[1].data


async def test_exception_rolls_everything_back(database: Database) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with database.unit_of_work() as uow:
            _stage(uow)
            await uow.mark_processed(consumer="g", event_id="e1", outcome="applied")
            await uow.session.flush()
            raise RuntimeError("boom")
    assert await _count(database, OutboxMessage) == 0
    assert await _count(database, ProcessedEvent) == 0


async def test_mark_processed_is_true_only_the_first_time(database: Database) -> None:
    async with database.unit_of_work() as uow:
        assert await uow.mark_processed(consumer="g", event_id="e1", outcome="applied") is True
        assert await uow.mark_processed(consumer="g", event_id="e1", outcome="applied") is False
        # Another consumer group has its own record of the same event.
        assert await uow.mark_processed(consumer="h", event_id="e1", outcome="applied") is True
    async with database.unit_of_work() as uow:
        assert await uow.mark_processed(consumer="g", event_id="e1", outcome="applied") is False
        assert await uow.mark_processed(consumer="g", event_id="e2", outcome="applied") is True
    async with database.sessions() as session:
        rows = (await session.scalars(select(ProcessedEvent))).all()
    assert {(r.consumer, r.event_id) for r in rows} == {("g", "e1"), ("h", "e1"), ("g", "e2")}
    assert all(r.processed_at.tzinfo is UTC for r in rows)


async def test_mark_processed_rolled_back_can_be_marked_again(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            assert await uow.mark_processed(consumer="g", event_id="e1", outcome="applied")
            raise RuntimeError
    async with database.unit_of_work() as uow:
        assert await uow.mark_processed(consumer="g", event_id="e1", outcome="applied") is True


async def test_on_events_committed_after_a_commit_with_events(database: Database) -> None:
    calls: list[int] = []
    database.on_events_committed = lambda: calls.append(1)

    async with database.unit_of_work() as uow:
        _stage(uow)
        _stage(uow, example_for(ComplaintResolved))
        assert calls == []  # not before the commit
    assert calls == [1]

    async with database.unit_of_work() as uow:
        await uow.mark_processed(consumer="g", event_id="no-events", outcome="applied")
    assert calls == [1]

    with pytest.raises(RuntimeError):
        async with database.unit_of_work() as uow:
            _stage(uow)
            raise RuntimeError
    assert calls == [1]
    assert await _count(database, OutboxMessage) == 2


async def test_explicit_commit_notifies_once(database: Database) -> None:
    calls: list[int] = []
    database.on_events_committed = lambda: calls.append(1)
    async with database.unit_of_work() as uow:
        _stage(uow)
        await uow.commit()
        assert calls == [1]
    assert calls == [1]


async def test_utc_datetime_is_aware_utc_on_sqlite(database: Database) -> None:
    shanghai = timezone(timedelta(hours=8))
    local = datetime(2026, 11, 23, 18, 30, 15, 123456, tzinfo=shanghai)
    async with database.unit_of_work() as uow:
        uow.session.add(
            ProcessedEvent(consumer="g", event_id="e1", outcome="applied", processed_at=local)
        )
    async with database.sessions() as session:
        row = await session.get(ProcessedEvent, ("g", "e1"))
    assert row is not None
    assert row.processed_at.tzinfo is UTC
    assert row.processed_at == local
    assert row.processed_at.hour == 10  # stored as the UTC instant, not the local wall time


async def test_utc_datetime_refuses_naive_values(database: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime") as raised:
        async with database.unit_of_work() as uow:
            uow.session.add(
                ProcessedEvent(
                    consumer="g",
                    event_id="e1",
                    outcome="applied",
                    processed_at=datetime(2026, 11, 23, 10, 0),
                )
            )
    assert isinstance(raised.value.orig, ValueError)
    assert await _count(database, ProcessedEvent) == 0


def test_utc_datetime_type_converts_both_ways() -> None:
    column = UTCDateTime()
    aware = datetime(2026, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    assert column.process_bind_param(aware, None) == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)
    assert column.process_bind_param(aware, None).tzinfo is UTC
    assert column.process_bind_param(None, None) is None
    with pytest.raises(ValueError, match="naive"):
        column.process_bind_param(datetime(2026, 1, 1), None)
    assert column.process_result_value(datetime(2026, 1, 1), None) == datetime(
        2026, 1, 1, tzinfo=UTC
    )
    assert column.process_result_value(aware, None).tzinfo is UTC
    assert column.process_result_value(None, None) is None


async def test_dialect_insert_is_sqlite_on_sqlite(database: Database) -> None:
    async with database.sessions() as session:
        assert dialect_insert(session) is sqlite_insert


async def test_ping(database: Database) -> None:
    await database.ping()


async def test_events_staged_in_a_rolled_back_savepoint_are_not_written(
    database: Database,
) -> None:
    async with database.unit_of_work() as uow:
        before = _stage(uow)
        with pytest.raises(RuntimeError):
            async with uow.session.begin_nested():
                _stage(uow)
                raise RuntimeError
        async with uow.session.begin_nested():
            kept_inside = _stage(uow)
            with pytest.raises(RuntimeError):
                async with uow.session.begin_nested():
                    _stage(uow)
                    raise RuntimeError
        after = _stage(uow, example_for(ComplaintResolved))
    assert [row.event_id for row in await _outbox(database)] == [before, kept_inside, after]


async def test_events_are_written_in_the_order_they_were_staged(database: Database) -> None:
    async with database.unit_of_work() as uow:
        staged = [_stage(uow) for _ in range(5)]
        await uow.commit()
        staged += [_stage(uow, example_for(ComplaintResolved)) for _ in range(3)]
    assert [row.event_id for row in await _outbox(database)] == staged


async def test_a_failed_statement_never_shows_its_bound_values(database: Database) -> None:
    """Errors are logged and put in dead letters' headers: the values bound to a statement
    (contacts, free text) must not be in them."""
    phone = "+8613812345678"
    async with database.sessions() as session, session.begin():
        session.add(ProcessedEvent(consumer="c", event_id=phone, outcome="applied"))
    with pytest.raises(IntegrityError) as failed:
        async with database.sessions() as session, session.begin():
            session.add(ProcessedEvent(consumer="c", event_id=phone, outcome="applied"))
    assert phone not in str(failed.value)
    assert "hidden" in str(failed.value)
