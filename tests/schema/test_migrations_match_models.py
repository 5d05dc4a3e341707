"""The tables each service's code declares are exactly what its migrations create.

Code moves between modules (a table's model is defined next to the capability that owns it),
schemas change only through a migration: Alembic's autogenerate comparison of the migrated
database with the service's models must find nothing to add, drop or alter.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from complaint_runtime.database import Base
from complaint_runtime.migrations import upgrade_to_head
from sqlalchemy import MetaData, create_engine

# Every module declaring tables, per service (the package that owns each table).
TABLE_MODULES = {
    "intake": [
        "intake.db",
        "intake.access.db",
        "intake.complaints.db",
        "intake.erasure.db",
        "intake.recovery.db",
    ],
    "routing": [
        "routing.db",
        "routing.assignment.db",
        "routing.canned_replies.db",
        "routing.casefile.db",
        "routing.categories.db",
        "routing.duplicates.db",
        "routing.tasks.db",
        "routing.triage.db",
    ],
    "sla_watch": [
        "sla_watch.db",
        "sla_watch.calendars.db",
        "sla_watch.policies.db",
        "sla_watch.recompute.db",
    ],
    "feedback": ["feedback.db", "feedback.nps.db"],
    "notify": [
        "notify.deliveries.db",
        "notify.teams.db",
        "notify.webhooks.db",
        "notify.replies.db",
        "notify.suppressions.db",
    ],
    "console": ["console.live.db"],
}
# The outbox, processed_events and audit_chain tables, in every service's database.
RUNTIME_MODULES = ("complaint_runtime.database", "complaint_runtime.audit")


def _service_metadata(service: str) -> MetaData:
    """The service's own tables: every service registers on the one declarative base, and
    the test process imports them all."""
    for module in TABLE_MODULES[service]:
        importlib.import_module(module)
    owners = (f"{service}.", *RUNTIME_MODULES)
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for mapper in Base.registry.mappers:
        if mapper.class_.__module__.startswith(owners):
            for table in mapper.tables:
                table.to_metadata(metadata)
    return metadata


@pytest.mark.parametrize("service", sorted(TABLE_MODULES))
async def test_models_and_migrations_agree(service: str, tmp_path: Path) -> None:
    migrations = importlib.import_module(f"{service}.main").MIGRATIONS
    await upgrade_to_head(migrations, f"sqlite+aiosqlite:///{tmp_path}/schema.db")
    metadata = _service_metadata(service)
    assert {"outbox_messages", "processed_events"} <= set(metadata.tables)
    engine = create_engine(f"sqlite:///{tmp_path}/schema.db")
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []
