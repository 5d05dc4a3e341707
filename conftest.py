"""The suite's three tiers, decided by what a test needs, and the ``postgres_database``
fixture of the db tier.

- **unit** (``make test-unit``): pure and in-process, no external process at all (SQLite in
  a temporary directory stands in for the database where a test needs one);
- **db** (``make test-db``): repositories and use cases on the suite's real PostgreSQL
  (``SKIP LOCKED``, advisory locks, ``ON CONFLICT``);
- **integration** (``make test-integration``): real Kafka, PostgreSQL and the services as
  processes, and tests that run another program (Node.js, kustomize, a broker of their own).
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from complaint_devinfra.postgres import PostgresEndpoint
from complaint_runtime.database import Database
from complaint_runtime.migrations import upgrade_to_head
from sqlalchemy import text as sql_text

# Fixtures that start, or stand for, another process. ``fixturenames`` holds every fixture a
# test depends on, also indirectly: ``platform_infra`` is left out because PostgreSQL alone
# (the db tier) depends on it too.
INTEGRATION_FIXTURES = frozenset(
    {"local_kafka", "platform", "kustomize", "rendered", "validate", "local_pg"}
)
DB_FIXTURES = frozenset({"local_postgres", "postgres_database"})
INTEGRATION_DIRS = ("/tests/integration/", "/shared/devinfra/tests/")

NewPostgresDatabase = Callable[[Path], Awaitable[Database]]
NewMigratedSqlite = Callable[[Path], Awaitable[str]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        needs = set(getattr(item, "fixturenames", ()))
        path = str(item.path)
        if needs & INTEGRATION_FIXTURES or any(part in path for part in INTEGRATION_DIRS):
            item.add_marker(pytest.mark.integration)
        elif needs & DB_FIXTURES:
            item.add_marker(pytest.mark.db)


@pytest.fixture
async def postgres_database(
    local_postgres: PostgresEndpoint,
) -> AsyncIterator[NewPostgresDatabase]:
    """``await postgres_database(MIGRATIONS)``: a fresh database on the suite's PostgreSQL,
    migrated to head with the given Alembic directory; dropped after the test."""
    created: list[tuple[str, Database]] = []

    async def make(migrations: Path) -> Database:
        name = f"t_{uuid.uuid4().hex[:16]}"
        url = await local_postgres.create_database_async(name)
        await upgrade_to_head(migrations, url)
        database = Database(url, pool_size=4)
        created.append((name, database))
        return database

    yield make
    for name, database in created:
        await database.dispose()
        await local_postgres.drop_database_async(name)


@pytest.fixture(scope="session")
def _migrated_sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """One SQLite file per migrations directory, migrated once per test session."""
    return {}


@pytest.fixture
async def migrated_sqlite(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _migrated_sqlite_templates: dict[Path, Path],
) -> NewMigratedSqlite:
    """``url = await migrated_sqlite(MIGRATIONS)``: a fresh SQLite database in the test's
    directory, as the service's real migrations leave it (a copy of a file migrated once
    per session: the migrations themselves, seed data included, run once, not per test)."""

    async def make(migrations: Path) -> str:
        template = _migrated_sqlite_templates.get(migrations)
        if template is None:
            template = tmp_path_factory.mktemp("migrated") / "template.db"
            await upgrade_to_head(migrations, f"sqlite+aiosqlite:///{template}")
            _migrated_sqlite_templates[migrations] = template
        target = tmp_path / f"migrated-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(template, target)  # the migration's engine closed: no WAL left over
        return f"sqlite+aiosqlite:///{target}"

    return make


FindLeftovers = Callable[[Database, "list[str]"], Awaitable["list[str]"]]


def _texts(value: object) -> list[str]:
    """The text a column value holds, as a reader would see it: bytes decoded, JSON also
    read back (``\\uXXXX`` escapes of non-ASCII text are not what a scan should miss)."""
    if isinstance(value, bytes | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str | dict | list):
        return []
    texts = [value] if isinstance(value, str) else []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return texts
    return [*texts, json.dumps(value, ensure_ascii=False)]


@pytest.fixture
def leftovers() -> FindLeftovers:
    """``await leftovers(database, markers)``: every ``table.column: marker`` where a text,
    JSON or bytes value of any table of the database's schema still holds one of
    ``markers`` (the erasure tests: nothing of an erased customer may remain)."""

    async def find(database: Database, markers: list[str]) -> list[str]:
        found: set[str] = set()
        async with database.sessions() as session:
            tables = await session.scalars(
                sql_text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            for table in sorted(tables):
                # The names come from the catalogue, not from input.
                rows = await session.execute(sql_text(f'SELECT * FROM "{table}"'))  # noqa: S608
                for row in rows.mappings():
                    for column, value in row.items():
                        for text in _texts(value):
                            found |= {f"{table}.{column}: {m}" for m in markers if m in text}
        return sorted(found)

    return find
