"""The case file on the suite's PostgreSQL: migration 0007 applies (also over cases stored
before it), the customer message's ON CONFLICT, and the same search and pages as SQLite
for the same data (the terms table and the written-out keyset, no engine-specific SQL)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from complaint_contracts.base import EventData
from complaint_contracts.envelope import Envelope
from complaint_contracts.events import CustomerMessageReceived, SlaClockStarted, SlaWarning
from complaint_devinfra.postgres import PostgresEndpoint
from complaint_runtime.database import Database
from complaint_runtime.identity import Principal
from complaint_runtime.migrations import alembic_config, upgrade_to_head
from routing import messaging
from routing.bootstrap import build_dependencies
from routing.casefile import service as case_files
from routing.casefile.db import CaseMessage
from routing.casefile.domain.listing import CaseFilters
from routing.config import AgentConfig, RoutingSettings
from routing.db import Case
from routing.main import MIGRATIONS
from routing.staffing.service import seed_agents
from sqlalchemy import func, inspect, select, text

from .conftest import LEAK, PARCEL, REFUND, received

NewDatabase = Callable[[Path], Awaitable[Database]]
NewMigratedSqlite = Callable[[Path], Awaitable[str]]
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MANAGER = Principal("mgr-sun", frozenset({"manager"}))
TEXTS = [REFUND, LEAK, PARCEL, ("Refund missing", "The REFUND for order ORD-9 never arrived")]


def _id(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"case-file-{n}"))


async def _feed(handlers: Any, database: Database, data: EventData) -> None:
    envelope = Envelope(
        id=str(uuid.uuid4()),
        type=data.ce_type(),
        source="test",
        subject=data.complaint_id,  # type: ignore[attr-defined]
        time=T0,
        data=data,
        correlation_id="c",
        causation_id=None,
    )
    async with database.unit_of_work() as uow:
        await handlers[type(data)](uow, envelope)


async def _receive(handlers: Any, database: Database, n: int) -> None:
    subject, description = TEXTS[n % len(TEXTS)]
    await _feed(
        handlers,
        database,
        received(
            complaint_id=_id(n),
            reference=f"C-20261201-{n:06d}",
            subject=subject,
            description=description,
            order_ref=f"ORD-{n}",
            received_at=T0 - timedelta(minutes=n % 7),  # ties on purpose
        ),
    )
    if n % 3:  # a third without a clock
        await _feed(
            handlers,
            database,
            SlaClockStarted(
                complaint_id=_id(n),
                clock_id=f"clk-{n}",
                metric="resolution",
                target_seconds=3600,
                started_at=T0,
                due_at=T0 + timedelta(minutes=15 * (n % 4)),  # ties on purpose
                calendar_id="24x7",
                policy_id="default-P3",
                priority="P3",
            ),
        )


async def _references(database: Database, ids: list[str]) -> list[str]:
    async with database.sessions() as session:
        result = await session.execute(select(Case.complaint_id, Case.reference))
        rows: dict[str, str] = dict(result.all())
    return [rows[i] for i in ids]


async def _page_through(
    handlers: Any, database: Database, filters: CaseFilters, *, arriving_from: int
) -> list[str]:
    """Every page of 3, two new complaints arriving after each page."""
    seen: list[str] = []
    cursor = None
    arriving = arriving_from
    while True:
        page = await case_files.list_cases(
            database=database,
            principal=MANAGER,
            filters=filters,
            limit=3,
            cursor=cursor,
            now=T0,
        )
        seen += [row.case.complaint_id for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            return await _references(database, seen)
        for _ in range(2):
            await _receive(handlers, database, arriving)
            arriving += 1


async def _scenario(database: Database) -> dict[str, Any]:
    deps = build_dependencies(RoutingSettings(), database=database)
    handlers = messaging.handlers(deps)
    await seed_agents(database=database, agents=[AgentConfig(id="agent-li", team="billing")])
    for n in range(1, 15):
        await _receive(handlers, database, n)
    warning = SlaWarning(
        complaint_id=_id(2),
        clock_id="clk-2",
        metric="resolution",
        percent=75,
        reached_at=T0,
        due_at=T0 + timedelta(minutes=30),
        priority="P3",
    )
    await _feed(handlers, database, warning)

    async def search(q: str, **filters: Any) -> list[str]:
        page = await case_files.list_cases(
            database=database,
            principal=MANAGER,
            filters=CaseFilters(query=q, **filters),
            limit=100,
            now=T0,
        )
        return await _references(database, [row.case.complaint_id for row in page.rows])

    return {
        "退款": await search("退款"),
        "漏水": await search("漏水"),
        "热水器 漏水": await search("热水器 漏水"),
        "发票": await search("发票"),
        "refund arrived": await search("REFUND arrived"),
        "reference": await search("c-20261201-000005"),
        "order ref": await search("ord-7"),
        "at risk": await search("", sla=("at_risk",)),
        "pages": await _page_through(handlers, database, CaseFilters(), arriving_from=100),
    }


async def test_search_and_pages_are_the_same_on_postgresql_and_sqlite(
    postgres_database: NewDatabase, migrated_sqlite: NewMigratedSqlite
) -> None:
    sqlite = Database(await migrated_sqlite(MIGRATIONS))
    try:
        on_sqlite = await _scenario(sqlite)
    finally:
        await sqlite.dispose()
    on_postgres = await _scenario(await postgres_database(MIGRATIONS))

    assert on_postgres == on_sqlite
    refs = [f"C-20261201-{n:06d}" for n in range(15)]
    assert sorted(on_postgres["退款"]) == [refs[n] for n in (4, 8, 12)]
    assert sorted(on_postgres["漏水"]) == sorted(on_postgres["热水器 漏水"])
    assert sorted(on_postgres["漏水"]) == [refs[n] for n in (1, 5, 9, 13)]
    assert on_postgres["发票"] == []
    assert sorted(on_postgres["refund arrived"]) == [refs[n] for n in (3, 7, 11)]
    assert on_postgres["reference"] == [refs[5]]
    assert on_postgres["order ref"] == [refs[7]]
    assert on_postgres["at risk"] == [refs[2]]
    pages = on_postgres["pages"]
    assert len(pages) == len(set(pages))
    assert set(refs[1:]) <= set(pages)
    # the first page: the earliest due time first (T0: 4 and 8), ties by received time
    # (4 came 4 minutes before T0, 8 one minute), then the next due time (15 min: 13 first)
    assert pages[:3] == [refs[n] for n in (4, 8, 13)]


async def test_a_customer_message_is_stored_once_on_postgresql(
    postgres_database: NewDatabase,
) -> None:
    database = await postgres_database(MIGRATIONS)
    handlers = messaging.handlers(build_dependencies(RoutingSettings(), database=database))
    await _receive(handlers, database, 1)
    message = CustomerMessageReceived(
        complaint_id=_id(1),
        message_id="msg-1",
        channel="app",
        customer_ref="cr_1",
        text="any news?",
        received_at=T0,
    )
    await asyncio.gather(*(_feed(handlers, database, message) for _ in range(2)))
    await _feed(handlers, database, message)
    async with database.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(CaseMessage))
    assert count == 1


async def _migrate_over_an_old_case(url: str) -> dict[str, Any]:
    """Migrate to 0006, store a case as routing did then, migrate to head; the case."""
    await asyncio.to_thread(command.upgrade, alembic_config(MIGRATIONS, url), "0006")
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO cases (complaint_id, reference, status, channel, customer_ref,"
                    " tier, language, category, confidence, priority, emotion, rules_fired,"
                    " received_at, updated_at, reopen_count, escalation_level) VALUES"
                    " ('old', 'C-1', 'assigned', 'web', 'cr', 'standard', 'zh-CN', 'other', 1,"
                    " 'P3', 'blue', '[]', :at, :at, 0, 0)"
                ),
                {"at": T0},
            )
        await upgrade_to_head(MIGRATIONS, url)
        async with database.engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        async with database.sessions() as session:
            case = await session.get(Case, "old")
            assert case is not None
            return {
                "tables": tables,
                "case": (case.last_activity_at, case.sla_due_at, case.sla_breached),
            }
    finally:
        await database.dispose()


async def test_migration_0007_applies_over_existing_cases_on_postgresql(
    local_postgres: PostgresEndpoint,
) -> None:
    name = f"t_{uuid.uuid4().hex[:16]}"
    url = await local_postgres.create_database_async(name)
    try:
        migrated = await _migrate_over_an_old_case(url)
    finally:
        await local_postgres.drop_database_async(name)
    assert {"case_files", "case_messages", "case_sla_clocks", "case_search_terms"} <= migrated[
        "tables"
    ]
    assert migrated["case"] == (T0, None, False)


async def test_migration_0007_applies_over_existing_cases_on_sqlite_and_reverts(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'routing.db'}"
    migrated = await _migrate_over_an_old_case(url)
    assert "case_files" in migrated["tables"]
    assert migrated["case"] == (T0, None, False)
    config = alembic_config(MIGRATIONS, url)
    await asyncio.to_thread(command.downgrade, config, "0006")
    await asyncio.to_thread(command.upgrade, config, "head")
