"""A consumer's batch locks the clocks and complaint rows its handlers will lock up front
(``messaging.preload``): a statement per table whatever the batch's size, and the handlers
then read them from memory. The outcome is the same as without it: the same clocks, rows
and events as the batch applied without a preload, record by record after a failure, and
with complaints sla-watch does not know.

``complaint.assigned`` cost four statements per event before (the complaint's open clocks
locked, its row locked, the row's UPDATE flushed, the UPDATE of its clocks); a batch of them
now costs three locking reads and two UPDATEs (one ``executemany`` per table) in all."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from complaint_contracts import topics
from complaint_contracts.base import EventData
from complaint_contracts.envelope import decode, encode
from complaint_contracts.events import (
    ComplaintAgentReplied,
    ComplaintAssigned,
    ComplaintAwaitingCustomer,
    ComplaintClosed,
    ComplaintDuplicateLinked,
    ComplaintEscalationRequested,
    ComplaintFirstResponseSent,
    ComplaintRecategorized,
    ComplaintResolved,
    ComplaintResumed,
    ComplaintTriaged,
    ComplaintWithdrawn,
    CustomerMessageReceived,
)
from complaint_contracts.examples import example_for
from complaint_contracts.topics import Topic
from complaint_runtime.consumer import EventConsumer, Handler
from complaint_runtime.database import Database, OutboxMessage, ProcessedEvent, UnitOfWork
from complaint_runtime.testing import FakeProducer, FakeRecord, envelope_of
from sla_watch import messaging
from sla_watch.clocks import complaint_facts, next_response
from sla_watch.clocks.settings import ClockSettings
from sla_watch.db import Clock, ComplaintSla
from sla_watch.main import MIGRATIONS
from sla_watch.policies.terms_source import StaticTerms
from sqlalchemy import event, select

NewMigratedSqlite = Any  # the root conftest's migrated_sqlite

# In the past, so that what the handlers fire (thresholds reached by a stop) is late in
# every run alike.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
SETTINGS = ClockSettings(
    terms=StaticTerms(
        first_response={"P1": 3_600, "P2": 7_200, "P3": 14_400, "P4": 28_800},
        resolution={"P1": 86_400, "P2": 172_800, "P3": 259_200, "P4": 345_600},
        next_response={"P1": 1_800, "P2": 3_600, "P3": 7_200, "P4": 14_400},
    )
)
_offsets = itertools.count()
_complaints = itertools.count(1)


def complaint() -> str:
    return f"0195f3c2-7a10-7c4e-9b2d-{next(_complaints):012d}"


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def record(data: EventData, *, at: datetime = T0, topic: Topic = topics.ROUTING) -> FakeRecord:
    complaint_id = str(getattr(data, "complaint_id"))  # noqa: B009 (every event here has one)
    _, kafka = encode(data, topic=topic.name, source=topic.producer, subject=complaint_id, time=at)
    return FakeRecord(topic.name, 0, next(_offsets), kafka.key, kafka.value, list(kafka.headers))


def triaged(complaint_id: str, priority: str = "P3") -> EventData:
    return example_for(ComplaintTriaged).model_copy(
        update={"complaint_id": complaint_id, "priority": priority}
    )


def assigned(complaint_id: str, team: str, **more: object) -> EventData:
    return example_for(ComplaintAssigned).model_copy(
        update={"complaint_id": complaint_id, "team": team, **more}
    )


def message(complaint_id: str, message_id: str, at: datetime) -> FakeRecord:
    data = example_for(CustomerMessageReceived).model_copy(
        update={"complaint_id": complaint_id, "message_id": message_id, "received_at": at}
    )
    return record(data, at=at, topic=topics.INTAKE)


def of(model: type[EventData], complaint_id: str, **fields: object) -> EventData:
    return example_for(model).model_copy(update={"complaint_id": complaint_id, **fields})


def consumer(
    database: Database,
    *,
    preload: bool = True,
    handlers: dict[type[EventData], Handler] | None = None,
) -> EventConsumer:
    """sla-watch's consumer as ``main`` declares it (without its preload when asked)."""
    return EventConsumer(
        database=database,
        bootstrap_servers="127.0.0.1:1",  # run() is never called: batches are fed directly
        group_id="sla-watch",
        topics=[topics.ROUTING.name, topics.INTAKE.name],
        handlers=handlers or messaging.handlers(SETTINGS),
        dead_letter_topic="complaints.dlq.sla-watch.v1",
        producer=FakeProducer(),
        apply_batch_at_once=True,
        preload=messaging.preload if preload else None,
        retry_backoff_s=0,
    )


async def apply(database: Database, records: list[FakeRecord], *, preload: bool = True) -> None:
    await consumer(database, preload=preload)._process_batch(records)


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile (an ``executemany`` counts once),
    but the audit chain's: two per transaction that emitted events, whatever the batch's
    size (complaint_runtime's audit tests)."""
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "audit_chain" not in statement:
            seen.append(" ".join(statement.split()))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def starting(seen: list[str], *words: str) -> list[str]:
    return [s for s in seen if s.startswith(" ".join(words))]


@dataclass(frozen=True)
class State:
    clocks: list[tuple[Any, ...]]
    rows: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    processed: set[tuple[str, str]]


async def state(database: Database) -> State:
    """What the database holds, clock ids (random) replaced by what names a clock."""
    async with database.sessions() as session:
        clocks = list(await session.scalars(select(Clock)))
        rows = list(await session.scalars(select(ComplaintSla)))
        outbox = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        processed = list(await session.scalars(select(ProcessedEvent)))
    name = {
        c.clock_id: (c.complaint_id, c.metric, c.message_id or "", c.started_at.isoformat())
        for c in clocks
    }
    events = []
    for row in outbox:
        envelope = decode(row.key, row.value, [(n, v.encode()) for n, v in row.headers])
        data = envelope.data.model_dump(mode="json")
        if data.get("clock_id"):
            data["clock_id"] = str(name[data["clock_id"]])
        events.append(
            (envelope.subject, envelope.type, envelope.causation_id, sorted(data.items()))
        )
    return State(
        clocks=sorted(
            (
                name[c.clock_id],
                c.state,
                c.team,
                c.priority,
                c.category,
                c.policy_id,
                c.target_seconds,
                c.due_at,
                c.paused_at,
                c.paused_seconds,
                c.pauses,
                c.fired_percents,
                c.breached,
                c.next_fire_at,
                c.stopped_at,
                c.outcome,
            )
            for c in clocks
        ),
        rows=sorted(
            (
                r.complaint_id,
                r.priority,
                r.category,
                r.tier,
                r.channel,
                r.team,
                r.escalation_level,
                r.last_agent_reply_at,
            )
            for r in rows
        ),
        events=events,
        processed={(p.event_id, p.outcome) for p in processed},
    )


@pytest.fixture
async def databases(migrated_sqlite: NewMigratedSqlite) -> AsyncIterator[tuple[Database, Database]]:
    """Two databases alike: one applies batches with the preload, one without."""
    pair = (
        Database(await migrated_sqlite(MIGRATIONS)),
        Database(await migrated_sqlite(MIGRATIONS)),
    )
    yield pair
    for database in pair:
        await database.dispose()


async def both(pair: tuple[Database, Database], records: list[FakeRecord]) -> None:
    await apply(pair[0], records)
    await apply(pair[1], records, preload=False)


async def test_a_batch_of_assignments_costs_the_same_statements_whatever_its_size(
    databases: tuple[Database, Database],
) -> None:
    database = databases[0]
    sizes: dict[int, list[str]] = {}
    for size in (3, 12):
        ids = [complaint() for _ in range(size)]
        await apply(database, [record(triaged(cid)) for cid in ids])
        # One complaint's resolution clock is stopped: it gets the team too.
        await apply(database, [record(of(ComplaintResolved, ids[0], resolved_at=minutes(5)))])
        unknown = complaint()  # a complaint sla-watch never armed: ignored
        batch = [record(assigned(cid, f"team-{size}")) for cid in [*ids, unknown]]
        with statements(database) as seen:
            await apply(database, batch)
        sizes[size] = seen
        async with database.sessions() as session:
            on_clocks = {
                (c.complaint_id, c.metric, c.state): c.team
                for c in await session.scalars(select(Clock).where(Clock.complaint_id.in_(ids)))
            }
            rows = {
                r.complaint_id: r.team
                for r in await session.scalars(
                    select(ComplaintSla).where(ComplaintSla.complaint_id.in_([*ids, unknown]))
                )
            }
        assert len(on_clocks) == 2 * size
        assert set(on_clocks.values()) == {f"team-{size}"}
        assert (ids[0], "resolution", "stopped") in on_clocks
        assert rows == dict.fromkeys(ids, f"team-{size}")  # none made up for the unknown one
    small, large = sizes[3], sizes[12]
    assert len(small) == len(large) == 7
    for seen in (small, large):
        # The open clocks, the rows, then every clock of the complaints with a row.
        assert len(starting(seen, "SELECT clocks")) == 2
        assert len(starting(seen, "SELECT complaint_sla")) == 1
        assert len(starting(seen, "UPDATE complaint_sla")) == 1
        assert len(starting(seen, "UPDATE clocks SET team")) == 1
        # The rest: BEGIN and the batch's processed_events.


async def test_without_the_preload_each_assignment_costs_four_statements(
    databases: tuple[Database, Database],
) -> None:
    """What the preload saves (the same batch as above, applied as before it)."""
    database = databases[1]
    ids = [complaint() for _ in range(5)]
    await apply(database, [record(triaged(cid)) for cid in ids], preload=False)
    with statements(database) as seen:
        await apply(database, [record(assigned(cid, "t")) for cid in ids], preload=False)
    assert len(seen) == 2 + 4 * len(ids)


async def test_complaints_triaged_and_assigned_in_one_batch_lock_in_two_statements(
    databases: tuple[Database, Database],
) -> None:
    ids = [complaint() for _ in range(6)]
    batch = [record(data) for cid in ids for data in (triaged(cid), assigned(cid, "billing"))]
    with statements(databases[0]) as seen:
        await both(databases, batch)
    assert len(starting(seen, "SELECT")) == 2  # the (no) clocks, the (no) rows
    assert starting(seen, "UPDATE clocks") == []  # the team goes into the clocks' INSERT
    assert len(starting(seen, "INSERT INTO complaint_sla")) == len(ids)  # each claim
    with_preload, without = await state(databases[0]), await state(databases[1])
    assert with_preload == without
    assert {c[2] for c in with_preload.clocks} == {"billing"}
    assert len(with_preload.clocks) == 2 * len(ids)


def teams(after: State) -> dict[str, set[str]]:
    """The teams on each complaint's clocks."""
    found: dict[str, set[str]] = {}
    for clock in after.clocks:
        found.setdefault(clock[0][0], set()).add(clock[2])
    return found


def _lifecycle(a: str, b: str, c: str, d: str, e: str, f: str) -> list[FakeRecord]:
    """Every event type sla-watch consumes, several per complaint, in one batch."""
    return [
        # a: the whole lifecycle, a hand-off and a recategorization included.
        record(assigned(a, "billing")),
        message(a, "m1", minutes(10)),
        record(of(ComplaintFirstResponseSent, a, responded_at=minutes(20))),
        message(a, "m2", minutes(30)),
        record(of(ComplaintAwaitingCustomer, a, since=minutes(40))),
        record(of(ComplaintResumed, a, resumed_at=minutes(50))),
        record(assigned(a, "quality", handoff=True, previous_team="billing")),
        record(
            of(ComplaintRecategorized, a, old_priority="P3", new_priority="P2", reason="lead"),
            at=minutes(60),
        ),
        record(of(ComplaintEscalationRequested, a, level=2)),
        record(of(ComplaintAgentReplied, a, replied_at=minutes(70))),
        record(of(ComplaintResolved, a, resolved_at=minutes(120))),
        record(of(ComplaintClosed, a, closed_at=minutes(180))),
        # b: triaged in the batch, then everything else.
        record(triaged(b), at=minutes(5)),
        record(assigned(b, "billing")),
        message(b, "m1", minutes(15)),
        record(
            of(
                ComplaintRecategorized,
                b,
                old_priority="P3",
                new_priority="P3",
                old_category="billing_refund",
                new_category="privacy_data_leak",
                reason="lead",
            ),
            at=minutes(25),
        ),
        record(of(ComplaintAwaitingCustomer, b, since=minutes(35))),
        # c: resolved before the batch; its stopped clock gets the team, a reopen restarts it.
        record(assigned(c, "claims")),
        record(
            of(ComplaintRecategorized, c, old_priority="P2", new_priority="P2"),
            at=minutes(240),
        ),
        record(assigned(c, "claims-2")),
        # d: never triaged: every event of it is ignored.
        record(assigned(d, "billing")),
        message(d, "m1", minutes(10)),
        record(of(ComplaintEscalationRequested, d, level=1)),
        record(of(ComplaintResolved, d, resolved_at=minutes(20))),
        # e: a duplicate; f: assigned twice in the batch, paused before it.
        record(of(ComplaintDuplicateLinked, e), at=minutes(60)),
        record(assigned(e, "x")),
        record(assigned(f, "t1")),
        record(of(ComplaintResumed, f, resumed_at=minutes(90))),
        record(assigned(f, "t2", handoff=True)),
        record(of(ComplaintFirstResponseSent, f, responded_at=minutes(95))),
    ]


async def test_a_batch_of_every_event_type_ends_as_without_the_preload(
    databases: tuple[Database, Database],
) -> None:
    a, b, c, d, e, f = (complaint() for _ in range(6))
    before = [
        record(triaged(a)),
        record(triaged(c, "P2")),
        record(of(ComplaintResolved, c, resolved_at=minutes(60))),
        record(triaged(e, "P4")),
        record(triaged(f, "P1")),
        record(of(ComplaintAwaitingCustomer, f, since=minutes(30))),
    ]
    for each in before:
        await both(databases, [each])
    batch = _lifecycle(a, b, c, d, e, f)
    with statements(databases[0]) as seen:
        await both(databases, batch)
    # The batch's three locking reads; then only what no event locked: the manual
    # escalation of a complaint without a row looks for a clock, and a breach (f's P1
    # first-response clock, stopped) locks the complaint's row and counts its breaches.
    assert len(starting(seen, "SELECT")) == 3 + 3
    with_preload, without = await state(databases[0]), await state(databases[1])
    assert with_preload == without
    # What the batch did, to be sure it did something.
    assert {event[0] for event in with_preload.events} == {a, b, c, e, f}
    assert teams(with_preload) == {
        a: {"quality"},
        b: {"billing"},
        c: {"claims-2"},
        e: {"x"},
        f: {"t2"},
    }
    assert {row[0]: row[5] for row in with_preload.rows} == {
        a: "quality",
        b: "billing",
        c: "claims-2",
        e: "x",
        f: "t2",
    }
    assert {row[0]: row[6] for row in with_preload.rows}[a] == 2
    assert len(with_preload.processed) == len(batch) + len(before)
    assert {event[1].split(".", 2)[2].rsplit(".", 1)[0] for event in with_preload.events} == {
        "sla.clock_started",
        "sla.clock_paused",
        "sla.clock_resumed",
        "sla.clock_rescheduled",
        "sla.clock_stopped",
        "sla.warning",
        "sla.breached",
        "complaint.escalated",
    }


async def test_a_failing_batch_is_applied_record_by_record_as_before(
    databases: tuple[Database, Database],
) -> None:
    """The batch at once fails after its preload: rolled back, then applied record by
    record (no preload) to the same outcome, the failing record dead-lettered alone."""

    async def failing(_uow: UnitOfWork, _envelope: Any) -> None:
        raise ValueError("cannot apply this one")

    handlers: dict[type[EventData], Handler] = {
        **messaging.handlers(SETTINGS),
        ComplaintWithdrawn: failing,
    }
    a, b = complaint(), complaint()
    for each in (record(triaged(a)), record(triaged(b, "P2"))):
        await both(databases, [each])
    poison = record(of(ComplaintWithdrawn, a), topic=topics.INTAKE)
    batch = [
        record(assigned(a, "billing")),
        message(a, "m1", minutes(10)),
        poison,
        record(assigned(b, "claims")),
        record(of(ComplaintFirstResponseSent, a, responded_at=minutes(20))),
    ]
    preloads: list[int] = []

    async def counted_preload(uow: UnitOfWork, envelopes: Any) -> None:
        preloads.append(len(envelopes))
        await messaging.preload(uow, envelopes)

    with_preload = consumer(databases[0], handlers=handlers)
    with_preload._preload = counted_preload
    await with_preload._process_batch(batch)
    assert preloads == [len(batch)]  # it ran, then the batch failed
    await consumer(databases[1], handlers=handlers, preload=False)._process_batch(batch)
    after, expected = await state(databases[0]), await state(databases[1])
    assert after == expected
    assert (envelope_of(poison).id, "dead_lettered") in after.processed
    assert teams(after) == {a: {"billing"}, b: {"claims"}}
    assert (a, "next_response", "m1") in {clock[0][:3] for clock in after.clocks}
    assert {row[0]: row[5] for row in after.rows} == {a: "billing", b: "claims"}


async def test_a_rolled_back_savepoint_makes_the_handlers_read_again(
    databases: tuple[Database, Database],
) -> None:
    """Were a batch preloaded in the savepoints of record by record: a record rolled back
    expires what the session held, and the next records read the database again (a clock
    the rolled-back record started is not stopped by a reply: it never was)."""
    database = databases[0]
    cid = complaint()
    await apply(database, [record(triaged(cid))])
    assignment = envelope_of(record(assigned(cid, "billing")))
    async with database.unit_of_work() as uow:
        await messaging.preload(uow, [assignment])
        with pytest.raises(LookupError):
            async with uow.session.begin_nested():
                started = await next_response.start_next_response(
                    uow=uow, settings=SETTINGS, complaint_id=cid, message_id="m1", at=minutes(10)
                )
                assert started is not None
                await uow.session.flush()
                raise LookupError("the record fails after its clock was flushed")
        with statements(database) as seen:
            assert await complaint_facts.set_team(uow=uow, complaint_id=cid, team="billing")
            stopped = await next_response.record_agent_reply(
                uow=uow, settings=SETTINGS, complaint_id=cid, at=minutes(20), reason="reply"
            )
        assert stopped == []
        assert starting(seen, "SELECT clocks")  # read again
    after = await state(database)
    assert [clock[0][1] for clock in after.clocks] == ["first_response", "resolution"]
    assert {clock[2] for clock in after.clocks} == {"billing"}
    assert [e[1].rsplit(".", 2)[-2] for e in after.events] == ["clock_started", "clock_started"]
