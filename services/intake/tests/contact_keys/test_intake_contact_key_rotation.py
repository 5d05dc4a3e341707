"""Rotating the contact key: values written under key A, the service configured with "B,A",
``intake-admin rotate-contact-key`` run, and then B alone decrypts everything (complaints'
contacts and tracking tokens, lost-link codes, the answers kept for Idempotency-Keys). The
command is idempotent, resumable and refuses a value it cannot read, on SQLite (through the
command itself) and on PostgreSQL (keyset batches over a composite key, bytea compare-and-set)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from complaint_runtime.database import Database, LargeBinary
from cryptography.fernet import Fernet
from intake.cli import main
from intake.complaints import service
from intake.complaints.db import IdempotencyRecord
from intake.complaints.domain.secret_keys import Secrets
from intake.complaints.domain.submissions import CustomerDetails, NewComplaint
from intake.complaints.group_commit import GroupCommitter
from intake.complaints.reference_blocks import ReferenceAllocator
from intake.contact_keys.db import SEALED_TABLES, Rewrite, SealedRows
from intake.contact_keys.service import UnreadableValue, rotate_contact_key
from intake.db import Base, Complaint
from intake.main import MIGRATIONS
from intake.recovery.db import TrackingCode
from sqlalchemy import select, update

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]
NewMigratedSqlite = Callable[[Path], Awaitable[str]]

REF_KEY = "ref-key-for-intake-rotation-tests-0123456789"
KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
UNDER_A = Secrets.from_settings(contact_encryption_key=KEY_A, customer_ref_key=REF_KEY)
ONLY_B = Secrets.from_settings(contact_encryption_key=KEY_B, customer_ref_key=REF_KEY)
PEOPLE = [("张伟", "+8613812345678", "zw@example.com"), ("Li Na", None, "li@example.com")]


async def _write_under_a(database: Database) -> None:
    """Two complaints (with Idempotency-Keys: two stored answers) and a lost-link code."""
    for n, (name, phone, email) in enumerate(PEOPLE):
        complaint = NewComplaint(
            channel="web",
            customer=CustomerDetails(identity=f"CRM-{n}", name=name, phone=phone, email=email),
            subject="Refund missing",
            description="The refund has not arrived.",
        )
        await service.submit_complaint(
            database=database,
            secrets_=UNDER_A,
            references=ReferenceAllocator(database),
            writer=GroupCommitter(database),
            submission=service.Submission(complaint, 1, f"key-{n}", f"hash-{n}"),
            public_base_url="http://intake",
        )
    now = datetime.now(UTC)
    async with database.unit_of_work() as uow:
        complaint_id = (await uow.session.scalars(select(Complaint.id).limit(1))).one()
        uow.session.add(
            TrackingCode(
                request_id="r-1",
                flow_hash="f" * 64,
                complaint_id=complaint_id,
                code_hash="h" * 64,
                code_enc=UNDER_A.seal("123456"),
                created_at=now,
                expires_at=now + timedelta(minutes=15),
                attempts=0,
            )
        )


async def _everything_readable_with(database: Database, secrets_: Secrets) -> None:
    """Every encrypted value decrypts with ``secrets_`` (InvalidToken otherwise)."""
    async with database.sessions() as session:
        complaints = (await session.scalars(select(Complaint).order_by(Complaint.email_enc))).all()
        codes = (await session.scalars(select(TrackingCode))).all()
        answers = (await session.scalars(select(IdempotencyRecord))).all()
    contacts = {
        (secrets_.decrypt(c.customer_name_enc), secrets_.decrypt(c.phone_enc)) for c in complaints
    }
    assert contacts == {(name, phone) for name, phone, _ in PEOPLE}
    assert all(secrets_.decrypt(c.tracking_token_enc) for c in complaints)
    assert [secrets_.decrypt(code.code_enc) for code in codes] == ["123456"]
    assert len(answers) == 2
    for answer in answers:
        body = json.loads(secrets_.unseal(answer.response["sealed"].encode()))
        assert body["tracking_token"]


def test_every_encrypted_column_is_rotated() -> None:
    """A new ``*_enc`` column (or any binary column) must be listed, else a rotation would
    leave it under the old key and removing that key would lose it."""
    listed = {(s.name, column) for s in SEALED_TABLES for column in s.columns}
    binary = {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, LargeBinary) and table.name != "outbox_messages"
    }
    assert binary == listed


def test_the_command_rotates_everything_to_the_new_key(
    migrated_sqlite: NewMigratedSqlite,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = asyncio.run(migrated_sqlite(MIGRATIONS))
    asyncio.run(_with(url, _write_under_a))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CONTACT_ENCRYPTION_KEY", f"{KEY_B},{KEY_A}")
    monkeypatch.setenv("CUSTOMER_REF_KEY", REF_KEY)

    assert main(["rotate-contact-key", "--batch-size", "1"]) == 0

    out = capsys.readouterr().out
    assert "complaints: 1 rows read" in out  # batch by batch
    assert "complaints: 2 rows read, 7 encrypted values, 7 re-encrypted" in out
    assert "tracking_codes: 1 rows read, 1 encrypted values, 1 re-encrypted" in out
    assert "idempotency_keys: 2 rows read, 2 encrypted values, 2 re-encrypted" in out
    assert "done: 10 value(s) re-encrypted" in out
    asyncio.run(_with(url, lambda db: _everything_readable_with(db, ONLY_B)))

    # Idempotent: a second run (after an interruption, say) rewrites nothing.
    assert main(["rotate-contact-key"]) == 0
    assert "done: 0 value(s) re-encrypted" in capsys.readouterr().out


def test_a_value_under_no_configured_key_stops_the_run_and_keeps_its_batch(
    migrated_sqlite: NewMigratedSqlite,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = asyncio.run(migrated_sqlite(MIGRATIONS))
    asyncio.run(_with(url, _write_under_a))
    monkeypatch.setenv("DATABASE_URL", url)
    # A forgotten key: A is not among the configured ones.
    monkeypatch.setenv("CONTACT_ENCRYPTION_KEY", KEY_B)
    monkeypatch.setenv("CUSTOMER_REF_KEY", REF_KEY)

    assert main(["rotate-contact-key"]) == 1

    assert "encrypted under none of the keys" in capsys.readouterr().err
    asyncio.run(_with(url, lambda db: _everything_readable_with(db, UNDER_A)))


async def test_rotation_on_postgresql_skips_values_already_under_the_new_key(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _write_under_a(database)
    both = Secrets.from_settings(
        contact_encryption_key=f"{KEY_B},{KEY_A}", customer_ref_key=REF_KEY
    )
    # One value already rewritten under B by the live service (a new tracking token): kept.
    async with database.unit_of_work() as uow:
        first = (await uow.session.scalars(select(Complaint.id).order_by(Complaint.id))).first()
        await uow.session.execute(
            update(Complaint)
            .where(Complaint.id == first)
            .values(tracking_token_enc=both.seal("token-from-the-service"))
        )

    rotation = await rotate_contact_key(database=database, secrets_=both, batch_size=1)

    assert rotation.rewritten == 9
    await _everything_readable_with(database, ONLY_B)
    async with database.sessions() as session:
        token = await session.scalar(
            select(Complaint.tracking_token_enc).where(Complaint.id == first)
        )
    assert ONLY_B.decrypt(token) == "token-from-the-service"
    again = await rotate_contact_key(database=database, secrets_=both, batch_size=1)
    assert again.rewritten == 0


async def test_a_value_the_service_changes_between_read_and_rewrite_is_kept(
    postgres_database: NewPostgresDatabase,
) -> None:
    """The rewrite is a compare-and-set per column: no lock, and no lost update of a value
    the live service wrote (under the current key) while the batch was being re-encrypted."""
    database = await postgres_database(MIGRATIONS)
    await _write_under_a(database)
    both = Secrets.from_settings(
        contact_encryption_key=f"{KEY_B},{KEY_A}", customer_ref_key=REF_KEY
    )
    complaints = SEALED_TABLES[0]
    async with database.sessions() as session:
        rows = await SealedRows(session).batch(complaints, after=None, limit=10)
    rewrites = [
        Rewrite(row.key, {c: (t, both.reseal(t)) for c, t in row.tokens.items() if t})
        for row in rows
    ]
    changed = rows[0].key[0]
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            update(Complaint)
            .where(Complaint.id == changed)
            .values(tracking_token_enc=both.seal("token-from-the-service"))
        )
    async with database.unit_of_work() as uow:
        await SealedRows(uow.session).rewrite(complaints, rewrites)

    async with database.sessions() as session:
        stored = {c.id: c for c in (await session.scalars(select(Complaint))).all()}
    assert ONLY_B.decrypt(stored[changed].tracking_token_enc) == "token-from-the-service"
    assert ONLY_B.decrypt(stored[changed].email_enc) == "zw@example.com"  # the rest rotated
    assert all(ONLY_B.decrypt(c.tracking_token_enc) for c in stored.values())


async def test_an_unreadable_value_raises_before_its_batch_is_written(
    postgres_database: NewPostgresDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    await _write_under_a(database)
    with pytest.raises(UnreadableValue):
        await rotate_contact_key(database=database, secrets_=ONLY_B, batch_size=10)
    await _everything_readable_with(database, UNDER_A)


async def _with(url: str, use: Callable[[Database], Awaitable[None]]) -> None:
    database = Database(url)
    try:
        await use(database)
    finally:
        await database.dispose()


def test_bad_keys_or_arguments_are_refused_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///unused.db")
    monkeypatch.setenv("CONTACT_ENCRYPTION_KEY", f"{KEY_B},not-a-key")
    monkeypatch.setenv("CUSTOMER_REF_KEY", REF_KEY)
    assert main(["rotate-contact-key"]) == 2
    assert "key 2 of 2 in CONTACT_ENCRYPTION_KEY" in capsys.readouterr().err
    monkeypatch.setenv("CONTACT_ENCRYPTION_KEY", KEY_B)
    assert main(["rotate-contact-key", "--batch-size", "0"]) == 2
