"""What a group commit writes: one multi-row INSERT per table for the whole group (complaints,
then their history, then the outbox), the same rows the ORM wrote, and nothing of a request
that failed while the others of its group are committed. Each case runs on SQLite (``make
up``) and on the suite's PostgreSQL (production: asyncpg)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from complaint_runtime.context import caused_by
from complaint_runtime.database import Database, UnitOfWork
from cryptography.fernet import Fernet, MultiFernet
from intake.complaints import service
from intake.complaints.domain.customers import identify
from intake.complaints.domain.references import reference_day
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.domain.submissions import Attachment, CustomerDetails, NewComplaint
from intake.complaints.domain.tracking import hash_token
from intake.complaints.group_commit import GroupCommitter
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.db import Base, StagedRows
from intake.main import MIGRATIONS
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]
NewMigratedSqlite = Callable[[Path], Awaitable[str]]

SECRETS = Secrets.from_settings(
    contact_encryption_key=Fernet.generate_key().decode(),
    customer_ref_key="ref-key-for-intake-tests-0123456789abcdef",
)
NOW = datetime(2026, 11, 23, 8, 30, 15, 123456, tzinfo=UTC)
BASE_URL = "https://intake.example.org"
FRONT_END = "web-shop"  # the complaints' front end, whose customer ids they are
# Complaints that leave different columns empty: the rows of one INSERT must still agree.
COMPLAINTS = (
    NewComplaint(
        channel="web",
        customer=CustomerDetails(
            identity="CRM-7", name="Zhang Wei", phone="+8613812345678", email="zw@example.com"
        ),
        subject="Refund missing",
        description="I returned the order a month ago.",
        order_ref="ORD-1",
        occurred_at=datetime(2026, 11, 20, 12, tzinfo=UTC),
        attachments=(Attachment("https://files.example.com/r.jpg", "image/jpeg", 1),),
        metadata={"campaign": "double-11"},
        timezone="Europe/Berlin",
    ),
    NewComplaint(
        channel="app",
        customer=CustomerDetails(identity=None, phone="13912345678", language="en", tier="vip"),
        subject="Late delivery",
        description="Call me on 13912345678.",
    ),
    NewComplaint(
        channel="email",
        customer=CustomerDetails(
            identity=None, email="li@example.com", preferred_channel="email", tier="gold"
        ),
        subject="Broken item",
        description="It arrived broken.",
        metadata={"a": "1", "b": "2"},
    ),
)


class Databases:
    """Fresh databases of one kind, migrated by intake's own scripts."""

    def __init__(self, make: Callable[[], Awaitable[Database]]):
        self._make = make
        self.made: list[Database] = []

    async def new(self) -> Database:
        database = await self._make()
        self.made.append(database)
        return database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.db)])
def databases(request: pytest.FixtureRequest) -> Databases:
    if request.param == "postgres":
        postgres_database: NewPostgresDatabase = request.getfixturevalue("postgres_database")
        return Databases(lambda: postgres_database(MIGRATIONS))
    migrated_sqlite: NewMigratedSqlite = request.getfixturevalue("migrated_sqlite")

    async def make() -> Database:
        return Database(await migrated_sqlite(MIGRATIONS))

    return Databases(make)


@pytest.fixture
async def database(databases: Databases) -> Any:
    yield await databases.new()
    for made in databases.made:
        if not made.is_postgres:  # PostgreSQL's are disposed of by their fixture
            await made.dispose()


def _staging(complaint: NewComplaint, reference: str, secrets_: Secrets = SECRETS) -> Any:
    """A group member as ``submit_complaint`` makes it (without an Idempotency-Key)."""

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        return service.stage_complaint(
            uow,
            StagedRows.of(uow.session),
            complaint,
            secrets_=secrets_,
            public_base_url=BASE_URL,
            now=NOW,
            reference=reference,
            front_end=FRONT_END,
            id_namespace=FRONT_END,
        )

    return work


def _reference(n: int) -> str:
    return f"C-20261123-{n:06d}"


@contextmanager
def _statements(database: Database) -> Iterator[list[tuple[str, bool]]]:
    """The statements the engine sends meanwhile, with whether each is an executemany;
    COMMIT as a statement of its own."""
    seen: list[tuple[str, bool]] = []
    engine = database.engine.sync_engine

    def on_execute(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, many: bool) -> None:
        seen.append((" ".join(statement.split()), many))

    def on_commit(_connection: Any) -> None:
        seen.append(("COMMIT", False))

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)


def _inserts(seen: list[tuple[str, bool]]) -> list[str]:
    return [s.split(" (")[0] for s, _ in seen if s.startswith("INSERT") or s == "COMMIT"]


async def _rows(database: Database, table: str, order: str) -> list[dict[str, Any]]:
    """Every row of ``table`` with every column, as the column types read them back."""
    columns = Base.metadata.tables[table]
    async with database.sessions() as session:
        result = await session.execute(select(columns).order_by(columns.c[order]))
        return [dict(r) for r in result.mappings()]


async def _count(database: Database, table: str) -> int:
    columns = Base.metadata.tables[table]
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(columns)) or 0)


async def test_a_group_writes_one_insert_per_table_in_foreign_key_order(
    database: Database,
) -> None:
    references = ReferenceAllocator(database, block_size=100)
    # The day's block is reserved before the statements are counted.
    await references.next_number(reference_day(datetime.now(UTC)))
    writer = GroupCommitter(database)
    size = 30

    def submit(n: int) -> Awaitable[service.SubmissionResult]:
        return service.submit_complaint(
            database=database,
            secrets_=SECRETS,
            references=references,
            writer=writer,
            submission=service.Submission(COMPLAINTS[n % 3], 1, None, "hash"),
            public_base_url=BASE_URL,
        )

    with _statements(database) as seen:
        results = await asyncio.gather(*(submit(n) for n in range(size)))
    assert _inserts(seen) == [
        "INSERT INTO complaints",
        "INSERT INTO complaint_history",
        "INSERT INTO outbox_messages",
        "INSERT INTO audit_chain",  # one link for the whole group, not one per complaint
        "COMMIT",
    ]
    inserts = [(s, many) for s, many in seen if s.startswith("INSERT")]
    rows = [(s, many) for s, many in inserts if "audit_chain" not in s]
    assert all(many for _, many in rows)  # one statement, the group's rows
    assert not any("RETURNING" in s for s, _ in inserts)  # no ORM: nothing read back
    assert len({r.body["reference"] for r in results}) == size
    for table in ("complaints", "complaint_history", "outbox_messages"):
        assert await _count(database, table) == size


class _PlainFernet:
    """Encrypts by labelling, so that two runs store the same bytes."""

    def encrypt(self, value: bytes) -> bytes:
        return b"enc:" + value

    def decrypt(self, value: bytes) -> bytes:
        return value.removeprefix(b"enc:")


@pytest.fixture
def repeatable(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Secrets]:
    """Complaint ids and tracking tokens from counters (reset by each call) and an
    encryption without a random IV: the rows of two runs can be compared column by column."""

    def reset() -> Secrets:
        ids = itertools.count(1)
        tokens = itertools.count(1)
        monkeypatch.setattr(
            service.uuid_utils, "uuid7", lambda: f"00000000-0000-7000-8000-{next(ids):012d}"
        )
        monkeypatch.setattr(service, "new_tracking_token", lambda: f"token-{next(tokens)}")
        plain = _PlainFernet()
        return Secrets(cast(MultiFernet, plain), cast(Fernet, plain), b"ref-key")

    return reset


def _comparable(rows: list[dict[str, Any]], event_ids: dict[str, int]) -> list[dict[str, Any]]:
    """Rows without what differs from run to run by design: the event id (numbered in
    order, in the headers too), the time an outbox row was staged and its CloudEvent's
    time."""
    out = []
    for row in rows:
        row = dict(row)
        if "event_id" in row:
            row["event_id"] = event_ids.setdefault(row["event_id"], len(event_ids))
        if "headers" in row:
            ce_id = dict(row["headers"])["ce_id"]
            row["headers"] = [
                [name, "<ce_id>" if value == ce_id else value]
                for name, value in row["headers"]
                if name != "ce_time"
            ]
            row.pop("created_at")
        out.append(row)
    return out


async def _snapshot(database: Database) -> dict[str, list[dict[str, Any]]]:
    event_ids: dict[str, int] = {}
    outbox = await _rows(database, "outbox_messages", "id")
    return {
        "outbox_messages": _comparable(outbox, event_ids),
        "complaints": _comparable(await _rows(database, "complaints", "reference"), event_ids),
        "complaint_history": _comparable(
            await _rows(database, "complaint_history", "id"), event_ids
        ),
    }


async def test_the_group_stores_the_rows_the_orm_stored(
    databases: Databases, database: Database, repeatable: Callable[[], Secrets]
) -> None:
    """The same complaints, once as the ORM objects of one transaction (``store_complaint``,
    the way every complaint was stored before), once as one group's multi-row INSERTs, into
    two databases of the same kind: every column of every row is the same."""
    by_orm = await databases.new()
    complaints = list(zip(map(_reference, range(1, 7)), COMPLAINTS * 2, strict=True))
    secrets_ = repeatable()
    with caused_by(correlation_id="request-1", causation_id=None):
        async with by_orm.unit_of_work() as uow:
            orm_bodies = [
                service.store_complaint(
                    uow,
                    c,
                    secrets_=secrets_,
                    public_base_url=BASE_URL,
                    now=NOW,
                    reference=r,
                    front_end=FRONT_END,
                    id_namespace=FRONT_END,
                )
                for r, c in complaints
            ]
        secrets_ = repeatable()
        writer = GroupCommitter(database)
        group_bodies = await asyncio.gather(
            *(writer.write(_staging(c, r, secrets_)) for r, c in complaints)
        )
    assert group_bodies == orm_bodies
    assert await _snapshot(database) == await _snapshot(by_orm)


async def test_every_column_of_a_group_committed_complaint(database: Database) -> None:
    writer = GroupCommitter(database)
    body = await writer.write(_staging(COMPLAINTS[0], _reference(1)))
    [row] = await _rows(database, "complaints", "id")
    [history] = await _rows(database, "complaint_history", "id")
    [outbox] = await _rows(database, "outbox_messages", "id")
    token = body["tracking_token"]
    encrypted = {k: row.pop(k) for k in list(row) if k.endswith("_enc")}
    assert {k: SECRETS.decrypt(v) for k, v in encrypted.items()} == {
        "customer_name_enc": "Zhang Wei",
        "phone_enc": "+8613812345678",
        "email_enc": "zw@example.com",
        "tracking_token_enc": token,
    }
    identity = identify(
        SECRETS.ref_key,
        customer_id="CRM-7",
        phone="+8613812345678",
        email="zw@example.com",
        id_namespace=FRONT_END,
    )
    assert row == {
        "id": body["id"],
        "reference": _reference(1),
        "channel": "web",
        "status": "received",
        "subject": "Refund missing",
        "description": "I returned the order a month ago.",
        "order_ref": "ORD-1",
        "occurred_at": datetime(2026, 11, 20, 12, tzinfo=UTC),
        "received_at": NOW,
        "updated_at": NOW,
        "attachments": [
            {"url": "https://files.example.com/r.jpg", "media_type": "image/jpeg", "size": 1}
        ],
        "metadata": {"campaign": "double-11"},
        "customer_ref": identity.customer_ref,
        "customer_id": "CRM-7",
        "phone_hash": identity.phone_hash,
        "email_hash": identity.email_hash,
        "masked_phone": identity.masked_phone,
        "masked_email": identity.masked_email,
        "tier": "standard",
        "language": "zh-CN",
        "preferred_channel": None,
        "tracking_token_hash": hash_token(token),
        "status_at": NOW,
        "category": None,
        "subcategory": None,
        "priority": None,
        "emotion": None,
        "team": None,
        "assignee": None,
        "escalation_level": 0,
        "duplicate_of": None,
        "duplicate_of_reference": None,
        "repeat_count": 0,
        "closed_at": None,
        "close_reason": None,
        "related_complaint_id": None,
        "timezone": "Europe/Berlin",
        "front_end": FRONT_END,
    }
    assert history == {
        "id": history["id"],
        "complaint_id": body["id"],
        "event_id": dict(outbox["headers"])["ce_id"],
        "event_type": "org.opencomplaints.complaint.received.v1",
        "source": "intake",
        "occurred_at": NOW,
        "data": {"reference": _reference(1), "channel": "web"},
    }
    assert outbox["key"] == body["id"].encode()
    assert outbox["topic"] == "complaints.intake.v1"
    assert json.loads(outbox["value"])["reference"] == _reference(1)


async def test_a_member_whose_row_fails_is_refused_alone_and_the_rest_commit(
    database: Database,
) -> None:
    """A duplicate reference fails the group's INSERT: the group is rolled back whole and
    its members are written one by one, so only the duplicate fails, and every committed
    complaint has its history row and its event."""
    writer = GroupCommitter(database)
    await writer.write(_staging(COMPLAINTS[0], _reference(1)))
    references = [_reference(n) for n in (2, 3, 1, 4, 5)]  # the third is taken
    with _statements(database) as seen:
        outcomes = await asyncio.gather(
            *(writer.write(_staging(COMPLAINTS[1], r)) for r in references),
            return_exceptions=True,
        )
    assert isinstance(outcomes[2], IntegrityError)
    accepted = [o for o in outcomes if isinstance(o, dict)]
    assert [o["reference"] for o in accepted] == [_reference(n) for n in (2, 3, 4, 5)]
    # The group's INSERT failed and rolled back, then each member alone: 4 commits.
    inserts = _inserts(seen)
    assert inserts[:2] == ["INSERT INTO complaints", "INSERT INTO complaints"]
    assert inserts.count("COMMIT") == 4
    await _assert_whole(database, {o["id"] for o in accepted} | {(await _first_id(database))})


async def test_a_member_that_fails_after_staging_leaves_nothing(database: Database) -> None:
    writer = GroupCommitter(database)

    async def stages_then_fails(uow: UnitOfWork) -> dict[str, Any]:
        await _staging(COMPLAINTS[2], _reference(9))(uow)
        raise ValueError("after staging")

    outcomes = await asyncio.gather(
        writer.write(_staging(COMPLAINTS[0], _reference(1))),
        writer.write(stages_then_fails),
        writer.write(_staging(COMPLAINTS[1], _reference(2))),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], ValueError)
    ok = [o for o in outcomes if isinstance(o, dict)]
    assert [o["reference"] for o in ok] == [_reference(1), _reference(2)]
    await _assert_whole(database, {o["id"] for o in ok})


async def _first_id(database: Database) -> str:
    rows = await _rows(database, "complaints", "reference")
    return str(rows[0]["id"])


async def _assert_whole(database: Database, ids: set[str]) -> None:
    """Exactly these complaints are stored, each with its history row and its event."""
    complaints = {r["id"] for r in await _rows(database, "complaints", "id")}
    history = [r["complaint_id"] for r in await _rows(database, "complaint_history", "id")]
    events = [r["key"].decode() for r in await _rows(database, "outbox_messages", "id")]
    assert complaints == ids
    assert sorted(history) == sorted(ids)
    assert sorted(events) == sorted(ids)


async def test_staging_outside_a_writer_is_refused(database: Database) -> None:
    async with database.unit_of_work() as uow:
        with pytest.raises(RuntimeError, match=r"StagedRows\.open"):
            StagedRows.of(uow.session)
