"""The batch contact lookup answers, complaint for complaint, exactly what the single one
does (contacts, link, zone, the running clocks' due times, whether clocks are expected),
from one statement that reads only the clock events of the history; on SQLite and on the
suite's PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from complaint_contracts.events import (
    ComplaintAssigned,
    ComplaintDuplicateLinked,
    SlaClockPaused,
)
from complaint_runtime.database import Database
from cryptography.fernet import Fernet
from intake.bootstrap import build_dependencies
from intake.complaints import contacts
from intake.complaints import service as complaints
from intake.config import IntakeSettings
from intake.main import MIGRATIONS
from sqlalchemy import event

from .conftest import Intake, post, project
from .test_intake_contact_card_promises import DUE, OTHER, _started

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]
UNKNOWN = "0195f3c2-7a10-7c4e-9b2d-3f6a8e1d2c40"


@pytest.fixture
async def pg_intake(postgres_database: NewPostgresDatabase) -> Intake:
    database = await postgres_database(MIGRATIONS)
    settings = IntakeSettings(
        database_url=database.url,
        contact_encryption_key=Fernet.generate_key().decode(),
        customer_ref_key="ref-key-for-intake-tests-0123456789abcdef",
    )
    return Intake(build_dependencies(settings, database))  # dropped by postgres_database


async def _lookup(intake: Intake, ids: list[str]) -> contacts.ContactLookup:
    return await contacts.contact_cards(
        database=intake.database,
        secrets_=intake.deps.secrets,
        complaint_ids=ids,
        public_base_url="http://intake",
        organisation_timezone="Asia/Shanghai",
    )


async def _single(intake: Intake, complaint_id: str) -> complaints.ContactDetails:
    return await complaints.contact_card(
        database=intake.database,
        secrets_=intake.deps.secrets,
        complaint_id=complaint_id,
        public_base_url="http://intake",
        organisation_timezone="Asia/Shanghai",
    )


async def _three_kinds(intake: Intake) -> list[str]:
    """A complaint with clocks (one running, one paused) and an assignee, one without any
    clock yet, and a duplicate (no clocks expected)."""
    clocked = (await post(intake))["id"]
    await project(intake, _started(clocked, "first_response", DUE), source="sla-watch")
    await project(intake, _started(clocked, "resolution", DUE + timedelta(hours=22)), source="x")
    await project(
        intake,
        ComplaintAssigned(
            complaint_id=clocked, team="billing", assignee="agent-li", actor="routing"
        ),
        source="routing",
    )
    await project(
        intake,
        SlaClockPaused(
            complaint_id=clocked,
            clock_id="clock-resolution",
            metric="resolution",
            paused_at=DUE - timedelta(minutes=30),
            elapsed_seconds=5400,
        ),
        source="sla-watch",
    )
    fresh = (await post(intake, subject="没有时钟"))["id"]
    duplicate = (await post(intake, subject="又是退款"))["id"]
    await project(
        intake,
        ComplaintDuplicateLinked(
            complaint_id=duplicate,
            duplicate_of=OTHER,
            matched_on=("same_order_ref",),
            similarity=1.0,
            actor="routing",
        ),
        source="routing",
    )
    return [clocked, fresh, duplicate]


async def _check_same_as_single(intake: Intake) -> None:
    ids = await _three_kinds(intake)
    engine = intake.database.engine.sync_engine
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        lookup = await _lookup(intake, [ids[2], UNKNOWN, *ids, "x" * 40])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1, statements
    assert lookup.not_found == (UNKNOWN, "x" * 40)
    assert [c.complaint_id for c in lookup.found] == [ids[2], ids[0], ids[1]]
    assert list(lookup.found) == [await _single(intake, i) for i in (ids[2], ids[0], ids[1])]
    clocked = lookup.found[1]
    assert (clocked.first_response_due_at, clocked.resolution_due_at) == (DUE, None)
    assert (clocked.team, clocked.assignee, clocked.clocks_expected) == (
        "billing",
        "agent-li",
        False,
    )
    assert (lookup.found[2].clocks_expected, lookup.found[0].clocks_expected) == (True, False)
    assert lookup.found[0].received_at.tzinfo is not None
    assert lookup.found[0].received_at <= datetime.now(UTC)


async def test_the_batch_answers_what_the_single_lookup_answers(intake: Intake) -> None:
    await _check_same_as_single(intake)


async def test_the_batch_answers_what_the_single_lookup_answers_on_postgresql(
    pg_intake: Intake,
) -> None:
    await _check_same_as_single(pg_intake)


async def test_an_empty_lookup_reads_nothing_and_the_bound_holds(intake: Intake) -> None:
    assert await _lookup(intake, []) == contacts.ContactLookup(found=(), not_found=())
    with pytest.raises(ValueError, match="at most 100"):
        await _lookup(intake, [f"id-{n}" for n in range(101)])
