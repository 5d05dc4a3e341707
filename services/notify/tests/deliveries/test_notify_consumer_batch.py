"""A consumer's batch, applied in one transaction (``apply_batch_at_once``), costs the same
few statements however many events it holds: the deliveries its handlers plan are written
in one ``INSERT ... ON CONFLICT DO NOTHING`` at the commit (``service.stage_deliveries``),
and the pending acknowledgements its clock, duplicate and closure events may release are
read in one query (``messaging.preload``). Redelivered events still add nothing, the
delivery loop is woken only for new work, and a batch that falls back to record-by-record
application records each surviving event's deliveries once and none of a failed one's.

The statement counts run on SQLite (``make up``) and on the suite's PostgreSQL."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintClosed,
    ComplaintDuplicateLinked,
    ComplaintReceived,
    ErasureRequested,
    SlaClockStarted,
)
from complaint_contracts.examples import example_for
from complaint_runtime.consumer import EventConsumer, Handler
from complaint_runtime.database import Database, ProcessedEvent, utcnow
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.migrations import upgrade_to_head
from complaint_runtime.testing import FakeProducer, FakeRecord, envelope_of, record_of
from notify import messaging
from notify.bootstrap import Dependencies
from notify.config import NotifySettings
from notify.deliveries import releases, service
from notify.deliveries.db import Delivery
from notify.main import MIGRATIONS, create_app
from notify.messages.domain.promised_times import stored_due_key
from notify.teams.db import ComplaintTeam
from sqlalchemy import event, select

NewDatabase = Callable[[Path], Any]
FIRST_DUE = utcnow() + timedelta(hours=2)
RESOLUTION_DUE = utcnow() + timedelta(hours=48)


class Wakes:
    """Stands in for the delivery loop's ``wake``: counts the calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
async def sqlite(tmp_path: Path) -> Database:
    url = f"sqlite+aiosqlite:///{tmp_path}/batch.db"
    await upgrade_to_head(MIGRATIONS, url)  # the real migrations: the unique message key
    database = Database(url)
    yield database  # type: ignore[misc]
    await database.dispose()


@pytest.fixture
def wakes() -> Wakes:
    return Wakes()


@pytest.fixture
def handlers(
    build_deps: Callable[..., Dependencies], wakes: Wakes, monkeypatch: pytest.MonkeyPatch
) -> dict[type[EventData], Handler]:
    """The table main.py builds (a long wait for the clocks: a release shows), its wake
    counted."""
    deps = build_deps(ack_wait_for_due_s=30.0)
    monkeypatch.setattr(deps.delivery_loop, "wake", wakes)
    return messaging.handlers(deps)


def _consumer(
    database: Database,
    handlers: dict[type[EventData], Handler],
    *,
    group: str = "notify",
    producer: FakeProducer | None = None,
) -> EventConsumer:
    """As main.py declares it: a poll in one transaction, after messaging.preload."""
    return EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",  # run() is never called: batches are fed directly
        group_id=group,
        topics=[t.name for t in messaging.CONSUMED],
        handlers=handlers,
        dead_letter_topic="complaints.dlq.notify.v1",
        producer=producer or FakeProducer(),  # type: ignore[arg-type]
        apply_batch_at_once=True,
        preload=messaging.preload,
        max_attempts=2,
        retry_backoff_s=0.0,
    )


def _of(model: type[EventData], cid: str, **changes: Any) -> EventData:
    return example_for(model).model_copy(update={"complaint_id": cid, **changes})


def _received(cid: str) -> FakeRecord:
    return record_of(_of(ComplaintReceived, cid), topics.INTAKE)


def _assigned(cid: str) -> FakeRecord:
    return record_of(_of(ComplaintAssigned, cid, assignee="agent-li"), topics.ROUTING)


def _started(cid: str, metric: str) -> FakeRecord:
    due = FIRST_DUE if metric == "first_response" else RESOLUTION_DUE
    return record_of(
        _of(SlaClockStarted, cid, metric=metric, clock_id=metric, due_at=due), topics.SLA
    )


def _clocks(cid: str) -> list[FakeRecord]:
    return [_started(cid, "first_response"), _started(cid, "resolution")]


def _typical(cids: list[str]) -> list[FakeRecord]:
    """Per complaint: received, assigned, and its first-response and resolution clocks."""
    return [r for cid in cids for r in (_received(cid), _assigned(cid), *_clocks(cid))]


def _new_ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


@contextmanager
def _statements(database: Database) -> Iterator[Counter[str]]:
    """Counts the statements sent, by verb and table (``INSERT deliveries``); an
    executemany is one statement, as it is one round trip."""
    counted: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        verb = words[0].upper()
        # BEGIN, and the webhook subscriptions' cache: one read per interval, not per batch
        # (notify.webhooks.cache; its own test counts it).
        if verb == "BEGIN" or "FROM webhook_subscriptions" in statement:
            return
        table = next(
            (
                t
                for t in ("deliveries", "processed_events", "outbox_messages", "complaint_teams")
                if t in statement
            ),
            "other",
        )
        counted[f"{verb} {table}"] += 1

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def _rows(database: Database) -> list[Delivery]:
    async with database.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.created_at)))


async def _facts(database: Database, cids: list[str]) -> dict[str, tuple[Any, ...]]:
    """The complaints' facts staff notices are written from: reference, team, assignee."""
    async with database.sessions() as session:
        rows = await session.scalars(
            select(ComplaintTeam).where(ComplaintTeam.complaint_id.in_(cids))
        )
        return {r.complaint_id: (r.reference, r.team, r.assignee) for r in rows}


async def _acknowledgements(database: Database) -> dict[str, Delivery]:
    return {r.complaint_id: r for r in await _rows(database) if r.template == "acknowledgement"}


def _released(row: Delivery) -> bool:
    """Made due at the release (well before its first look) with both due times kept."""
    return (
        row.status == "pending"
        and row.next_attempt_at - row.created_at < timedelta(seconds=1)
        and row.context[stored_due_key("first_response")] == FIRST_DUE.isoformat()
        and row.context[stored_due_key("resolution")] == RESOLUTION_DUE.isoformat()
    )


def _held(row: Delivery) -> bool:
    return row.status == "pending" and row.next_attempt_at - row.created_at >= timedelta(seconds=1)


# -- statements per batch: the same for 2 complaints as for 30


# A typical batch's statements, whatever its size. The facts staff notices are written
# from are upserted just before the commit in one statement per kind of fact, each kind
# leaving the others' columns alone: here two kinds, so two upserts of complaint_teams
# (complaint.received: the reference; complaint.assigned: the team and assignee). A
# complaint.triaged in the batch would add a third (the priority), never one per complaint.
TYPICAL_BATCH_STATEMENTS = {
    "INSERT processed_events": 1,
    "SELECT deliveries": 1,
    "INSERT deliveries": 1,
    "INSERT complaint_teams": 2,
}


async def _typical_batch_statements(database: Database, consumer: EventConsumer) -> list[Any]:
    """The statements of a typical batch (received, assigned, two clocks per complaint)
    for 2 and for 30 complaints, and the outcome checked for each."""
    counts = []
    for n in (2, 30):
        cids = _new_ids(n)
        with _statements(database) as counted:
            await consumer._process_batch(_typical(cids))  # type: ignore[arg-type]
        counts.append(counted)
        acknowledgements = await _acknowledgements(database)
        assert all(_released(acknowledgements[cid]) for cid in cids)
        # Both upserts wrote every complaint's facts, neither undoing the other's columns.
        facts = (example_for(ComplaintReceived).reference, example_for(ComplaintAssigned).team)
        assert await _facts(database, cids) == dict.fromkeys(cids, (*facts, "agent-li"))
    assert len(await _rows(database)) == 2 * 32  # an acknowledgement and an assignment each
    return counts


async def test_a_typical_batch_costs_one_statement_per_table_on_sqlite(
    sqlite: Database, handlers: dict[type[EventData], Handler], wakes: Wakes
) -> None:
    small, large = await _typical_batch_statements(sqlite, _consumer(sqlite, handlers))
    # Its events, one insert; the acknowledgements to release, one read; its deliveries
    # (released while staged: no UPDATE), one insert; the complaints' facts, one upsert per
    # kind of fact (notify.teams.service).
    assert large == small == TYPICAL_BATCH_STATEMENTS
    assert wakes.count == 2  # once per batch, after its commit


async def test_a_typical_batch_costs_one_statement_per_table_on_postgres(
    postgres_database: NewDatabase, handlers: dict[type[EventData], Handler]
) -> None:
    database = await postgres_database(MIGRATIONS)
    small, large = await _typical_batch_statements(database, _consumer(database, handlers))
    assert large == small == TYPICAL_BATCH_STATEMENTS


async def _releasing_batch_statements(database: Database, consumer: EventConsumer) -> list[Any]:
    """Acknowledgements recorded by an earlier batch, then released by a batch of clock
    starts, duplicate links and closures: one read and one update for the whole batch."""
    counts = []
    for n in (2, 30):
        cids = _new_ids(n)
        await consumer._process_batch([_received(cid) for cid in cids])  # type: ignore[arg-type]
        before = await _acknowledgements(database)
        assert all(_held(before[cid]) for cid in cids)
        linked, closed = cids[0], cids[1]
        batch = [r for cid in cids for r in _clocks(cid)]
        batch += [
            record_of(_of(ComplaintDuplicateLinked, linked), topics.ROUTING),
            record_of(_of(ComplaintClosed, closed, reason="withdrawn"), topics.ROUTING),
        ]
        with _statements(database) as counted:
            await consumer._process_batch(batch)  # type: ignore[arg-type]
        counts.append(counted)
        after = await _acknowledgements(database)
        assert all(_released(after[cid]) for cid in cids)
    return counts


async def test_a_batch_of_releases_reads_and_updates_once_on_sqlite(
    sqlite: Database, handlers: dict[type[EventData], Handler], wakes: Wakes
) -> None:
    small, large = await _releasing_batch_statements(sqlite, _consumer(sqlite, handlers))
    assert (
        large
        == small
        == {
            "INSERT processed_events": 1,
            "SELECT deliveries": 1,  # the acknowledgements of every complaint of the batch
            "UPDATE deliveries": 1,  # one executemany
            "INSERT deliveries": 1,  # the duplicate notice and the withdrawal's notices
        }
    )
    assert wakes.count == 4  # after each of the four batches


async def test_a_batch_of_releases_reads_and_updates_once_on_postgres(
    postgres_database: NewDatabase, handlers: dict[type[EventData], Handler]
) -> None:
    database = await postgres_database(MIGRATIONS)
    small, large = await _releasing_batch_statements(database, _consumer(database, handlers))
    assert (
        large
        == small
        == {
            "INSERT processed_events": 1,
            "SELECT deliveries": 1,
            "UPDATE deliveries": 1,
            "INSERT deliveries": 1,
        }
    )


async def test_the_app_consumes_a_poll_at_once_after_the_preload(
    tmp_path: Path, identity: DevIdentity
) -> None:
    app = create_app(
        NotifySettings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/notify.db",
            **{k.lower(): v for k, v in identity.env("notify").items()},
        )
    )
    [spec] = app.state.runtime._consumer_specs
    assert (spec.apply_batch_at_once, spec.preload) == (True, messaging.preload)
    deps: Dependencies = app.state.dependencies
    await deps.internal_api.aclose()
    await deps.database.dispose()


# -- the same semantics as event by event


async def test_a_clock_before_its_complaint_in_the_batch_leaves_the_acknowledgement_held(
    sqlite: Database, handlers: dict[type[EventData], Handler]
) -> None:
    [cid] = _new_ids(1)
    await _consumer(sqlite, handlers)._process_batch([*_clocks(cid), _received(cid)])  # type: ignore[arg-type]
    assert _held((await _acknowledgements(sqlite))[cid])


async def test_a_redelivered_batch_adds_nothing_and_wakes_no_one(
    sqlite: Database, handlers: dict[type[EventData], Handler], wakes: Wakes
) -> None:
    cids = _new_ids(3)
    batch = [r for cid in cids for r in (_received(cid), _assigned(cid))]
    consumer = _consumer(sqlite, handlers)
    await consumer._process_batch(batch)  # type: ignore[arg-type]
    first = {(r.event_id, r.template, r.delivery_id) for r in await _rows(sqlite)}
    assert (len(first), wakes.count) == (6, 1)

    await consumer._process_batch(batch)  # type: ignore[arg-type]  # processed_events
    # Past processed_events (another group's view of the same events): the unique message
    # key of the one multi-row insert is the second guard, and nothing new wakes no one.
    await _consumer(sqlite, handlers, group="notify-replay")._process_batch(batch)  # type: ignore[arg-type]
    assert {(r.event_id, r.template, r.delivery_id) for r in await _rows(sqlite)} == first
    assert wakes.count == 1


async def test_an_event_twice_in_one_transaction_is_one_message(
    sqlite: Database, handlers: dict[type[EventData], Handler], wakes: Wakes
) -> None:
    # The consumer drops a repeat within a poll; even so, staged twice is recorded once.
    envelope = envelope_of(_received(str(uuid.uuid4())))
    async with sqlite.unit_of_work() as uow:
        for _ in range(2):
            await handlers[ComplaintReceived](uow, envelope)
    assert len(await _rows(sqlite)) == 1
    assert wakes.count == 1


async def test_a_failed_batch_applied_record_by_record_records_each_survivor_once(
    sqlite: Database,
    handlers: dict[type[EventData], Handler],
    wakes: Wakes,
) -> None:
    good, other, poison = _new_ids(3)
    real = handlers[ComplaintReceived]

    async def fails_for_poison(uow: Any, envelope: Envelope) -> None:
        await real(uow, envelope)  # its deliveries are recorded in its savepoint ...
        if envelope.subject == poison:
            raise RuntimeError("poison")  # ... and roll back with it

    table = {**handlers, ComplaintReceived: fails_for_poison}
    producer = FakeProducer()
    consumer = _consumer(sqlite, table, producer=producer)
    batch = [_received(good), *_clocks(good), _received(poison), _assigned(other)]
    await consumer._process_batch(batch)  # type: ignore[arg-type]

    rows = await _rows(sqlite)
    assert sorted((r.complaint_id, r.template) for r in rows) == sorted(
        [(good, "acknowledgement"), (other, "assignment")]
    )
    assert _released((await _acknowledgements(sqlite))[good])  # read, not preloaded
    assert [r.key for r in producer.sent_to("complaints.dlq.notify.v1")] == [poison.encode()]
    assert wakes.count == 1
    async with sqlite.sessions() as session:
        outcomes = Counter(await session.scalars(select(ProcessedEvent.outcome)))
    assert outcomes == {"applied": 4, "dead_lettered": 1}

    # Redelivered after the fallback: nothing more, the dead letter not sent again.
    await consumer._process_batch(batch)  # type: ignore[arg-type]
    assert len(await _rows(sqlite)) == 2
    assert len(producer.sent_to("complaints.dlq.notify.v1")) == 1


async def test_an_erasure_in_the_batch_sees_the_deliveries_staged_before_it(
    sqlite: Database, handlers: dict[type[EventData], Handler]
) -> None:
    erased, kept = _new_ids(2)
    erasure = record_of(
        example_for(ErasureRequested).model_copy(update={"complaint_id": erased}), topics.INTAKE
    )
    # The erasure writes what was staged (both complaints' rows) before it reads the log;
    # the clock of the other complaint, later in the batch, still finds its acknowledgement.
    batch = [_received(erased), _received(kept), erasure, *_clocks(kept), *_clocks(erased)]
    await _consumer(sqlite, handlers)._process_batch(batch)  # type: ignore[arg-type]
    acknowledgements = await _acknowledgements(sqlite)
    assert acknowledgements[erased].status == "skipped"
    assert acknowledgements[erased].context == {}  # erased, and no due time added after
    assert _released(acknowledgements[kept])


async def test_a_staged_acknowledgement_is_released_once_however_often_recorded(
    sqlite: Database,
) -> None:
    # Recorded in an earlier transaction and staged again (the same event): the release
    # counts the one message, not its copy that the insert will drop.
    envelope = envelope_of(_received(str(uuid.uuid4())))
    async with sqlite.unit_of_work() as uow:
        await service.record_deliveries(uow=uow, envelope=envelope, now=utcnow(), ack_wait_s=30)
    async with sqlite.unit_of_work() as uow:
        await service.stage_deliveries(uow=uow, envelope=envelope, now=utcnow(), ack_wait_s=30)
        touched = await releases.release_acknowledgement(
            uow=uow, complaint_id=envelope.subject, now=utcnow()
        )
    assert touched == 1
    [row] = await _rows(sqlite)
    assert row.next_attempt_at - row.created_at < timedelta(seconds=1)


async def test_releases_of_every_kind_in_one_batch_are_one_update(
    sqlite: Database, handlers: dict[type[EventData], Handler]
) -> None:
    # Some acknowledgements only get a due time (the resolution clock), some are only
    # released (a closure), some both: still one executemany, not one per run of alike rows.
    consumer = _consumer(sqlite, handlers)
    cids = _new_ids(24)
    await consumer._process_batch([_received(cid) for cid in cids])  # type: ignore[arg-type]
    kinds = [
        lambda cid: [_started(cid, "resolution")],
        lambda cid: [record_of(_of(ComplaintClosed, cid, reason="withdrawn"), topics.ROUTING)],
        _clocks,
    ]
    batch = [r for n, cid in enumerate(cids) for r in kinds[n % 3](cid)]
    with _statements(sqlite) as counted:
        await consumer._process_batch(batch)  # type: ignore[arg-type]
    assert counted["SELECT deliveries"] == 1
    assert counted["UPDATE deliveries"] == 1
    after = await _acknowledgements(sqlite)
    assert [_held(after[cid]) for cid in cids[:3]] == [True, False, False]
