"""The console's migrations create exactly the tables its models declare (the runtime's
outbox, processed events and audit chain, and the live-updates read model)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from complaint_runtime.database import Base
from complaint_runtime.migrations import upgrade_to_head
from console.main import MIGRATIONS
from sqlalchemy import MetaData, create_engine, inspect


def _console_metadata() -> MetaData:
    import complaint_runtime.audit  # noqa: F401 (the audit chain, in every service)
    import console.live.db  # noqa: F401 (declares the tables)

    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for mapper in Base.registry.mappers:
        if mapper.class_.__module__.startswith(
            ("console.", "complaint_runtime.database", "complaint_runtime.audit")
        ):
            for table in mapper.tables:
                table.to_metadata(metadata)
    return metadata


async def test_models_and_migrations_agree(tmp_path: Path) -> None:
    await upgrade_to_head(MIGRATIONS, f"sqlite+aiosqlite:///{tmp_path}/console.db")
    engine = create_engine(f"sqlite:///{tmp_path}/console.db")
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        assert {"case_changes", "live_cases", "outbox_messages", "processed_events"} <= tables
        diff = compare_metadata(MigrationContext.configure(connection), _console_metadata())
    engine.dispose()
    assert diff == []
